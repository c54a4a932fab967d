"""Signing in while the kiosk starts (issue 18): the keypad works from the first frame, the
services load meanwhile, and only a right PIN opens the home screen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from app.container import Container, build_ui
from app.settings import Settings
from ui.main_window import MainWindow
from ui.services import UiServices
from ui.theme import load_fonts


@pytest.fixture
def starting(qtbot: QtBot) -> MainWindow:
    """The window as the kiosk shows it at once: the keypad, no services yet."""
    family = load_fonts()
    QApplication.setFont(QFont(family, 14))
    window = MainWindow(None, family=family, training=True)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


@pytest.fixture
def services(tmp_path: Path) -> Iterator[tuple[UiServices, Container]]:
    """What the start-up job builds (training mode: the agent « formation », PIN 0000)."""
    built = build_ui(Settings(data_dir=tmp_path), training=True, sync=False)
    yield built
    built[1].close()


def _tap(window: MainWindow, *keys: str) -> None:
    """Tap the keypad's keys (« 0 »…« 9 », « ⌫ », « OK ») one after the other."""
    for key in keys:
        next(b for b in window.signin.findChildren(QPushButton) if b.text() == key).click()


def test_a_right_pin_confirmed_while_starting_opens_home_once_loaded(
    qtbot: QtBot, starting: MainWindow, services: tuple[UiServices, Container]
) -> None:
    _tap(starting, *"0000", "OK")
    # Nothing to check it against yet: said, and the home screen is not shown.
    assert starting.stack.currentWidget() is starting.signin
    assert "démarre" in starting.signin.notice.text()
    starting.attach(services[0])
    qtbot.waitUntil(lambda: starting.stack.currentWidget() is starting.home, timeout=10_000)
    assert starting.agent is not None and starting.agent.identifiant == "formation"
    starting.runner.wait()


def test_a_wrong_pin_confirmed_while_starting_is_refused_once_loaded(
    qtbot: QtBot, starting: MainWindow, services: tuple[UiServices, Container]
) -> None:
    _tap(starting, *"1234", "OK")
    starting.attach(services[0])
    qtbot.waitUntil(lambda: "incorrect" in starting.signin.error.text(), timeout=10_000)
    assert starting.stack.currentWidget() is starting.signin
    assert starting.signin.notice.text() == ""
    # The right one then, checked while typed (from the fourth digit) and confirmed.
    _tap(starting, *"0000", "OK")
    qtbot.waitUntil(lambda: starting.stack.currentWidget() is starting.home, timeout=10_000)
    starting.runner.wait()


def test_a_pin_typed_then_corrected_is_checked_as_confirmed(
    qtbot: QtBot, starting: MainWindow, services: tuple[UiServices, Container]
) -> None:
    starting.attach(services[0])
    qtbot.waitUntil(lambda: bool(starting.signin._buttons), timeout=10_000)
    _tap(starting, *"00001")  # a digit too many: the check of « 00001 » says nothing
    qtbot.waitUntil(lambda: starting.runner.idle, timeout=10_000)
    _tap(starting, "⌫", "OK")
    qtbot.waitUntil(lambda: starting.stack.currentWidget() is starting.home, timeout=10_000)
    starting.runner.wait()


# ------------------------------------------- what the home screen does not wait for (issue 18)


def test_the_later_start_up_work_waits_for_the_home_screen(
    qtbot: QtBot, starting: MainWindow, services: tuple[UiServices, Container]
) -> None:
    asked: list[str] = []
    starting.attach(replace(services[0], start_later=lambda: asked.append("plus tard")))
    qtbot.waitUntil(lambda: bool(starting.signin._buttons), timeout=10_000)
    _tap(starting, *"0000")
    qtbot.waitUntil(lambda: starting.runner.idle, timeout=10_000)
    assert asked == []  # the sign-in screen, its agents listed, a PIN typed: not yet
    _tap(starting, "OK")
    qtbot.waitUntil(lambda: asked == ["plus tard"], timeout=10_000)
    assert starting.stack.currentWidget() is starting.home
    starting.lock()
    _tap(starting, *"0000", "OK")  # a second sign-in starts nothing again
    qtbot.waitUntil(lambda: starting.stack.currentWidget() is starting.home, timeout=10_000)
    starting.runner.wait()
    assert asked == ["plus tard"]


def test_the_later_start_up_work_runs_even_if_no_one_signs_in(
    qtbot: QtBot, services: tuple[UiServices, Container]
) -> None:
    window = MainWindow(None, family=load_fonts(), training=True, later_ms=50)
    qtbot.addWidget(window)
    window.show()
    asked: list[str] = []
    window.attach(replace(services[0], start_later=lambda: asked.append("plus tard")))
    qtbot.waitUntil(lambda: asked == ["plus tard"], timeout=10_000)
    assert window.stack.currentWidget() is window.signin
    window.runner.wait()


def test_a_screen_closed_before_its_focus_turn_comes_says_nothing(qtbot: QtBot) -> None:
    """The sign-in's focus waits for the next turn of the loop; a window closed in between
    (the kiosk leaving, a test's window torn down) used to meet a deleted screen there, and
    the error surfaced in whatever ran next. The turn is now the screen's own, dropped with it."""
    import shiboken6

    from kiosk.security.agents import AgentInfo
    from ui.i18n import Translator
    from ui.screens.signin import SignInScreen
    from ui.tasks import TaskRunner

    screen = SignInScreen(None, TaskRunner(), Translator())
    screen.show()
    screen._show_agents([AgentInfo(1, "formation", "Agent de formation", "agent")])
    shiboken6.delete(screen)
    qtbot.wait(50)  # the turn of the loop that would have run the focus: nothing raised
