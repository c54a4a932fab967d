"""A real kiosk window (offscreen) in training mode on a temporary data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.container import build_ui
from app.settings import Settings
from tests.devices.conftest import pcscd  # noqa: F401 - the fixture, for the real PC/SC stack
from ui.main_window import MainWindow
from ui.theme import load_fonts

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, pcscd: None) -> Iterator[MainWindow]:  # noqa: F811
    """The kiosk window, 1280×800, signed out, training mode (agent « formation », PIN 0000),
    with the simulated CNIe (CAN 123456) on the virtual reader of the real pcscd."""
    family = load_fonts()
    QApplication.setFont(QFont(family, 14))
    services, container = build_ui(Settings(data_dir=tmp_path), training=True)
    win = MainWindow(services, family=family, idle_ms=60_000, grace_ms=5_000)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitUntil(lambda: win.runner.idle and bool(win.signin._buttons), timeout=10_000)
    yield win
    win.runner.wait()
    container.close()
