"""Leaving the kiosk for its maintenance console: a supervisor, their PIN again, journalled."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

import ui.app
from kiosk.security.agents import AgentError, AgentInfo
from kiosk.security.audit import AuditAction
from tests.ui.driver import Driver
from tests.ui.test_supervision import click, sign_in_as
from ui.app import EXIT_MAINTENANCE
from ui.main_window import MainWindow
from ui.services import UiServices


def left_entries(window: MainWindow) -> list[str]:
    audit = window.services.audit
    assert audit is not None
    return [
        str(e.detail.get("par"))
        for e in audit.entries(limit=50)
        if e.action == AuditAction.KIOSK_LEFT
    ]


def test_a_supervisor_leaves_the_kiosk_after_typing_their_pin_again(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.services.agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    driver = Driver(qtbot, window)
    sign_in_as(driver, "Cheffe Martin", "4321")
    click(window.home.supervision_button, driver)
    screen = window.supervision
    screen.tabs.setCurrentIndex(4)
    assert screen.tabs.tabText(4) == "Borne"
    assert "console de maintenance" in screen.quit_text.text()
    asked: list[bool] = []
    window.maintenance_requested.connect(lambda: asked.append(True))

    screen.quit_pin.setText("1111")  # a wrong PIN: the kiosk stays
    click(screen.quit_button, driver)
    assert screen.message.text() == "Identifiant ou code PIN incorrect."
    assert screen.quit_pin.text() == ""  # a PIN never stays on the screen
    assert not asked and left_entries(window) == []
    driver.screenshot("24-supervision-quitter")

    screen.quit_pin.setText("4321")
    with qtbot.waitSignal(window.maintenance_requested, timeout=10_000):
        click(screen.quit_button, driver)
    assert left_entries(window) == ["cheffe"]  # the journal says who left
    assert window.agent is not None
    screen.open(window.agent)  # as the supervision screen shows it next time
    driver.settle()
    screen.tabs.setCurrentIndex(2)
    click(screen.verify_button, driver)
    assert screen.verdict.text().startswith("Journal intact")
    assert any(
        "borne quittée pour la maintenance" in screen.journal.item(i).text()
        and "(cheffe)" in screen.journal.item(i).text()
        for i in range(screen.journal.count())
    )


def test_an_agent_cannot_leave_the_kiosk_even_on_the_supervisors_screen(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in("0000")  # « formation » is an ordinary agent
    agent = window.agent
    assert agent is not None and not agent.supervisor
    assert not window.home.supervision_button.isVisible()
    # Even if the screen were reached some other way, the use case refuses: the rule is there.
    screen = window.supervision
    screen.open(agent)
    asked: list[bool] = []
    window.maintenance_requested.connect(lambda: asked.append(True))
    screen.quit_pin.setText("0000")  # the agent's own, right PIN
    screen.quit_button.click()
    driver.settle()
    assert "Seul un superviseur" in screen.message.text()
    assert not asked and left_entries(window) == []


def test_the_service_checks_the_pin_as_the_sign_in_does(window: MainWindow) -> None:
    agents = window.services.agents
    chief = agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    for _ in range(2):
        with pytest.raises(AgentError, match="incorrect"):
            agents.leave_kiosk("9999", by=chief)
    with pytest.raises(AgentError, match="bloqué"):  # the third wrong PIN blocks the account
        agents.leave_kiosk("9999", by=chief)
    with pytest.raises(AgentError, match="bloqué"):  # and then not even the right one goes
        agents.leave_kiosk("4321", by=chief)
    assert left_entries(window) == []
    demoted = AgentInfo(chief.id, chief.identifiant, chief.nom, "agent")
    with pytest.raises(AgentError, match="Seul un superviseur"):
        agents.leave_kiosk("4321", by=demoted)


def test_leaving_ends_the_application_with_the_code_its_session_does_not_restart_on(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ui.app.run returns what `kiosk run` exits with (packaging/pn-kiosk.service)."""
    windows: list[MainWindow] = []
    start = ui.app.start

    def started(*args: object, **kwargs: object) -> MainWindow:
        window = start(*args, **kwargs)  # type: ignore[arg-type]
        windows.append(window)
        QTimer.singleShot(0, window.maintenance_requested.emit)
        return window

    def build() -> UiServices:
        raise RuntimeError("no services in this test")

    monkeypatch.setattr(ui.app, "start", started)
    # The process's own SIGTERM/SIGINT handlers are not for a test run to take over.
    monkeypatch.setattr(ui.app, "_quit_on_signals", lambda window: None)
    try:
        assert ui.app.run(build, windowed=True, keyboard=False) == EXIT_MAINTENANCE
    finally:
        for window in windows:
            window.close()
            window.deleteLater()
