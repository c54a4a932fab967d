"""The on-screen keyboard embedded at the bottom of the window (Qt Virtual Keyboard).

Enabled when the input method is ``qtvirtualkeyboard`` (set by ``ui.app`` before the
application starts). It appears when a text field takes focus and hides when none has it;
the screens keep the focused field visible above it.

Its layout follows the person's language, except in a field for data (a CAN, a plate, a name, a
postcode: every field whose input-method hints say Latin or digits). Data is typed in Latin
letters and digits whatever the screen's language, and Qt's Arabic layouts ignore
``ImhLatinOnly`` and type the digits ``١٢٣``: in such a field the keyboard shows a Latin layout
(the person's own, or the French one for Arabic), and only Latin layouts behind its globe key.
"""

from __future__ import annotations

from PySide6.QtCore import (
    Q_ARG,
    QCoreApplication,
    QEvent,
    QMetaObject,
    QObject,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QResizeEvent
from PySide6.QtQuickWidgets import QQuickWidget
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from kiosk.settings.paths import assets_dir

KEYBOARD_LOCALES = {"fr": "fr_FR", "en": "en_GB", "ar": "ar_AR"}
#: The layout for data in each language: a Latin one, French (the kiosk's own) where the
#: language's own layout is not Latin.
LATIN_KEYBOARD_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
#: Hints that make a field one for Latin data. Numbers too: Qt's Arabic digit pads type ١٢٣.
_LATIN_HINTS = (
    Qt.InputMethodHint.ImhLatinOnly
    | Qt.InputMethodHint.ImhDigitsOnly
    | Qt.InputMethodHint.ImhFormattedNumbersOnly
    | Qt.InputMethodHint.ImhDialableCharactersOnly
    | Qt.InputMethodHint.ImhPreferNumbers
)
#: The keyboard takes at most this share of the screen's height (300 px on a 1280 × 800 tablet).
MAX_SCREEN_SHARE = 0.375
KEYBOARD_BACKGROUND = "#2b2c2e"  # the default style's keyboard background


_RELEASES = {QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel}


def _types_with_keyboard(widget: QWidget | None) -> bool:
    """Whether the on-screen keyboard types into ``widget``."""
    return (
        isinstance(widget, QLineEdit | QPlainTextEdit)
        and not widget.isReadOnly()
        and widget.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    )


def keyboard_locales(lang: str, widget: QWidget | None) -> tuple[str, list[str]]:
    """The layout to show for typing into ``widget`` in ``lang``, and those the globe key offers."""
    if (
        widget is not None
        and _types_with_keyboard(widget)
        and widget.inputMethodHints() & _LATIN_HINTS
    ):
        return LATIN_KEYBOARD_LOCALES.get(lang, "fr_FR"), list(LATIN_KEYBOARD_LOCALES.values())
    return KEYBOARD_LOCALES.get(lang, "fr_FR"), list(KEYBOARD_LOCALES.values())


class KeyboardPanel(QQuickWidget):
    """The keyboard, as a widget the main window lays out under the screens."""

    #: True just before the keyboard comes up, False once it has gone.
    shown = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Never take focus: the text field being typed in must keep it.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setResizeMode(QQuickWidget.ResizeMode.SizeRootObjectToView)
        # Beside a narrowed keyboard (short screens), the same dark as the keyboard's own.
        self.setClearColor(QColor(KEYBOARD_BACKGROUND))
        self.setSource(QUrl.fromLocalFile(str(assets_dir() / "qml" / "keyboard.qml")))
        root = self.rootObject()
        if root is not None:
            # The keyboard's height follows its width (its keys keep their shape): follow it.
            root.implicitHeightChanged.connect(self._fit)
        self._fit()
        self.hide()
        self._waiting_release = False
        self._lang = "fr"
        self._locales: tuple[str, list[str]] = ("fr_FR", list(KEYBOARD_LOCALES.values()))
        method = QGuiApplication.inputMethod()
        method.visibleChanged.connect(self._follow)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        # Ask for the keyboard as soon as a text field takes focus, whatever the style says
        # (a style sheet replaces the style that would otherwise request it on the first tap).
        method = QGuiApplication.inputMethod()
        if _types_with_keyboard(new):
            self._show_layout_for(new)
            method.show()
        elif new is None or not isinstance(new, QLineEdit | QPlainTextEdit):
            method.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._waiting_release and event.type() in _RELEASES:
            self._waiting_release = False
            if app := QCoreApplication.instance():
                app.removeEventFilter(self)
            QTimer.singleShot(0, self, self._follow)  # once the button has taken the tap
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self, self._fit)  # once QML has laid the keys out for the width

    def _fit(self) -> None:
        root = self.rootObject()
        if root is None:
            self.setFixedHeight(240)
            return
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            root.setProperty("maxHeight", screen.availableGeometry().height() * MAX_SCREEN_SHARE)
        height = int(root.property("implicitHeight") or 0)
        self.setFixedHeight(max(160, height))

    def _follow(self) -> None:
        method = QGuiApplication.inputMethod()
        visible = method.isVisible()
        if visible and not _types_with_keyboard(QApplication.focusWidget()):
            # Qt asks for the keyboard on any tap in a focused field, even one that refuses
            # input methods (the PIN, typed on the sign-in screen's own keypad): send it back.
            method.hide()
            return
        finger_down = QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton
        if not visible and self.isVisible() and finger_down:
            # A finger is on a button (« Lire la carte », « Suivant ») that took the focus:
            # the keyboard going now would move the button from under it, and the tap would
            # be lost. It goes once the finger lifts, after the button has taken the tap.
            if not self._waiting_release and (app := QCoreApplication.instance()):
                self._waiting_release = True
                app.installEventFilter(self)
            return
        if visible == self.isVisible():
            return
        # Room is made before the keyboard comes and given back after it went (the window's
        # row of language buttons): with both on screen at once the column's minimum height
        # passes the screen's, and a window grows to its layout's minimum and never shrinks
        # back (1280 × 830 on a 800-pixel tablet, the keyboard's bottom row cut off).
        if visible:
            self.shown.emit(True)
            self.show()
        else:
            self.hide()
            self.shown.emit(False)

    def set_language(self, lang: str) -> None:
        """Switch the layout (AZERTY French, English, Arabic; Latin in a field for data)."""
        self._lang = lang
        self._show_layout_for(QApplication.focusWidget())

    def _show_layout_for(self, widget: QWidget | None) -> None:
        locales = keyboard_locales(self._lang, widget)
        root = self.rootObject()
        if root is None or locales == self._locales:
            return  # unchanged: a layout the person picked with the globe key stays
        self._locales = locales
        name, active = locales
        QMetaObject.invokeMethod(
            root, "setLocales", Q_ARG("QVariant", name), Q_ARG("QVariant", active)
        )
