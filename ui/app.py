"""Starts the Qt application: environment, fonts, the window (full screen unless windowed)."""

from __future__ import annotations

import os
import sys

from ui.services import UiServices


def prepare_environment(*, keyboard: bool) -> None:
    """Set what Qt reads at start-up: the embedded keyboard's input method."""
    if keyboard:
        os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")
        # Embedded in our window, never a separate desktop keyboard window.
        os.environ.setdefault("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1")


def run(services: UiServices, *, windowed: bool, keyboard: bool = True) -> int:
    """Show the kiosk and run the event loop until the window closes."""
    prepare_environment(keyboard=keyboard)
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    from ui.theme import load_fonts

    app = QApplication.instance() or QApplication(sys.argv)
    family = load_fonts()
    QApplication.setFont(QFont(family, 14))
    window = MainWindow(services, family=family)
    if windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.showFullScreen()
    code = app.exec()
    window.runner.wait()
    return int(code)
