"""The dossier's card shows a filed dossier's kept fees and, for the agent, the amount the
national service says is due when it differs from the estimate.

Screenshots under ``out/screenshots/<lang>/64-fiche-montant-dû.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens import card_screen, filed_dossier, screen_services
from ui.i18n import Translator
from ui.screens.dossier import DossierCardScreen
from ui.services import UiServices

NBSP, LRE, PDF = "\u00a0", "\u202a", "\u202c"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[UiServices]:
    with screen_services(tmp_path) as built:
        yield built


def _card(qtbot: QtBot, services: UiServices, lang: str, reference: str) -> DossierCardScreen:
    return card_screen(qtbot, services, lang, reference)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "fr",
            f"Montant dû selon le service national : 450,00{NBSP}€ (estimation : 433,76{NBSP}€).",
        ),
        (
            "ar",
            f"المبلغ المستحق حسب المصلحة الوطنية: {LRE}450,00{NBSP}€{PDF} (التقدير:"
            f" {LRE}433,76{NBSP}€{PDF}).",
        ),
    ],
)
def test_the_card_shows_the_national_amount_beside_the_estimate_when_they_differ(
    qtbot: QtBot, services: UiServices, lang: str, said: str
) -> None:
    reference = filed_dossier(services, "changement_titulaire")
    services.dossiers.acknowledge(reference, national_number="NAT-00000007", amount_due_cents=45000)
    screen = _card(qtbot, services, lang, reference)
    panel = screen.fees_panel
    assert panel is not None
    QApplication.processEvents()
    screen.scroll_area.ensureWidgetVisible(panel, 0, 0)
    QApplication.processEvents()
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    assert screen.grab().save(str(folder / "64-fiche-montant-dû.png"))
    assert panel.amount_due == said
    shown = next(w for w in panel.findChildren(QLabel) if w.text() == said)
    assert shown.isVisible() and shown.objectName() == "error"  # stands out for the agent
    assert panel.total is not None and "433" in panel.total
    # Which tariff, and when it was kept.
    kept = Translator(lang).t("fees.kept", date="X", time="Y", tariff="Z").split("X")[0]
    assert any(w.text().startswith(kept) for w in panel.findChildren(QLabel))


def test_a_draft_card_shows_no_fees_and_an_equal_amount_says_so(
    qtbot: QtBot, services: UiServices
) -> None:
    draft = services.dossiers.create("changement_titulaire").reference
    assert _card(qtbot, services, "fr", draft).fees_panel is None
    reference = filed_dossier(services, "changement_titulaire")
    services.dossiers.acknowledge(reference, national_number="NAT-00000008", amount_due_cents=43376)
    panel = _card(qtbot, services, "fr", reference).fees_panel
    assert panel is not None
    assert panel.amount_due == (
        f"Montant dû selon le service national : 433,76{NBSP}€ (le même que l'estimation)."
    )
