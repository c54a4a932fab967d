"""No widget of the kiosk is ever shown before it has a parent: it would open as a window of its
own over the kiosk and take the keyboard focus from it for good (found twice: a label of the
identity panel, then the follow-up's letter buttons, each time by a tap that no longer reached
the CAN box). Every screen is built and visited, in French and in Arabic, with every window Qt
shows recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.container import build_ui
from app.settings import Settings
from tests.devices.conftest import pcscd  # noqa: F401 - the fixture, for the real PC/SC stack
from tests.support import fill, sign_mandate
from tests.ui.driver import Driver
from ui.main_window import MainWindow
from ui.theme import load_fonts


class _Windows(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and getattr(watched, "isWindow", lambda: False)():
            name = watched.metaObject().className()
            if name not in {"MainWindow", "QQuickWidget", "QMenu", "QToolTip", "QTipLabel"}:
                self.shown.append(f"{name} {watched.objectName()!r}")
        return False


def test_every_screen_is_built_and_shown_without_a_window_of_its_own(
    qtbot: QtBot,
    tmp_path: Path,
    pcscd: None,  # noqa: F811
) -> None:
    app = QApplication.instance()
    assert app is not None
    watcher = _Windows()
    app.installEventFilter(watcher)
    try:
        family = load_fonts()
        QApplication.setFont(QFont(family, 14))
        services, container = build_ui(Settings(data_dir=tmp_path), training=True, sync=False)
        window = MainWindow(services, family=family, idle_ms=600_000, grace_ms=5_000)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitUntil(lambda: window.runner.idle and bool(window.signin._buttons), timeout=10_000)
        driver = Driver(qtbot, window)
        driver.sign_in()
        dossiers = services.dossiers
        reference = dossiers.create("changement_adresse", training=True).reference
        fill(dossiers, reference, services.catalog.latest("changement_adresse"))
        sign_mandate(container.store, reference)
        for lang in ("fr", "ar"):
            window.tr_.set_language(lang)
            visits: tuple[Callable[[], None], ...] = (
                lambda: window._open_card(reference),
                lambda: window._resume(reference),
                lambda: window._documents(reference),
                lambda: window._consent(reference),
                lambda: window._review(reference),
                window._follow_up,
                lambda: window._open_from_worklist(reference),
                window._go_home,
            )
            for visit in visits:
                visit()
                driver.settle()
        window.runner.wait()
        container.close()
    finally:
        app.removeEventFilter(watcher)
    assert watcher.shown == []
