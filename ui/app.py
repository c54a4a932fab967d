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

#: What :func:`run` returns when the agent asked for a restart (« Redémarrer la borne », after
#: the kiosk's enrolment): the caller starts the kiosk again, on its new settings.
RESTART = 75
#: The exit code when a supervisor leaves the kiosk for its maintenance console: the kiosk
#: session's unit restarts the kiosk after any other end, this one excepted
#: (``RestartPreventExitStatus=`` in packaging/pn-kiosk.service, docs/packaging.md). Not 1
#: (an error), 2 (a usage error), 64–78 (sysexits.h), 126 and up (the shell, signals) nor
#: 200 and up (systemd's own).
EXIT_MAINTENANCE = 42


def prepare_environment(*, keyboard: bool) -> bool:
    """Set what Qt reads at start-up: the embedded keyboard's input method.

    These are Qt's own variables, set for Qt before it starts (it reads no other way); the
    kiosk's settings never go through the environment (app/settings/). Returns whether the
    embedded keyboard is the input method (a session may have chosen another one).
    """
    if keyboard:
        os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")
        # Embedded in our window, never a separate desktop keyboard window.
        os.environ.setdefault("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1")
    return os.environ.get("QT_IM_MODULE") == "qtvirtualkeyboard"


def lighten_pyside_imports() -> None:
    """Make PySide6's check of every module imported after it read the file, not keep it.

    PySide6 (6.x) hooks ``import``: for each module imported after it, ``shibokensupport``
    asks ``inspect.getsource`` whether the module's text says « PySide6 » (to know which
    modules may switch its ``__feature__`` options, which the kiosk never uses). That puts the
    whole text of every module, split in lines, in ``linecache`` for good: some 760 modules
    of the services (SQLAlchemy, the PDF engine…), ~0.25 s of a cold start on one core and
    ~30 MB of memory (issue 18). The same question is answered here from the file's bytes,
    read and let go; a module without a ``.py`` file gets the same answer as before (no).
    Does nothing if this version of PySide6 has no such check. Call it once PySide6 is
    imported, before the services' imports.
    """
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return

    def uses_pyside(module: object) -> bool:
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if not isinstance(origin, str) or not origin.endswith(".py"):
            return False  # built in, compiled, frozen: inspect finds no source either
        try:
            with open(origin, "rb") as source:  # noqa: PTH123 - a path string from the spec
                return b"PySide6" in source.read()
        except OSError:
            return False

    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]


def start(
    build: Callable[[], UiServices],
    *,
    windowed: bool,
    keyboard: bool = True,
    training: bool = False,
) -> MainWindow:
    """Create the application and show the window; the services are built once the loop runs."""
    embedded_keyboard = prepare_environment(keyboard=keyboard)
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    lighten_pyside_imports()
    from ui.main_window import MainWindow

    QApplication.instance() or QApplication(sys.argv)
    # The on-screen keyboard comes up on the first tap in a field through its focus hook
    # (ui/widgets/keyboard.py), not through a style: a proxy style cost ~8 ms before the paint.
    from ui.theme import load_fonts

    family = load_fonts()
    QApplication.setFont(QFont(family, 14))
    window = MainWindow(None, family=family, training=training, keyboard=embedded_keyboard)
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

    _quit_on_signals(window)
    window.maintenance_requested.connect(lambda: QApplication.exit(EXIT_MAINTENANCE))
    code = QApplication.exec()
    window.runner.wait()
    return RESTART if window.restart_requested else int(code)


def _quit_on_signals(window: MainWindow) -> None:
    """SIGTERM (the session or the machine shutting down) and Ctrl-C end the kiosk as closing
    its window does: the services are closed (the sync stops between two sends, training mode's
    card and server stop). Python runs a signal handler only between two of its instructions:
    the signal also writes to a socket the Qt loop watches, so the loop wakes up to run it."""
    import contextlib
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier
    from PySide6.QtWidgets import QApplication

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: QApplication.quit())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def drain() -> None:
        with contextlib.suppress(BlockingIOError):
            reader.recv(64)

    notifier.activated.connect(drain)

    def close() -> None:
        reader.close()
        writer.close()

    # Both sockets live as long as the window (this connection holds them).
    window.destroyed.connect(close)
