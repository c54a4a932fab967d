"""The home screen of a kiosk that does not hold a dossier, given its receipt (issue 17): the QR
code read, the national service asked (the reference server on loopback, real HTTP), its state
said in the person's language; nothing opens, nothing personal is shown."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kiosk.demarches import Catalog
from kiosk.dossiers.receipts import FollowReceipt, ReceiptService
from kiosk.receipt import encode_qr_payload
from kiosk.site.counter import CounterSettings
from kiosk.store import Store
from sync.client import HttpNationalApi
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from tests.support import file_dossier, fill
from tests.sync.conftest import make_kiosk
from tests.ui.screens import screen_services
from ui.i18n import Translator
from ui.screens.home import HomeScreen
from ui.tasks import TaskRunner


@pytest.fixture
def national(tmp_path: Path) -> Iterator[ServerThread]:
    sim = NationalSimulator(tmp_path / "national.sqlite3", rng=random.Random(3))
    with ServerThread(sim) as server:
        yield server


def _filed_elsewhere(store: Store, catalog: Catalog, national: ServerThread) -> tuple[str, str]:
    kiosk = make_kiosk(store, catalog, national.url)
    try:
        reference = kiosk.dossiers.create("changement_adresse").reference
        fill(kiosk.dossiers, reference, catalog.latest("changement_adresse"))
        file_dossier(kiosk.dossiers, reference)
        code = ReceiptService(kiosk.dossiers, CounterSettings(store)).data(reference)
        assert kiosk.worker.run_once().sent == 1
        return reference, encode_qr_payload(reference, code.verification_code)
    finally:
        kiosk.api.close()


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("fr", "à une autre borne : en cours d'examen par le service national."),
        ("ar", "في جهاز آخر: قيد الدراسة لدى المصلحة الوطنية."),
    ],
)
def test_a_receipt_from_another_kiosk_shows_its_national_state_and_opens_nothing(
    qtbot: QtBot,
    tmp_path: Path,
    store: Store,
    catalog: Catalog,
    national: ServerThread,
    lang: str,
    said: str,
) -> None:
    reference, payload = _filed_elsewhere(store, catalog, national)
    api = HttpNationalApi(national.url, "borne-demo", "secret-demo")
    try:
        with screen_services(tmp_path / "autre-borne") as built:
            follow = FollowReceipt(built.receipts, api)
            services = dataclasses.replace(built, follow_receipt=follow)
            runner = TaskRunner()
            home = HomeScreen(services.home(), runner, Translator(lang))
            qtbot.addWidget(home)
            opened: list[str] = []
            home.resume.connect(opened.append)
            home.show()
            # A handheld scanner types the QR code's content, then Enter.
            home.search.setText(payload)
            home.search_button.click()
            qtbot.waitUntil(lambda: said in home.message.text(), timeout=10_000)
            assert reference in home.message.text()
            assert opened == []
            assert not home.results.isVisible()
    finally:
        api.close()
