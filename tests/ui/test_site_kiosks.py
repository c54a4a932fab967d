"""A lost tablet at the counter (issue 17, docs/sites.md): the supervisor's « Bornes du site »
flags a silent tablet and dossiers waiting too long, revokes a kiosk after a confirmation (a
supervisor only, journalled), says when the list could not be fetched; and a kiosk revoked shows
one plain screen, now and at every start, with no way back to the dossiers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.container import build_ui
from app.settings import Settings
from kiosk.ports.national import (
    KioskReport,
    KioskRevoked,
    ServiceUnavailable,
    SiteKiosk,
    SiteKiosks,
)
from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditAction, AuditLog
from kiosk.security.revocation import KioskWithdrawn, Withdrawal, WithdrawalPlan
from kiosk.site.counter import CounterSettings
from kiosk.store import Store, open_store
from kiosk.sync.fleet import SiteKiosksService
from tests.ui.driver import Driver
from ui.i18n import Translator
from ui.main_window import MainWindow
from ui.screens.supervision import SupervisionScreen
from ui.services import SupervisionServices
from ui.tasks import TaskRunner
from ui.theme import load_fonts

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
UNSENT = ("PN-7K3M-Q9TX", "PN-2B4D-6F8H")


def report(
    queued: int = 0, oldest: datetime | None = None, unsent: tuple[str, ...] = ()
) -> KioskReport:
    return KioskReport("0.1.0", queued, oldest, NOW - timedelta(minutes=5), None, unsent)


class FakeFleet:
    """The national service's side: four kiosks of the site, as it lists them."""

    def __init__(self) -> None:
        self.kiosks = {
            k.id: k
            for k in (
                SiteKiosk("borne-a", report(), NOW - timedelta(minutes=2)),
                SiteKiosk("borne-b", report(), NOW - timedelta(hours=50)),
                SiteKiosk(
                    "borne-c", report(1, NOW - timedelta(hours=30)), NOW - timedelta(hours=1)
                ),
                SiteKiosk(
                    "borne-d",
                    report(2, NOW - timedelta(hours=3), unsent=UNSENT),
                    NOW - timedelta(hours=2),
                    revoked=True,
                    revoked_at=NOW - timedelta(hours=1),
                    revoked_by="cheffe",
                ),
            )
        }
        self.revoked: list[tuple[str, str]] = []
        self.down = False

    def report(self, report: KioskReport) -> datetime:
        return NOW

    def site_kiosks(self) -> SiteKiosks:
        if self.down:
            raise ServiceUnavailable("Le service national ne répond pas (délai dépassé).")
        return SiteKiosks("site-aube", tuple(self.kiosks.values()))

    def revoke(self, kiosk_id: str, *, by: str) -> SiteKiosk:
        self.revoked.append((kiosk_id, by))
        self.kiosks[kiosk_id] = replace(
            self.kiosks[kiosk_id], revoked=True, revoked_at=NOW, revoked_by=by
        )
        return self.kiosks[kiosk_id]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "kiosk.sqlite3")
    yield opened
    opened.close()


def screen_with(qtbot: QtBot, store: Store, fleet: FakeFleet) -> SupervisionScreen:
    QApplication.setFont(QFont(load_fonts(), 14))
    kiosks = SiteKiosksService(store, fleet, own_id="borne-a", clock=lambda: NOW)
    services = SupervisionServices(
        AgentService(store), CounterSettings(store), AuditLog(store), None, kiosks=kiosks
    )
    screen = SupervisionScreen(services, TaskRunner(), Translator())
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    return screen


def rows(screen: SupervisionScreen) -> dict[str, str]:
    tab = screen.kiosks_tab
    assert tab is not None
    texts = [tab.list.item(i).text() for i in range(tab.list.count())]
    return {text.split("\n")[0].split(" ")[0]: text for text in texts}


def select(screen: SupervisionScreen, kiosk_id: str) -> None:
    tab = screen.kiosks_tab
    assert tab is not None
    for i in range(tab.list.count()):
        if tab.list.item(i).text().startswith(kiosk_id):
            tab.list.setCurrentRow(i)
            return
    raise AssertionError(kiosk_id)


def settle(qtbot: QtBot, screen: SupervisionScreen) -> None:
    qtbot.waitUntil(lambda: screen.runner.idle, timeout=10_000)
    QApplication.processEvents()


