"""The mandate on the screens: the person chooses how long it lasts and what it covers before
signing, gets a printed copy, and the dossier's card says until when it holds and revokes it
after a confirmation, printing the attestation.

Screenshots under ``out/screenshots/<lang>/61-mandat-durée.png`` and ``66-fiche-mandat.png``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from pytestqt.qtbot import QtBot

from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens import card_screen, screen_services, show_screen
from ui.i18n import Translator
from ui.screens.consent import ConsentScreen
from ui.services import UiServices
from ui.tasks import TaskRunner

NOW = datetime(2025, 7, 1, 8, 5, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[UiServices]:
    with screen_services(tmp_path, clock=lambda: NOW) as built:
        yield built


def _printed(folder: Path) -> str:
    """The text of the one PDF printed into ``folder`` (the training printer's)."""
    [pdf] = sorted(folder.glob("*.pdf"))
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: install poppler-utils")
    out = subprocess.run([tool, str(pdf), "-"], check=True, capture_output=True, text=True)
    return re.sub(r"[\s\u00a0\u202f]+", " ", out.stdout)


def _consent(
    qtbot: QtBot, services: UiServices, reference: str
) -> tuple[ConsentScreen, TaskRunner]:
    runner = TaskRunner()
    screen = ConsentScreen(services.consent(), runner, Translator("fr"))
    show_screen(qtbot, screen, "fr")
    screen.open(reference, agent_id=None, agent_name="Claire Dupont")
    qtbot.waitUntil(lambda: runner.idle)
    return screen, runner


def test_one_month_chosen_then_signed_is_stored_printed_and_shown_on_the_card(
    qtbot: QtBot, services: UiServices, tmp_path: Path
) -> None:
    reference = services.dossiers.create("succession").reference  # a carte grise démarche
    screen, runner = _consent(qtbot, services, reference)
    assert screen.choices.durations[180].isChecked()  # six months unless the person chooses
    assert "six mois (180 jours)" in screen.text.text()
    assert screen.choices.scopes["theme:carte_grise"].isVisible()

    screen.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    month = screen.choices.durations[30]
    assert month.text() == "1 mois"
    month.click()
    # The text follows the choice, and a stroke made under the former text goes.
    assert "Combien de temps il dure : un mois (30 jours)" in screen.text.text()
    assert "31 juillet 2025" in screen.text.text()
    assert screen.pad.empty and not screen.sign_button.isEnabled()
    screen.choices.scopes["theme:carte_grise"].click()
    assert "toutes mes démarches de carte grise" in screen.text.text()
    screen.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screen.grab().save(str(SCREENSHOTS / "61-mandat-durée.png"))
    screen.sign_button.click()
    qtbot.waitUntil(lambda: runner.idle)

    status = services.mandates.status(reference)
    assert status.duree_jours in (30, 31)
    assert status.portee == "theme:carte_grise"
    assert "valable jusqu'au 31/07/2025 au soir" in screen.status.text()
    assert screen.print_button.isVisible() and screen.continue_button.isVisible()
    assert not screen.sign_button.isVisible() and not screen.pad.isEnabled()

    screen.print_button.click()
    qtbot.waitUntil(lambda: runner.idle)
    assert "Votre copie du mandat est imprimée." in screen.status.text()
    copy = _printed(tmp_path / "recus")
    assert reference in copy and status.version is not None
    assert "un mois (30 jours)" in copy and "toutes mes démarches de carte grise" in copy

    card = card_screen(qtbot, services, "fr", reference)
    panel = card.mandate_panel
    assert panel is not None
    assert panel.state.text() == "Mandat valable jusqu'au 31/07/2025 au soir."


def test_revoking_from_the_card_asks_first_then_shows_the_day_and_prints_the_attestation(
    qtbot: QtBot, services: UiServices, tmp_path: Path
) -> None:
    reference = services.dossiers.create("succession").reference
    screen, runner = _consent(qtbot, services, reference)
    screen.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    screen.sign_button.click()
    qtbot.waitUntil(lambda: runner.idle)

    card = card_screen(qtbot, services, "fr", reference)
    panel = card.mandate_panel
    assert panel is not None and panel.revoke_button.isVisible()
    panel.revoke_button.click()
    # A question first: nothing is revoked yet, and « Annuler » leaves it as it was.
    assert panel.question.isVisible() and "Révoquer le mandat de ce dossier ?" in (
        panel.question.text()
    )
    assert not services.mandates.status(reference).revoked
    panel.cancel_button.click()
    assert not panel.question.isVisible() and panel.revoke_button.isVisible()

    panel.revoke_button.click()
    panel.confirm_button.click()
    qtbot.waitUntil(lambda: card.runner.idle)
    assert services.mandates.status(reference).revoked
    panel = card.mandate_panel
    assert panel is not None
    assert panel.state.text() == "Mandat révoqué le 01/07/2025."
    assert not panel.revoke_button.isVisible()
    assert panel.message.text() == "Attestation de révocation imprimée."
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    card.grab().save(str(SCREENSHOTS / "66-fiche-mandat.png"))
    attestation = _printed(tmp_path / "recus")
    assert "Attestation de révocation de mandat" in attestation
    assert (
        reference in attestation and "mardi 1er juillet 2025 à 10 h 05" in attestation
    )  # (FORMATION in between)
    # The card now says why the dossier cannot be filed.
    assert card.current is not None and card.current.mandate is not None
    assert "révoqué son mandat le 01/07/2025" in str(card.current.mandate)
