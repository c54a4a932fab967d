"""The supervisor's journal on a site store (issue 17, migration 0011): each entry named with
its counter's chain, in the order of time, and the check telling the supervisor that the
fingerprint to note covers every counter's chain; in French and Arabic. Real PostgreSQL, a
real (offscreen) screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditLog
from kiosk.site.counter import CounterSettings
from kiosk.store import Store, open_store
from ui.i18n import Translator
from ui.screens.supervision import SupervisionScreen
from ui.services import SupervisionServices
from ui.tasks import TaskRunner
from ui.theme import load_fonts

UNUSED = Path("pas-de-fichier/kiosk.sqlite3")


@pytest.fixture
def counter(site_url: str, catalog: Catalog) -> Iterator[Store]:
    """The first counter of a site where the second saved a dossier meanwhile."""
    first = open_store(UNUSED, url=site_url, chain="guichet-1")
    AgentService(first).add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    second = open_store(UNUSED, url=site_url, chain="guichet-2")
    try:
        ref = DossierService(second, catalog).create("succession").reference
        DossierService(second, catalog).answer(ref, "nom", "Martin")
    finally:
        second.close()
    yield first
    first.close()


def test_the_journal_names_each_counter_and_its_check_covers_every_chain(
    qtbot: QtBot, counter: Store
) -> None:
    QApplication.setFont(QFont(load_fonts(), 14))
    agents = AgentService(counter)
    services = SupervisionServices(agents, CounterSettings(counter), AuditLog(counter), None)
    runner = TaskRunner()
    translator = Translator()
    screen = SupervisionScreen(services, runner, translator)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    screen.open(agents.sign_in("cheffe", "4321"))
    qtbot.waitUntil(lambda: runner.idle and screen.journal.count() > 0, timeout=10_000)
    lines = [screen.journal.item(i).text() for i in range(screen.journal.count())]
    assert [line.split("  ")[0] for line in lines] == [
        "guichet-1 n° 1",  # the supervisor created
        "guichet-2 n° 1",  # the dossier created at the other counter
        "guichet-2 n° 2",  # its answer
        "guichet-1 n° 2",  # the supervisor signed in here
    ]

    screen.tabs.setCurrentIndex(2)
    screen.verify_button.click()
    qtbot.waitUntil(lambda: runner.idle and bool(screen.verdict.text()), timeout=10_000)
    head = AuditLog(counter).verify().head
    assert screen.verdict.text() == (
        "Journal intact : 4 entrées dans 2 chaînes (une par borne du site), aucune modifiée,"
        f" supprimée ni déplacée. Empreinte finale de toutes les chaînes : {head[:16]}… (à"
        " noter pour comparer plus tard)."
    )
    translator.set_language("ar")
    assert screen.verdict.text().startswith("السجل سليم: 4 إدخالًا في 2 سلاسل")
    assert head[:16] in screen.verdict.text()