def test_the_supervisor_sees_what_needs_someone_and_revokes_a_lost_tablet(
    qtbot: QtBot, store: Store
) -> None:
    fleet = FakeFleet()
    screen = screen_with(qtbot, store, fleet)
    cheffe = AgentService(store).add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    screen.open(cheffe)
    settle(qtbot, screen)
    tab = screen.kiosks_tab
    assert tab is not None
    screen.tabs.setCurrentWidget(tab)
    assert screen.tabs.tabText(screen.tabs.currentIndex()) == "Bornes du site"
    shown = rows(screen)
    assert "Site site-aube : liste obtenue le" in tab.status.text()
    assert shown["borne-a"].startswith("borne-a (cette borne)")
    assert "⚠" not in shown["borne-a"]
    assert "silencieuse depuis plus de 48 h" in shown["borne-b"]
    assert "dossiers non envoyés depuis plus d'un jour" in shown["borne-c"]
    assert "silencieuse" not in shown["borne-c"] and "en file : 1" in shown["borne-c"]
    # A revoked tablet: the references it had not sent, as it last reported them.
    assert "RÉVOQUÉE le" in shown["borne-d"] and "par cheffe" in shown["borne-d"]
    assert "PN-7K3M-Q9TX, PN-2B4D-6F8H" in shown["borne-d"]

    select(screen, "borne-a")  # this kiosk: not from here
    assert not tab.revoke_button.isEnabled()
    select(screen, "borne-d")  # already revoked
    assert not tab.revoke_button.isEnabled()
    select(screen, "borne-b")
    assert tab.revoke_button.isEnabled()
    tab.revoke_button.click()
    assert tab.confirm_panel.isVisible() and "borne-b" in tab.confirm_text.text()
    assert "C'est définitif" in tab.confirm_text.text()
    tab.cancel_button.click()  # thought better of it: nothing sent
    assert not tab.confirm_panel.isVisible() and fleet.revoked == []
    tab.revoke_button.click()
    tab.confirm_button.click()
    settle(qtbot, screen)
    assert fleet.revoked == [("borne-b", "cheffe")]
    assert screen.message.text().startswith("Borne borne-b révoquée")
    assert "RÉVOQUÉE" in rows(screen)["borne-b"]
    entry = AuditLog(store).entries(limit=1)[0]
    assert entry.action == AuditAction.KIOSK_REVOKED
    assert entry.detail == {"par": "cheffe", "borne": "borne-b"}

    fleet.down = True  # offline: said, with the list as last fetched and when
    tab.refresh_button.click()
    settle(qtbot, screen)
    assert "n'a pas pu être obtenue" in tab.status.text()
    assert "Dernière liste obtenue : 10/03/2027" in tab.status.text()
    assert set(rows(screen)) == {"borne-a", "borne-b", "borne-c", "borne-d"}

    screen.clear_personal_data()
    assert tab.list.count() == 0


def test_a_revocation_by_anyone_but_a_supervisor_is_refused(qtbot: QtBot, store: Store) -> None:
    fleet = FakeFleet()
    screen = screen_with(qtbot, store, fleet)
    lea = AgentService(store).add("lea", "Léa Dubois", "2468")
    screen.open(lea)  # even if the screen were reached
    settle(qtbot, screen)
    tab = screen.kiosks_tab
    assert tab is not None
    select(screen, "borne-c")
    tab.revoke_button.click()
    tab.confirm_button.click()
    settle(qtbot, screen)
    assert fleet.revoked == []
    assert "Seul un superviseur peut révoquer une borne" in screen.message.text()
    assert AuditLog(store).entries(limit=1) == [] or (
        AuditLog(store).entries(limit=1)[0].action != AuditAction.KIOSK_REVOKED
    )


def test_a_supervisor_whose_own_kiosk_was_revoked_meets_the_withdrawal(
    qtbot: QtBot, store: Store, tmp_path: Path
) -> None:
    """Any call tells a revoked kiosk: the listing too destroys its keys."""
    fleet = FakeFleet()

    def revoked() -> SiteKiosks:
        raise KioskRevoked("retirée")

    fleet.site_kiosks = revoked  # type: ignore[method-assign]
    key = tmp_path / "perdue" / "db.key"
    key.parent.mkdir()
    key.write_text("00" * 32)
    withdrawal = Withdrawal(WithdrawalPlan((key,), None, (tmp_path / "borne-retiree.json",)))
    service = SiteKiosksService(
        store, fleet, own_id="borne-a", clock=lambda: NOW, withdrawal=withdrawal
    )
    with pytest.raises(KioskWithdrawn):
        service.view()
    assert not key.exists() and withdrawal.done is not None


def test_a_revoked_kiosk_shows_one_plain_screen_now_and_at_every_start(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in("0000")
    assert window.stack.currentWidget() is window.home
    agent = window.agent
    assert agent is not None
    subscribe = window.services.withdrawn_subscribe
    assert subscribe is not None
    withdrawal = subscribe.__self__  # type: ignore[attr-defined]
    assert isinstance(withdrawal, Withdrawal)
    keys = tmp_path / "formation" / "keys"
    assert (keys / "db.key").exists()
    # Learnt on the sync thread, as the worker would.
    worker = threading.Thread(target=withdrawal.carry_out)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.retired, timeout=5_000)
    retired = window.retired
    assert retired is not None
    assert retired.title.text() == "Borne retirée du service"
    assert "Contactez votre superviseur" in retired.text.text()
    assert not (keys / "db.key").exists()
    assert window.agent is None and not window.sign_out.isVisible()
    assert not window.home_button.isVisible()
    window.lock()  # the inactivity lock: still nothing to sign in to
    assert window.stack.currentWidget() is retired
    window._signed_in(agent)  # a sign-in answered late opens nothing
    assert window.stack.currentWidget() is retired and window.agent is None
    window.tr_.set_language("en")
    assert retired.text.text().startswith("This kiosk was withdrawn from service")
    window.tr_.set_language("fr")

    # The next start: the services refuse to build, the window shows the same screen.
    with pytest.raises(KioskWithdrawn, match="retirée du service"):
        build_ui(Settings(data_dir=tmp_path), training=True, sync=False)
    family = load_fonts()
    again = MainWindow(None, family=family)
    qtbot.addWidget(again)
    again.startup_failed(KioskWithdrawn(datetime.now(UTC)))
    assert again.retired is not None and again.stack.currentWidget() is again.retired
    assert "Traceback" not in again.retired.text.text()
