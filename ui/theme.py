"""The look of the kiosk: large touch targets, a text-size control and a high-contrast theme.

Sizes derive from the screen's physical density so that every touch target is at least 9 mm
high whatever the tablet; the style sheet is regenerated when the person changes text size or
contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QGuiApplication
from PySide6.QtWidgets import QWidget

MIN_TARGET_MM = 9.0
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
FONT_FAMILY = "DejaVu Sans"


def load_fonts() -> str:
    """DejaVu Sans (French and Arabic glyphs): the system's if fontconfig has it (a few ms),
    else registered from its files (parsing them costs ~5 ms more at start). Returns the family."""
    if QFontInfo(QFont(FONT_FAMILY)).family() == FONT_FAMILY:
        return FONT_FAMILY
    families: list[str] = []
    for path in FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(path)
        if font_id >= 0:
            families += QFontDatabase.applicationFontFamilies(font_id)
    return families[0] if families else QFont().defaultFamily()


def restyle(widget: QWidget, name: str) -> None:
    """Give ``widget`` the style of ``name`` (« error », « saved », « » …) now: Qt applies a
    style sheet's ``#name`` rules when the widget is polished, not when its name changes (a
    result found after an error was drawn in the error's red)."""
    if widget.objectName() != name:
        widget.setObjectName(name)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def min_target_px() -> int:
    """9 mm in pixels on the primary screen (never below 48 px)."""
    screen = QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch() if screen is not None else 96.0
    return max(48, round(MIN_TARGET_MM / 25.4 * dpi))


@dataclass(frozen=True)
class Look:
    """What the person chose: a text scale and normal or high contrast."""

    scale: float = 1.0
    high_contrast: bool = False

    def bigger(self) -> Look:
        """One step larger text (up to twice the base size)."""
        return Look(min(2.0, round(self.scale + 0.25, 2)), self.high_contrast)

    def smaller(self) -> Look:
        """One step smaller text (down to the base size)."""
        return Look(max(1.0, round(self.scale - 0.25, 2)), self.high_contrast)

    def toggled_contrast(self) -> Look:
        """The same text size with the other contrast."""
        return Look(self.scale, not self.high_contrast)


