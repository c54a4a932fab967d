"""The review shows what the dossier will cost, line by line, in the person's language.

Screenshots of the review with its fees are saved under ``out/screenshots/<lang>/`` (62, 63).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from tests.support import fill
from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens import screen_services, show_screen
from ui.i18n import Translator
from ui.screens.review import ReviewScreen
from ui.services import UiServices
from ui.tasks import TaskRunner

LRE, PDF, NBSP, RLM = "\u202a", "\u202c", "\u00a0", "\u200f"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[UiServices]:
    with screen_services(tmp_path) as built:
        yield built


def _review(qtbot: QtBot, services: UiServices, lang: str, reference: str) -> ReviewScreen:
    runner = TaskRunner()
    screen = ReviewScreen(services.review(), runner, Translator(lang))
    show_screen(qtbot, screen, lang)
    screen.open(reference)
    qtbot.waitUntil(lambda: runner.idle and screen.fees_panel is not None)
    return screen


def _shot(screen: ReviewScreen, lang: str, name: str) -> None:
    """The screen, scrolled down to its fees, saved for a person to look at."""
    assert screen.fees_panel is not None
    QApplication.processEvents()
    screen.scroll_area.ensureWidgetVisible(screen.fees_panel, 0, 0)
    QApplication.processEvents()
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    assert screen.grab().save(str(folder / f"{name}.png"))


@pytest.mark.parametrize(
    ("lang", "rows"),
    [
        (
            "fr",
            [
                ("Taxe régionale (Y.1)", f"420,00{NBSP}€", f"7 CV × 60,00{NBSP}€ (Bretagne)"),
                ("Taxe fixe (Y.4)", f"11,00{NBSP}€", "montant fixe, quelle que soit la région"),
                (
                    "Redevance d'acheminement (Y.5)",
                    f"2,76{NBSP}€",
                    "envoi du certificat à domicile",
                ),
                ("Total", f"433,76{NBSP}€", ""),
            ],
        ),
        (
            "en",
            [
                ("Regional tax (Y.1)", "€420.00", "7 CV × €60.00 (Bretagne)"),
                ("Fixed tax (Y.4)", "€11.00", None),
                ("Delivery fee (Y.5)", "€2.76", None),
                ("Total", "€433.76", ""),
            ],
        ),
        (
            "ar",
            [
                (
                    "الضريبة الجهوية (Y.1)",
                    f"{LRE}420,00{NBSP}€{PDF}",
                    f"7 حصان جبائي × {LRE}60,00{NBSP}€{PDF} {RLM}({LRE}Bretagne{PDF})",
                ),
                ("الضريبة الثابتة (Y.4)", f"{LRE}11,00{NBSP}€{PDF}", None),
                ("رسم الإرسال (Y.5)", f"{LRE}2,76{NBSP}€{PDF}", None),
                ("المجموع", f"{LRE}433,76{NBSP}€{PDF}", ""),
            ],
        ),
    ],
)
def test_the_review_lists_each_fee_with_its_amount_and_basis_and_the_total_in_bold(
    qtbot: QtBot,
    services: UiServices,
    lang: str,
    rows: list[tuple[str, str, str | None]],
) -> None:
    reference = services.dossiers.create("changement_titulaire").reference
    fill(services.dossiers, reference, services.catalog.latest("changement_titulaire"))
    screen = _review(qtbot, services, lang, reference)
    _shot(screen, lang, "62-vérification-frais")
    panel = screen.fees_panel
    assert panel is not None and panel.isVisible()
    shown = [(label, amount, basis if want is not None else None) for (label, amount, basis), (
        _l, _a, want) in zip(panel.rows, rows, strict=True)]  # fmt: skip
    assert shown == rows
    assert panel.total == rows[-1][1]
    # The total is the one line in bold.
    bold = [w.text() for w in panel.findChildren(QLabel) if w.text().startswith("<b>")]
    assert len(bold) == 2 and all(rows[-1][1] in t or rows[-1][0] in t for t in bold)
    tr = Translator(lang)
    texts = [w.text() for w in panel.findChildren(QLabel)]
    assert tr.t("fees.title") in texts
    assert tr.t("fees.authoritative") in texts  # the national service's amount is the one due
    assert panel.missing == []


@pytest.mark.parametrize(
    ("lang", "heading", "reason"),
    [
        (
            "fr",
            "Manque pour calculer :",
            "Pour calculer Taxe régionale (Y.1), répondez à « Puissance fiscale, en chevaux"
            " fiscaux (CV) ».",
        ),
        ("ar", "ما ينقص للحساب:", None),
    ],
)
def test_a_fee_that_cannot_be_computed_says_what_is_missing_and_gives_no_total(
    qtbot: QtBot, services: UiServices, lang: str, heading: str, reason: str | None
) -> None:
    dossiers = services.dossiers
    reference = dossiers.create("changement_titulaire").reference
    dossiers.answer(reference, "adresse", "12 rue de la Paix | 56000 | Vannes")
    dossiers.answer(reference, "genre_vehicule", "voiture")
    dossiers.answer(reference, "energie", "essence")
    dossiers.answer(reference, "date_premiere_immatriculation", "2022-03-01")
    screen = _review(qtbot, services, lang, reference)
    _shot(screen, lang, "63-vérification-frais-incomplets")
    panel = screen.fees_panel
    assert panel is not None
    assert panel.total is None
    assert Translator(lang).t("fees.total") not in [label for label, _, _ in panel.rows]
    texts = [w.text() for w in panel.findChildren(QLabel)]
    assert heading in texts
    assert Translator(lang).t("fees.no_total") in texts
    assert len(panel.missing) == 1
    if reason is not None:
        assert panel.missing[0] == reason
    else:  # the sentence is Arabic, the question's label too (the démarche's translation)
        assert "Y.1" in panel.missing[0] and "CV" in panel.missing[0]
        assert "Pour calculer" not in panel.missing[0]
