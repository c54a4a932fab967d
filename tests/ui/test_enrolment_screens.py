"""Enrolling a kiosk on the touchscreen: a kiosk with no credentials opens on « Borne à
configurer », the agent types the code (or scans the QR code with the camera) and sees « Borne
configurée »; a supervisor's « Bornes » tab shows the QR code large, the code under it and until
when it holds. Against the real reference server on loopback; the QR codes read by zbar."""

from __future__ import annotations

import random
import stat
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.container import build_ui
from app.enrolment import enrolment_desk, kiosk_enrolment
from app.settings import Settings
from app.sync_setup import SyncSettings
from devices.camera.simulated import SimulatedCamera
from devices.qr.zbar import ZbarReader
from kiosk.enrolment.code import parse_code, read_ticket
from kiosk.enrolment.service import EnrolmentDesk, Issued
from kiosk.enrolment.sheet import qr_png
from kiosk.security.agents import AgentInfo
from kiosk.site.counter import CounterDetails, CounterSettings
from kiosk.store import Store, open_store
from sync.policy import SyncPolicy
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from tests.ui.driver import Driver
from tests.ui.test_supervision import click, sign_in_as
from ui.i18n import Translator
from ui.main_window import MainWindow
from ui.screens.enrol import EnrolScreen
from ui.services import EnrolServices
from ui.tasks import TaskRunner
from ui.theme import load_fonts

CHEFFE = AgentInfo(1, "cheffe", "Cheffe Martin", "superviseur")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    """The reference server on loopback (HTTP: the pinned HTTPS path is tests/enrolment's)."""
    sim = NationalSimulator(tmp_path / "national.sqlite3", rng=random.Random(2))
    with ServerThread(sim) as running:
        yield running


@pytest.fixture
def supervisor_store(tmp_path: Path) -> Iterator[Store]:
    """The supervisor's kiosk's store, with its counter's details."""
    store = open_store(tmp_path / "superviseur.sqlite3")
    CounterSettings(store).set(CounterDetails("Mairie de Muret", ("Place de la Mairie",), "05"))
    yield store
    store.close()


def issue(server: ServerThread, store: Store) -> Issued:
    """A code issued by the site's supervisor kiosk (the training credentials)."""
    settings = Settings(api_url=server.url, printer="Accueil_Mairie")
    closers: list[Callable[[], None]] = []
    desk: EnrolmentDesk = enrolment_desk(
        settings,
        CounterSettings(store),
        store,
        sync=lambda: SyncSettings(server.url, "borne-demo", "secret-demo", SyncPolicy()),
        closers=closers,
    )
    try:
        return desk.issue(by=CHEFFE)
    finally:
        for close in closers:
            close()


def wrong_tries(server: ServerThread) -> int:
    """The wrong tries the server counted."""
    with server.sim.db.tx() as c:
        return int(c.execute("SELECT COALESCE(SUM(essais_faux), 0) FROM enrolement").fetchone()[0])


