"""Starts the Qt application: environment, fonts, the window (full screen unless windowed).

The window paints first; the services (database, procedure catalogue, PDF engine: the slow
imports and the migrations) are built on a worker thread and attached when ready, so the agent
sees the sign-in keypad at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.services import UiServices


def prepare_environment(*, keyboard: bool) -> None:
    """Set what Qt reads at start-up: the embedded keyboard's input method."""
    if keyboard:
        os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")
        # Embedded in our window, never a separate desktop keyboard window.
        os.environ.setdefault("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1")


def start(
    build: Callable[[], UiServices],
    *,
    windowed: bool,
    keyboard: bool = True,
    training: bool = False,
) -> MainWindow:
    """Create the application and show the window; the services are built once the loop runs."""
    prepare_environment(keyboard=keyboard)
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    QApplication.instance() or QApplication(sys.argv)
    # The on-screen keyboard comes up on the first tap in a field through its focus hook
    # (ui/widgets/keyboard.py), not through a style: a proxy style cost ~8 ms before the paint.
    from ui.theme import load_fonts

    family = load_fonts()
    QApplication.setFont(QFont(family, 14))
    window = MainWindow(None, family=family, training=training)
    if windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.showFullScreen()
    # Build once the first frame is painted: the imports hold the GIL and would delay it. A
    # window that is never painted (hidden, minimised) still gets its services after a second.
    started: list[bool] = []

    def begin() -> None:
        if not started:
            started.append(True)
            window.runner.run(build, on_done=window.attach, on_error=window.startup_failed)

    window.first_painted.connect(begin)
    QTimer.singleShot(1000, begin)
    return window


def run(
    build: Callable[[], UiServices],
    *,
    windowed: bool,
    keyboard: bool = True,
    training: bool = False,
) -> int:
    """Show the kiosk, build its services off the UI thread, run until the window closes."""
    window = start(build, windowed=windowed, keyboard=keyboard, training=training)
    from PySide6.QtWidgets import QApplication

    code = QApplication.exec()
    window.runner.wait()
    return int(code)