def stylesheet(look: Look, family: str = FONT_FAMILY) -> str:
    """The application style sheet for ``look``."""
    base = round(18 * look.scale)
    # Targets grow by a quarter of the text's growth: a person who asks for larger text needs
    # to read it, not a bigger finger's room, and 1280×800 must still hold a screen at 2.0×.
    target = max(min_target_px(), round(56 * (1 + (look.scale - 1) / 4)))
    if look.high_contrast:
        bg, fg, panel, accent, accent_fg, muted, error, border = (
            "#000000",
            "#FFFFFF",
            "#000000",
            "#FFFF00",
            "#000000",
            "#FFFFFF",
            "#FF8080",
            "#FFFFFF",
        )
        # Grey on black (11:1) with a dashed outline: apart from the white, solid enabled ones.
        off_bg, off_fg, off_border = "#000000", "#BDBDBD", "#BDBDBD"
        # The focus: a thick yellow edge on black; cyan around a yellow (pressed) button.
        ring, ring_on_fill = "#FFFF00", "#00FFFF"
        ok, warning = "#80FF80", "#FFB060"
    else:
        bg, fg, panel, accent, accent_fg, muted, error, border = (
            "#F4F5F9",
            "#161616",
            "#FFFFFF",
            "#000091",
            "#FFFFFF",
            "#4A4A5A",
            "#B3001B",
            "#767689",  # field and panel borders: 4.5:1 on white, 4.1:1 on the page (≥ 3:1)
        )
        # Dark grey on light grey (7:1), a dashed outline (4.9:1 on the screen): readable, and
        # plainly not the blue of a button that can be pressed.
        off_bg, off_fg, off_border = "#E6E6EC", "#4A4A5A", "#6A6A7A"
        # The focus (Qt's style sheets ignore ``outline``): a thick near-black edge (17:1 on
        # the page) where the edge is blue, a yellow one inside a blue button (13:1).
        ring, ring_on_fill = "#161616", "#FFD400"
        ok, warning = "#18753C", "#B34000"
    return f"""
* {{ font-family: "{family}"; font-size: {base}px; color: {fg}; }}
QMainWindow, QWidget#screen, QStackedWidget {{ background: {bg}; }}
QFrame#panel {{ background: {panel}; border: 1px solid {border}; border-radius: 10px; }}
QLabel#title {{ font-size: {round(base * 1.6)}px; font-weight: bold; }}
QLabel#subtitle {{ font-size: {round(base * 1.2)}px; font-weight: bold; color: {accent if not look.high_contrast else fg}; }}
QLabel#muted {{ color: {muted}; }}
QLabel#error {{ color: {error}; font-weight: bold; }}
QLabel#saved {{ color: {muted}; font-size: {round(base * 0.85)}px; }}
QLabel#reference {{ font-family: "DejaVu Sans Mono"; font-size: {round(base * 2.4)}px; font-weight: bold; }}
QLabel#training {{
    background: #FFD400; color: #000000; font-weight: bold; padding: 6px;
    qproperty-alignment: AlignCenter;
}}
QLabel#badge {{ border: 1px solid {border}; border-radius: 8px; padding: 4px 10px; }}
QPushButton, QToolButton {{
    min-height: {target}px; min-width: {target}px; padding: 4px 18px;
    background: {panel}; border: 2px solid {accent if not look.high_contrast else fg}; border-radius: 10px;
}}
QPushButton#compact {{ padding: 4px 8px; }}
QPushButton#primary {{ background: {accent}; color: {accent_fg}; font-weight: bold; }}
QPushButton#tile {{ text-align: left; padding: 14px 20px; font-size: {round(base * 1.1)}px; }}
QPushButton#issue {{
    text-align: left; background: transparent; border: none; border-bottom: 2px solid {error};
    border-radius: 0; color: {error}; font-weight: bold;
}}
QPushButton#tile QLabel {{ font-size: {round(base * 1.1)}px; }}
QPushButton#tile QLabel:disabled {{ color: {off_fg}; }}
QPushButton:checked {{ background: {accent}; color: {accent_fg}; }}
QPushButton QLabel[on="true"] {{ color: {accent_fg}; }}
QPushButton QLabel:disabled {{ color: {off_fg}; }}
QPushButton:disabled, QPushButton#primary:disabled, QPushButton#tile:disabled,
QPushButton:checked:disabled, QToolButton:disabled {{
    background: {off_bg}; color: {off_fg}; border: 2px dashed {off_border}; font-weight: normal;
}}
QLabel#why {{ color: {muted}; font-size: {round(base * 0.95)}px; }}
QLabel#verdict_authentique, QLabel#verdict_non_verifie, QLabel#verdict_falsifie {{
    font-size: {round(base * 1.4)}px; font-weight: bold;
}}
QLabel#verdict_authentique {{ color: {ok}; }}
QLabel#verdict_non_verifie {{ color: {warning}; }}
QLabel#verdict_falsifie {{ color: {error}; }}
QLineEdit, QComboBox, QPlainTextEdit, QDateEdit {{
    min-height: {target}px; padding: 2px 10px; background: {panel};
    border: 2px solid {border}; border-radius: 8px;
}}
QLineEdit, QPlainTextEdit {{ placeholder-text-color: {muted}; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border-color: {error}; }}
QListWidget {{ background: {panel}; border: 2px solid {border}; }}
QTabBar::tab {{ min-height: {target}px; min-width: {target * 2}px; padding: 4px 18px; }}
QTabBar::tab:selected {{ background: {accent}; color: {accent_fg}; }}
QCheckBox {{ min-height: {target}px; border: 3px solid transparent; border-radius: 6px; }}
QCheckBox::indicator {{ width: {round(target * 0.6)}px; height: {round(target * 0.6)}px; }}
QListWidget::item {{ min-height: {target}px; padding: 4px 10px; }}
QScrollBar:vertical {{ width: {round(target * 0.5)}px; }}
QProgressBar {{ min-height: {round(target * 0.4)}px; border: 1px solid {border}; border-radius: 6px; text-align: center; }}
QProgressBar::chunk {{ background: {accent}; }}
QPushButton:focus, QToolButton:focus {{ border: 4px solid {ring}; padding: 2px 16px; }}
QPushButton#primary:focus, QPushButton:checked:focus {{
    border: 4px solid {ring_on_fill}; padding: 2px 16px;
}}
QPushButton#compact:focus {{ padding: 2px 6px; }}
QPushButton#tile:focus {{ padding: 12px 18px; }}
QPushButton#issue:focus {{ border: none; border-bottom: 4px solid {ring}; padding-bottom: 2px; }}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus, QDateEdit:focus {{
    border: 3px solid {accent}; padding: 1px 9px;
}}
QLineEdit[invalid="true"]:focus, QPlainTextEdit[invalid="true"]:focus {{ border-color: {error}; }}
QCheckBox:focus {{ border: 3px solid {ring}; }}
QListWidget:focus {{ border: 2px solid {accent}; }}
"""