def test_a_kiosk_with_no_credentials_opens_on_borne_a_configurer_and_enrols_by_the_code_typed(
    qtbot: QtBot,
    tmp_path: Path,
    server: ServerThread,
    supervisor_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = issue(server, supervisor_store)
    config = tmp_path / "nouvelle" / "kiosk.toml"
    settings = Settings(data_dir=tmp_path / "nouvelle", api_url=server.url)
    services, container = build_ui(settings, sync=False, settings_file=config)
    try:
        window = MainWindow(services, family=load_fonts(), idle_ms=600_000, grace_ms=5_000)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        screen = window.enrol
        assert screen is not None and window.stack.currentWidget() is screen
        assert screen.title.text() == "Borne à configurer"
        assert server.url in screen.address.text()
        driver = Driver(qtbot, window)
        driver.screenshot("25-borne-a-configurer")

        # A typo: told at once, in French, nothing sent.
        text = issued.code.text
        QTest.keyClicks(screen.code, text[:-1] + ("A" if text[-1] != "A" else "B"))
        click(screen.submit_button, driver)
        assert "faute de frappe" in screen.status.text()
        assert wrong_tries(server) == 0
        assert not config.exists()

        screen.code.clear()
        QTest.keyClicks(screen.code, text.lower().replace("-", " "))
        click(screen.submit_button, driver)
        qtbot.waitUntil(lambda: screen.enrolled is not None, timeout=10_000)
        assert screen.title.text() == "Borne configurée"
        assert "Redémarrez-la" in screen.done_text.text()
        assert screen.code.text() == ""  # a spent code is not left on the screen
        driver.screenshot("26-borne-configuree")
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        written = tomllib.loads(config.read_text(encoding="utf-8"))
        assert written["service_national"]["identifiant"].startswith("borne-")
        assert written["peripheriques"]["imprimante"] == "Accueil_Mairie"
        assert container.counter.get().name == "Mairie de Muret"

        quits: list[bool] = []
        monkeypatch.setattr(QApplication, "quit", staticmethod(lambda: quits.append(True)))
        click(screen.restart_button, driver)
        assert window.restart_requested and quits == [True]
    finally:
        window.runner.wait()
        container.close()


def test_later_goes_to_the_sign_in(qtbot: QtBot, tmp_path: Path) -> None:
    services, container = build_ui(
        Settings(data_dir=tmp_path), sync=False, settings_file=tmp_path / "kiosk.toml"
    )
    try:
        window = MainWindow(services, family=load_fonts())
        qtbot.addWidget(window)
        window.show()
        assert window.enrol is not None
        window.enrol.later_button.click()
        assert window.stack.currentWidget() is window.signin
    finally:
        window.runner.wait()
        container.close()


def test_the_qr_code_is_scanned_with_the_camera(
    qtbot: QtBot, tmp_path: Path, server: ServerThread, supervisor_store: Store
) -> None:
    issued = issue(server, supervisor_store)
    picture = tmp_path / "code.png"
    picture.write_bytes(qr_png(issued.ticket.text))
    config = tmp_path / "kiosk.toml"
    # The address a typed code would go to is wrong: the QR code's own is the one used.
    settings = Settings(data_dir=tmp_path, api_url="http://127.0.0.1:9")
    enrolment = kiosk_enrolment(settings, config, None)
    runner = TaskRunner()
    screen = EnrolScreen(
        EnrolServices(
            enrolment,
            settings.api_url,
            camera=SimulatedCamera([picture]),
            codes=ZbarReader(),
        ),
        runner,
        Translator(),
    )
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    assert screen.scan_button.isEnabled()
    screen.scan_button.click()
    view = screen.capture
    assert view is not None
    qtbot.waitUntil(view.take_button.isEnabled, timeout=10_000)
    view.take_button.click()
    qtbot.waitUntil(view.keep_button.isEnabled, timeout=10_000)
    assert view.keep_button.text() == "Lire le code"
    view.keep_button.click()
    qtbot.waitUntil(lambda: screen.enrolled is not None, timeout=15_000)
    assert screen.title.text() == "Borne configurée"
    assert tomllib.loads(config.read_text())["service_national"]["adresse"] == server.url
    runner.wait()


def test_a_supervisor_shows_a_new_kiosk_s_code_as_a_qr_code_a_camera_reads(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.services.agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    driver = Driver(qtbot, window)
    sign_in_as(driver, "Cheffe Martin", "4321")
    click(window.home.supervision_button, driver)
    screen = window.supervision
    enrol_tab = next(
        i for i in range(screen.tabs.count()) if screen.tabs.tabText(i) == "Nouvelle borne"
    )
    screen.tabs.setCurrentIndex(enrol_tab)
    click(screen.enrol_button, driver)
    qtbot.waitUntil(lambda: bool(screen.enrol_code.text()), timeout=15_000)
    code = parse_code(screen.enrol_code.text())
    assert screen.enrol_until.text().startswith("Valable jusqu'à ")
    assert "une seule fois" in screen.enrol_until.text()
    # What the new kiosk's camera would see of this screen.
    shown = tmp_path / "ecran.png"
    assert screen.enrol_qr.grab().save(str(shown))
    (read,) = ZbarReader().read_codes(shown.read_bytes())
    ticket = read_ticket(read)
    assert ticket.code == code
    # Training mode's own server: where a kiosk enrolled in training would go.
    assert ticket.api_url is not None and ticket.api_url.startswith("http://127.0.0.1:")
    driver.screenshot("24-supervision-bornes")
    window.lock()  # the next agent does not find the code on the screen
    assert screen.enrol_code.text() == "" and screen.enrol_qr.modules == ()
