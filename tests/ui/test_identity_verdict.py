"""The identity verdict in words a person understands, with the checks' detail for the agent.

The panel with its details open is saved under ``out/screenshots/<lang>/50-identité-*.png``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.identity.model import AccessKey, DocumentKind, IdentityReading, Verdict
from kiosk.identity.mrz import parse_mrz
from kiosk.ports.identity import CardEvent, ProgressCallback
from tests.ui.conftest import SCREENSHOTS
from ui.i18n import Translator
from ui.tasks import TaskRunner
from ui.theme import Look, load_fonts, stylesheet
from ui.widgets.identity import IdentityPanel

CNIE = (
    "IDFRAX4RTBPFW46<<<<<<<<<<<<<<<\n9007138F3002119FRA<<<<<<<<<<<6\nMARTIN<<MAELYS<GAELLE<MARIE<<<"
)
PASSPORT = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
OLD_CNI = "IDFRADOUEL<<<<<<<<<<<<<<<<<<<<932013\n0506932020438CHRISTIANE<<NI2906209F3"
AUTHENTIC_REASON = (
    "Authentique : données signées par l'autorité « CSCA-FRANCE » et intactes (DG1, DG2). "
    "Puce authentique (Chip Authentication réussie)."
)


def chip_reading(mrz: str, verdict: Verdict, reason: str) -> IdentityReading:
    """What the reader gives after a chip read (built by hand: the reader is faked here)."""
    parsed = parse_mrz(mrz)
    return IdentityReading(
        kind=parsed.kind,
        mrz=parsed,
        verdict=verdict,
        verdict_reason=reason,
        chip_verified=verdict is Verdict.AUTHENTIQUE,
        protocol="PACE-GM-AES-256 + CA" if verdict is Verdict.AUTHENTIQUE else "PACE-GM-AES-256",
        file_io={"DG1": (1, 120), "DG2": (2, 20450), "SOD": (1, 1900)},
    )


class _Reader:
    """A reader on whose pad lies a card that reads as ``reading``."""

    def __init__(self, reading: IdentityReading) -> None:
        self.reading = reading

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        return self.reading

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        return lambda: None


def read(qtbot: QtBot, reading: IdentityReading, lang: str = "fr") -> IdentityPanel:
    tr = Translator(lang)
    panel = IdentityPanel(_Reader(reading), TaskRunner(), tr)
    qtbot.addWidget(panel)
    panel.setStyleSheet(stylesheet(Look(), load_fonts()))  # as the kiosk shows it
    panel.setLayoutDirection(
        Qt.LayoutDirection.RightToLeft if tr.right_to_left else Qt.LayoutDirection.LeftToRight
    )
    panel.resize(1100, 1000)
    panel.show()
    panel.can.setText("123456")
    panel.read_button.click()
    qtbot.waitUntil(lambda: panel.reading is not None)
    return panel


def snap(panel: IdentityPanel, lang: str, name: str) -> None:
    QApplication.processEvents()  # the layout follows the toggle's new text, as on screen
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    assert panel.grab().save(str(folder / f"{name}.png"))


def test_a_genuine_card_reads_carte_authentique_and_its_detail_waits_behind_a_toggle(
    qtbot: QtBot,
) -> None:
    panel = read(qtbot, chip_reading(CNIE, Verdict.AUTHENTIQUE, AUTHENTIC_REASON))
    assert panel.verdict.text() == "Carte authentique ✓"
    assert panel.verdict.objectName() == "verdict_authentique"
    assert not panel.verdict_why.isVisible()  # nothing to explain
    # The checks' words are for the agent, on demand.
    assert "PACE" not in panel.data.text() and "DG1" not in panel.data.text()
    assert not panel.details.isVisible()
    assert panel.details_button.text() == "Détails"
    panel.details_button.click()
    assert panel.details.isVisible()
    assert panel.details_button.text() == "Masquer les détails"
    details = panel.details.text()
    assert "Protocole : PACE-GM-AES-256 + CA" in details
    assert "Données lues sur la puce : DG1, DG2, SOD" in details
    assert "Puce authentifiée (Chip Authentication)." in details
    assert AUTHENTIC_REASON in details
    snap(panel, "fr", "50-identité-détails")
    assert panel.confirm.isVisible()


def test_a_genuine_passport_says_so_in_english(qtbot: QtBot) -> None:
    reading = chip_reading(PASSPORT, Verdict.AUTHENTIQUE, AUTHENTIC_REASON)
    assert reading.kind is DocumentKind.PASSEPORT
    panel = read(qtbot, reading, "en")
    assert panel.verdict.text() == "Genuine passport ✓"
    panel.details_button.click()
    assert panel.details_button.text() == "Hide the details"
    assert "Protocol: PACE-GM-AES-256 + CA" in panel.details.text()


def test_a_forged_document_is_not_to_be_accepted_and_cannot_be_used(qtbot: QtBot) -> None:
    reason = "Falsifié : la signature du document de sécurité de la puce est invalide."
    panel = read(qtbot, chip_reading(CNIE, Verdict.FALSIFIE, reason), "ar")
    assert panel.verdict.text() == "وثيقة مشبوهة: لا تقبلها"
    assert panel.verdict.objectName() == "verdict_falsifie"
    assert panel.verdict_why.text().startswith("بيانات الشريحة لا تطابق توقيع الدولة")
    assert not panel.confirm.isVisible()
    panel.details_button.click()
    assert reason in panel.details.text()  # the checks' French words, kept left to right
    snap(panel, "ar", "50-identité-suspecte")


@pytest.mark.parametrize(
    ("lang", "why"),
    [
        (
            "fr",
            "La puce a été lue, mais la borne n'a pas pu vérifier qu'elle a été délivrée par "
            "l'État.",
        ),
        ("en", "The chip was read, but the kiosk could not check that it was issued by the State."),
    ],
)
def test_an_unverified_chip_says_what_could_not_be_checked(
    qtbot: QtBot, lang: str, why: str
) -> None:
    reason = "Non vérifié : le certificat de l'autorité émettrice « CSCA-XYZ » est inconnu."
    panel = read(qtbot, chip_reading(CNIE, Verdict.NON_VERIFIE, reason), lang)
    assert panel.verdict.text() == Translator(lang).t("identity.verdict.unverified")
    assert panel.verdict.objectName() == "verdict_non_verifie"
    assert panel.verdict_why.text() == why
    assert panel.confirm.isVisible()


def test_a_card_without_a_chip_is_unverified_because_it_has_no_chip(qtbot: QtBot) -> None:
    panel = IdentityPanel(None, TaskRunner(), Translator("fr"))
    qtbot.addWidget(panel)
    panel.mrz.setPlainText(OLD_CNI)
    panel.read_mrz()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert panel.verdict.text() == "Authenticité non vérifiée"
    assert panel.verdict_why.text() == (
        "Cette carte n'a pas de puce : la borne ne peut pas vérifier qu'elle est authentique."
    )
    assert "Protocole : MRZ" in panel.details.text()
    assert "Données lues" not in panel.details.text()  # no chip, nothing read from one
