"""The follow-up, end to end, on the real kiosk window in training mode with its reference
national server on loopback: a dossier filed at the counter, sent back « à compléter » by the
server (typed reasons, a deadline), a text message sent once; the person back at the counter,
found in « Dossiers à suivre », the dossier corrected where the service asked only (the other
answers locked), the asked document attached, filed again (a second filing, the same national
number), a new receipt; accepted by the server; the letter printed from the card.

Screenshots under ``out/screenshots/fr/8x-…``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QToolButton
from pytestqt.qtbot import QtBot

from app.container import Container, build_ui
from app.settings import Settings
from kiosk.dossiers.states import DossierState
from kiosk.followup.contact import Outcome
from tests.devices.conftest import pcscd  # noqa: F401 - the fixture, for the real PC/SC stack
from tests.support import fill, sign_mandate
from tests.ui.driver import Driver
from ui.main_window import MainWindow
from ui.theme import load_fonts

NEW_ADDRESS = ("3 rue des Lilas", "69003", "Lyon")


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    tmp_path: Path,
    pcscd: None,  # noqa: F811
) -> Iterator[tuple[MainWindow, Container]]:
    family = load_fonts()
    QApplication.setFont(QFont(family, 14))
    services, container = build_ui(Settings(data_dir=tmp_path), training=True)
    win = MainWindow(services, family=family, idle_ms=600_000, grace_ms=5_000)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitUntil(lambda: win.runner.idle and bool(win.signin._buttons), timeout=10_000)
    # The reference server starts with the work the home screen does not wait for (issue 18):
    # asked for now, the test talking to it before anyone signs in.
    assert services.start_later is not None
    services.start_later()
    qtbot.waitUntil(lambda: _answers(container), timeout=20_000)
    yield win, container
    win.runner.wait()
    container.close()


def _answers(container: Container) -> bool:
    assert container.reference_url is not None
    try:
        httpx.get(container.reference_url + "/", timeout=1)
    except httpx.TransportError:
        return False
    return True


def _control(container: Container, path: str, body: dict[str, Any] | None = None) -> Any:
    assert container.reference_url is not None
    url = container.reference_url + path
    with httpx.Client(timeout=10) as client:
        answer = client.post(url, json=body) if body is not None else client.get(url)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _state(window: MainWindow, reference: str) -> DossierState:
    return window.services.dossiers.show(reference).summary.state


def _sync_until(qtbot: QtBot, window: MainWindow, reference: str, state: DossierState) -> None:
    wake, pull = window.services.sync_wake, window.services.sync_refresh
    assert wake is not None and pull is not None

    def there() -> bool:
        wake()  # send what is queued
        pull()  # and pull the decisions, as « Actualiser » on the worklist does
        return _state(window, reference) is state

    qtbot.waitUntil(there, timeout=30_000)


def test_from_filing_to_a_correction_refiled_and_accepted(
    qtbot: QtBot, kiosk: tuple[MainWindow, Container]
) -> None:
    window, container = kiosk
    driver = Driver(qtbot, window)
    # The server decides only when told (no draw after a minute while the test runs).
    _control(container, "/_control", {"delai_instruction": 3600})
    driver.sign_in()
    dossiers = window.services.dossiers

    # The counter: a change of address, the person told by text message, filed.
    reference = dossiers.create("changement_adresse", training=True).reference
    fill(dossiers, reference, window.services.catalog.latest("changement_adresse"))
    dossiers.answer(reference, "mode_contact", "telephone")
    dossiers.answer(reference, "telephone_portable", "06 12 34 56 78")
    sign_mandate(container.store, reference)
    window.review.open(reference)
    window.stack.setCurrentWidget(window.review)
    driver.settle()
    window.review.submit_button.click()
    driver.settle()
    assert window.stack.currentWidget() is window.receipt
    _sync_until(qtbot, window, reference, DossierState.TRANSMIS)
    number = dossiers.show(reference).national_number
    assert number

    # The national service sends it back: a proof of address too old, a wrong postcode.
    deadline = datetime.now(UTC).date() + timedelta(days=30)
    dossier_id = dossiers.show(reference).summary.id
    _control(
        container,
        "/_control/decider",
        {
            "dossier": dossier_id,
            "statut": "a_completer",
            "motifs": [
                {
                    "type": "piece_perimee",
                    "piece": "justificatif_domicile",
                    "message": "Le justificatif de domicile a plus de 6 mois.",
                },
                {
                    "type": "champ_incorrect",
                    "champ": "usager.adresse",
                    "message": "Le code postal ne correspond pas à la commune.",
                },
            ],
            "date_limite": deadline.isoformat(),
        },
    )
    _sync_until(qtbot, window, reference, DossierState.A_COMPLETER)
    # One text message for that decision, sent once whatever the retries.
    qtbot.waitUntil(
        lambda: any(
            n.get("numero_national") == number
            for n in _control(container, "/_control/notifications")["notifications"]
        ),
        timeout=30_000,
    )
    sent = [
        n
        for n in _control(container, "/_control/notifications")["notifications"]
        if n.get("numero_national") == number
    ]
    assert len(sent) == 1 and sent[0]["envois"] == 1, sent
    assert reference in sent[0]["texte"] and "Martin" not in sent[0]["texte"]

    # Back at the counter: the worklist, the dossier's card, what was asked.
    window.receipt.done_button.click()
    driver.settle()
    window.home.follow_up_button.click()
    driver.settle()
    screen = window.followup
    assert screen is not None
    qtbot.waitUntil(lambda: screen.items.count() >= 1, timeout=10_000)
    rows = [screen.items.item(i) for i in range(screen.items.count())]
    row = next(r for r in rows if reference in r.text())
    assert deadline.strftime("%d/%m/%Y") in row.text()
    driver.snap("80-suivi-a-completer")
    screen.items.itemClicked.emit(row)
    driver.settle()
    assert window.stack.currentWidget() is window.card
    panel = window.card.followup_panel
    assert panel is not None
    assert "Le justificatif de domicile a plus de 6 mois." in _texts(panel)
    driver.snap("81-fiche-a-completer")

    # The correction: straight to the address, the name locked.
    window.card.continue_button.click()
    driver.settle()
    assert window.stack.currentWidget() is window.wizard
    assert window.wizard.correction is not None
    assert window.wizard.editors["adresse"].isEnabled()
    driver.answer("adresse", " | ".join(NEW_ADDRESS))
    driver.snap("82-correction")
    window.wizard.step_index = 0
    window.wizard._render()
    assert not window.wizard.editors["nom"].isEnabled()
    while window.stack.currentWidget() is window.wizard:
        driver.next()
    assert window.stack.currentWidget() is window.documents
    window.documents.rows[("justificatif_domicile", None)].click()
    driver.settle()
    scans = [b for b in window.documents.findChildren(QToolButton) if b.objectName() == "scan-0"]
    scans[0].click()
    driver.settle()
    window.documents.next_button.click()
    driver.settle()
    assert window.stack.currentWidget() is window.review, window.stack.currentWidget()
    window.review.submit_button.click()
    driver.settle()
    assert window.stack.currentWidget() is window.receipt  # a new receipt
    driver.snap("83-recu-apres-correction")
    _sync_until(qtbot, window, reference, DossierState.TRANSMIS)
    assert dossiers.show(reference).national_number == number  # the same number
    assert dossiers.show(reference).answers["adresse"]["code_postal"] == "69003"

    # Accepted; the letter printed from the card.
    _control(container, "/_control/decider", {"dossier": dossier_id, "statut": "accepte"})
    _sync_until(qtbot, window, reference, DossierState.ACCEPTE)
    window.receipt.done_button.click()
    driver.settle()
    window._open_from_worklist(reference)
    driver.settle()
    panel = window.card.followup_panel
    assert panel is not None and panel.letter_button.isVisible()
    printed_before = set((container.paths.data_dir / "recus").glob("*.pdf"))
    panel.letter_button.click()
    driver.settle()
    qtbot.waitUntil(lambda: window.card.followup_panel is not panel, timeout=10_000)
    letters = set((container.paths.data_dir / "recus").glob("*.pdf")) - printed_before
    assert len(letters) == 1
    followup = window.services.followup
    assert followup is not None
    outcomes = [a.outcome for a in followup.item(reference).attempts]
    assert Outcome.ENVOYE in outcomes  # the text message
    assert Outcome.VENU in outcomes  # back at the counter for the correction
    assert Outcome.IMPRIME in outcomes  # the letter
    driver.snap("84-lettre-imprimee")
    # Every text message of the server for this dossier went out once.
    counts = [
        n["envois"]
        for n in _control(container, "/_control/notifications")["notifications"]
        if n.get("numero_national") == number
    ]
    assert counts and set(counts) == {1}


def _texts(widget: Any) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in widget.findChildren(QLabel))
