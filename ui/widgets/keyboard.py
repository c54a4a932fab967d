"""The on-screen keyboard embedded at the bottom of the window (Qt Virtual Keyboard).

Enabled when the input method is ``qtvirtualkeyboard`` (set by ``ui.app`` before the
application starts). It appears when a text field takes focus and hides when none has it;
the screens keep the focused field visible above it.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Q_ARG, QMetaObject, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtQuickWidgets import QQuickWidget
from PySide6.QtWidgets import QWidget

from kiosk.config import assets_dir

KEYBOARD_LOCALES = {"fr": "fr_FR", "en": "en_GB", "ar": "ar_AR"}


def keyboard_enabled() -> bool:
    """Whether the embedded keyboard input method is configured for this process."""
    return os.environ.get("QT_IM_MODULE") == "qtvirtualkeyboard"


class KeyboardPanel(QQuickWidget):
    """The keyboard, as a widget the main window lays out under the screens."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Never take focus: the text field being typed in must keep it.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setResizeMode(QQuickWidget.ResizeMode.SizeRootObjectToView)
        self.setSource(QUrl.fromLocalFile(str(assets_dir() / "qml" / "keyboard.qml")))
        self.setMinimumHeight(280)
        self.hide()
        method = QGuiApplication.inputMethod()
        method.visibleChanged.connect(self._follow)

    def _follow(self) -> None:
        self.setVisible(QGuiApplication.inputMethod().isVisible())

    def set_language(self, lang: str) -> None:
        """Switch the layout (AZERTY French, English, Arabic)."""
        root = self.rootObject()
        if root is not None:
            QMetaObject.invokeMethod(
                root, "setLocale", Q_ARG("QVariant", KEYBOARD_LOCALES.get(lang, "fr_FR"))
            )
