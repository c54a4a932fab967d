"""The supervision screen: a supervisor manages agents, the counter, the journal and the purge."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QListWidget, QPushButton
from pytestqt.qtbot import QtBot

from kiosk.security.agents import AgentError
from kiosk.security.audit import AuditAction
from tests.ui.driver import Driver
from ui.main_window import MainWindow


def sign_in_as(driver: Driver, name: str, pin: str) -> None:
    window = driver.w
    window.signin.refresh()
    driver.settle()
    button = next(b for b in window.signin._buttons if b.text() == name)
    button.click()
    driver.sign_in(pin)


def texts(widget: QListWidget) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())]


def click(button: QPushButton, driver: Driver) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    button.click()
    driver.settle()


def test_an_agent_does_not_see_supervision(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in("0000")  # « formation » is an ordinary agent
    assert window.stack.currentWidget() is window.home
    assert not window.home.supervision_button.isVisible()
    window._supervise()  # even if something asked for it
    assert window.stack.currentWidget() is window.home


def test_a_supervisor_unlocks_creates_configures_and_verifies(
    qtbot: QtBot, window: MainWindow
) -> None:
    services = window.services
    services.agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    for _ in range(3):  # the trainee mistypes their PIN three times: blocked
        with pytest.raises(AgentError):
            services.agents.sign_in("formation", "9999")
    driver = Driver(qtbot, window)
    sign_in_as(driver, "Cheffe Martin", "4321")
    assert window.home.supervision_button.isVisible()
    click(window.home.supervision_button, driver)
    screen = window.supervision
    assert window.stack.currentWidget() is screen

    rows = texts(screen.accounts)
    assert any("Agent de formation (formation)" in r and "bloqué jusqu'à" in r for r in rows)
    assert any("Cheffe Martin (cheffe)" in r and "superviseur" in r for r in rows)
    driver.screenshot("20-supervision-agents")
    screen.accounts.setCurrentRow(next(i for i, r in enumerate(rows) if "formation" in r))
    click(screen.unlock_button, driver)
    assert screen.message.text() == "Compte de Agent de formation débloqué."
    assert not any("bloqué" in r for r in texts(screen.accounts))
    assert services.agents.sign_in("formation", "0000").identifiant == "formation"

    screen.new_id.setText("lea")
    screen.new_name.setText("Léa Dubois")
    screen.new_pin.setText("12")  # too short: said plainly, nothing created
    click(screen.create_button, driver)
    assert "4 à 12 chiffres" in screen.message.text()
    assert screen.new_pin.text() == ""  # a PIN never stays on the screen
    screen.new_pin.setText("2468")
    click(screen.create_button, driver)
    assert screen.message.text() == "Compte de Léa Dubois créé."
    assert any("Léa Dubois (lea)" in r for r in texts(screen.accounts))

    screen.accounts.setCurrentRow(
        next(i for i, r in enumerate(texts(screen.accounts)) if "cheffe" in r)
    )
    click(screen.disable_button, driver)
    assert "propre compte" in screen.message.text()

    screen.tabs.setCurrentIndex(1)
    screen.counter_name.setText("Point numérique de la préfecture de l'Aube")
    screen.counter_address.setPlainText("2 rue Pierre Labonde\n10000 Troyes")
    screen.counter_phone.setText("03 25 42 35 00")
    screen.counter_hours.setText("lundi–vendredi 9 h–16 h")
    driver.screenshot("21-supervision-guichet")
    click(screen.counter_save, driver)
    saved = services.counter.get()
    assert saved.address == ("2 rue Pierre Labonde", "10000 Troyes") and saved.configured
    assert services.audit is not None
    # The newest change of settings (training's sync may journal a bundle installed meanwhile).
    recent = services.audit.entries(limit=5)
    last = next(e for e in reversed(recent) if e.action == AuditAction.SETTINGS_CHANGED)
    assert last.detail["par"] == "cheffe"

    screen.tabs.setCurrentIndex(2)
    click(screen.verify_button, driver)
    assert screen.verdict.text().startswith("Journal intact")
    journal = texts(screen.journal)
    assert any("réglages modifiés" in r and "(cheffe)" in r for r in journal)
    assert any("agent débloqué" in r for r in journal)
    window.tr_.set_language("ar")  # what is on screen follows a language switch
    assert screen.verdict.text().startswith("السجل سليم")
    assert screen.message.text().startswith("تم حفظ بيانات الشباك")
    window.tr_.set_language("fr")
    driver.screenshot("22-supervision-journal")

    screen.tabs.setCurrentIndex(3)
    assert "30 jours après la décision nationale" in screen.retention_text.text()
    assert "Dossiers à effacer maintenant : 0" in screen.retention_text.text()
    assert not screen.purge_button.isEnabled()
    driver.screenshot("23-supervision-conservation")

    window.lock()  # the inactivity lock or sign-out: nothing of it stays
    assert screen.accounts.count() == 0 and screen.journal.count() == 0
    assert not window.home.supervision_button.isVisible()


def test_a_supervisor_gives_the_public_more_time_before_the_screen_clears(
    qtbot: QtBot, window: MainWindow
) -> None:
    """WCAG 2.2.1: the delays are the supervisor's to choose; the window uses them at once, and
    every sign-in (at any counter of the site) reads them again."""
    services = window.services
    services.agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    driver = Driver(qtbot, window)
    sign_in_as(driver, "Cheffe Martin", "4321")
    assert window.inactivity.delays_ms == (60_000, 5_000)  # nothing chosen: the kiosk's own
    click(window.home.supervision_button, driver)
    screen = window.supervision
    screen.tabs.setCurrentIndex(1)
    assert screen.idle_buttons[120].isChecked() and screen.warning_buttons[30].isChecked()
    assert screen.idle_buttons[600].text() == "10 min"
    click(screen.idle_buttons[600], driver)
    click(screen.warning_buttons[120], driver)
    driver.screenshot("23-supervision-delais")
    click(screen.delays_save, driver)
    assert window.inactivity.delays_ms == (600_000, 120_000)
    assert services.screen is not None
    assert services.screen.get().idle_seconds == 600
    # The warning counts down from what was chosen.
    heard: list[int] = []
    window.inactivity.warn.connect(heard.append)
    window.inactivity._start_grace()
    assert heard == [120]
    window.lock()
    driver.settle()
    window.apply_delays(type(services.screen.get())())  # another kiosk's own delays…
    sign_in_as(driver, "Agent de formation", "0000")  # …replaced at the next sign-in
    assert window.stack.currentWidget() is window.home
    assert window.inactivity.delays_ms == (600_000, 120_000)


def test_tab_goes_from_the_tab_bar_into_the_page_chosen(qtbot: QtBot, window: MainWindow) -> None:
    """Keyboard alone: a tab of the screen chosen with the arrow keys, Tab goes into it (it
    used to go past its buttons, to « Retour à l'accueil »)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    window.services.agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    driver = Driver(qtbot, window)
    sign_in_as(driver, "Cheffe Martin", "4321")
    click(window.home.supervision_button, driver)
    screen = window.supervision
    bar = screen.tabs.tabBar()
    bar.setFocus(Qt.FocusReason.TabFocusReason)
    for _ in range(2):
        QTest.keyClick(bar, Qt.Key.Key_Right)
    assert screen.tabs.currentIndex() == 2
    QTest.keyClick(bar, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is screen.verify_button
