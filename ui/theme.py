"""The look of the kiosk: large touch targets, a text-size control and a high-contrast theme.

Sizes derive from the screen's physical density so that every touch target is at least 9 mm
high whatever the tablet; the style sheet is regenerated when the person changes text size or
contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QGuiApplication

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
    target = max(min_target_px(), round(56 * look.scale))
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
            "#9A9AB0",
        )
        # Dark grey on light grey (7:1), a dashed outline (4.9:1 on the screen): readable, and
        # plainly not the blue of a button that can be pressed.
        off_bg, off_fg, off_border = "#E6E6EC", "#4A4A5A", "#6A6A7A"
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
QPushButton#primary {{ background: {accent}; color: {accent_fg}; font-weight: bold; }}
QPushButton#tile {{ text-align: left; padding: 14px 20px; font-size: {round(base * 1.1)}px; }}
QPushButton#issue {{
    text-align: left; background: transparent; border: none; border-bottom: 2px solid {error};
    border-radius: 0; color: {error}; font-weight: bold;
}}
QPushButton#tile QLabel {{ font-size: {round(base * 1.1)}px; }}
QPushButton#tile QLabel:disabled {{ color: {off_fg}; }}
QPushButton:checked {{ background: {accent}; color: {accent_fg}; }}
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
QPushButton:focus, QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus {{ outline: 3px solid {accent}; }}
QLineEdit, QComboBox, QPlainTextEdit, QDateEdit {{
    min-height: {target}px; padding: 2px 10px; background: {panel};
    border: 2px solid {border}; border-radius: 8px;
}}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border-color: {error}; }}
QListWidget {{ background: {panel}; border: 1px solid {border}; }}
QTabBar::tab {{ min-height: {target}px; min-width: {target * 2}px; padding: 4px 18px; }}
QTabBar::tab:selected {{ background: {accent}; color: {accent_fg}; }}
QCheckBox {{ min-height: {target}px; }}
QCheckBox::indicator {{ width: {round(target * 0.6)}px; height: {round(target * 0.6)}px; }}
QListWidget::item {{ min-height: {target}px; padding: 4px 10px; }}
QScrollBar:vertical {{ width: {round(target * 0.5)}px; }}
QProgressBar {{ min-height: {round(target * 0.4)}px; border: 1px solid {border}; border-radius: 6px; text-align: center; }}
QProgressBar::chunk {{ background: {accent}; }}
"""
