"""After the counter, on screen: the worklist of the dossiers that need someone, the card's
follow-up panel (what the service asked, by when, the attempts, one tap to record a call), and
the correction in the wizard, where only what the service asked can change.

Screenshots under ``out/screenshots/<lang>/70-suivi.png``, ``71-fiche-suivi.png`` and
``72-correction.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.dossiers.states import DossierState
from kiosk.followup.contact import Outcome
from kiosk.followup.reasons import Reason, ReasonKind
from kiosk.followup.worklist import Need
from tests.followup.support import decide
from tests.support import file_dossier, fill
from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens import card_screen, filed_dossier, screen_services, show_screen
from ui.i18n import Translator
from ui.screens.followup import FollowUpScreen
from ui.screens.wizard import WizardScreen
from ui.services import UiServices
from ui.tasks import TaskRunner

ASKED = (
    Reason(
        ReasonKind.PIECE_PERIMEE,
        "Le justificatif de domicile a plus de 6 mois.",
        piece="justificatif_domicile",
    ),
    Reason(ReasonKind.CHAMP_INCORRECT, "Le code postal est faux.", field="usager.adresse"),
)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[UiServices]:
    with screen_services(tmp_path) as built:
        yield built


def _sent_back(services: UiServices) -> str:
    """A dossier sent back « à compléter », its person to be told by text message."""
    dossiers = services.dossiers
    reference = dossiers.create("changement_adresse").reference
    fill(dossiers, reference, services.catalog.latest("changement_adresse"))
    dossiers.answer(reference, "mode_contact", "telephone")
    dossiers.answer(reference, "telephone_portable", "06 12 34 56 78")
    file_dossier(dossiers, reference)
    services.dossiers.acknowledge(reference, national_number="NAT-1")
    decide(services.dossiers, reference, DossierState.A_COMPLETER, ASKED, date(2026, 4, 1))
    return reference


def _refused(services: UiServices) -> str:
    reference = filed_dossier(services, "changement_adresse")
    services.dossiers.acknowledge(reference, national_number="NAT-2")
    decide(services.dossiers, reference, DossierState.REFUSE, text="Le véhicule est gagé.")
    return reference


def _shoot(screen: object, lang: str, name: str) -> None:
    QApplication.processEvents()
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    assert screen.grab().save(str(folder / name))  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_worklist_lists_who_needs_someone_and_narrows_by_need(
    qtbot: QtBot, services: UiServices, lang: str
) -> None:
    sent_back, refused = _sent_back(services), _refused(services)
    filed_dossier(services, "changement_adresse")  # waiting for its decision: not listed
    worklist = services.worklist()
    assert worklist is not None
    runner = TaskRunner()
    screen = FollowUpScreen(worklist, runner, Translator(lang))
    show_screen(qtbot, screen, lang)  # showing it reads the list
    qtbot.waitUntil(lambda: runner.idle and screen.items.count() == 2)
    rows = [screen.items.item(i).text() for i in range(screen.items.count())]
    assert sent_back in rows[0]  # the one with a deadline first
    assert refused in rows[1]
    assert "01/04/2026" in rows[0] or lang != "fr"
    assert "(2)" in screen.filter_buttons[None].text()
    _shoot(screen, lang, "70-suivi.png")

    QTest.mouseClick(screen.filter_buttons[Need.REFUSE], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: runner.idle and screen.items.count() == 1)
    assert refused in screen.items.item(0).text()
    assert screen.filter_buttons[Need.REFUSE].isChecked()

    with qtbot.waitSignal(screen.open_dossier) as opened:
        screen.items.setCurrentRow(0)
        QTest.keyClick(screen.items, Qt.Key.Key_Return)
    assert opened.args == [refused]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_card_shows_what_was_asked_and_records_a_call(
    qtbot: QtBot, services: UiServices, lang: str
) -> None:
    reference = _sent_back(services)
    screen = card_screen(qtbot, services, lang, reference)
    panel = screen.followup_panel
    assert panel is not None
    texts = " ".join(label.text() for label in panel.findChildren(type(screen.title)))
    assert "Le justificatif de domicile a plus de 6 mois." in texts  # the service's words
    assert screen.continue_button.isVisible()
    assert screen.continue_button.text() == Translator(lang).t("card.correct")
    assert screen.attach_button.text() == Translator(lang).t("card.attach_asked")
    _shoot(screen, lang, "71-fiche-suivi.png")

    QTest.mouseClick(panel.call_buttons[Outcome.INJOIGNABLE], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.followup_panel is not panel)
    item = services.followup.item(reference)  # type: ignore[union-attr]
    assert [a.outcome for a in item.attempts] == [Outcome.INJOIGNABLE]
    new_panel = screen.followup_panel
    assert new_panel is not None
    shown = " ".join(label.text() for label in new_panel.findChildren(type(screen.title)))
    assert Translator(lang).t("followup.outcome.injoignable") in shown


def test_the_correction_locks_every_answer_the_service_did_not_ask_for(
    qtbot: QtBot, services: UiServices
) -> None:
    reference = _sent_back(services)
    runner = TaskRunner()
    wizard = WizardScreen(services.wizard(), runner, Translator("fr"))
    show_screen(qtbot, wizard, "fr")
    wizard.open(reference)
    qtbot.waitUntil(lambda: runner.idle and "adresse" in wizard.editors)
    # Opened straight on the step of the answer asked, which can change.
    assert wizard.editors["adresse"].isEnabled()
    assert wizard.correction_note.isVisible()
    assert "verrouillées" in wizard.correction_note.text()
    _shoot(wizard, "fr", "72-correction.png")

    wizard.step_index = 0
    wizard._render()
    locked = wizard.editors["nom"]
    assert not locked.isEnabled()
    assert "n'a pas demandé" in locked.toolTip()
    # The card would fill only locked answers: no read offered.
    assert wizard.identity_panel is not None and not wizard.identity_panel.isEnabled()


def _refused_by_post(services: UiServices) -> str:
    """A dossier refused, its person to be told by letter."""
    dossiers = services.dossiers
    reference = dossiers.create("changement_adresse").reference
    fill(dossiers, reference, services.catalog.latest("changement_adresse"))
    dossiers.answer(reference, "mode_contact", "courrier")
    file_dossier(dossiers, reference)
    dossiers.acknowledge(reference, national_number="NAT-3")
    decide(dossiers, reference, DossierState.REFUSE, text="Le véhicule est gagé.")
    return reference


def test_a_letter_is_printed_in_one_tap_and_tells_the_person(
    qtbot: QtBot, services: UiServices, tmp_path: Path
) -> None:
    reference = _refused_by_post(services)
    screen = card_screen(qtbot, services, "fr", reference)
    panel = screen.followup_panel
    assert panel is not None
    assert panel.letter_button.isVisible()
    panel.letter_button.click()
    qtbot.waitUntil(lambda: screen.followup_panel is not panel)
    printed = sorted((tmp_path / "recus").glob("*.pdf"))
    assert len(printed) == 1
    item = services.followup.item(reference)  # type: ignore[union-attr]
    assert [a.outcome for a in item.attempts] == [Outcome.IMPRIME]
    assert item.told_at is not None
    new_panel = screen.followup_panel
    assert new_panel is not None
    assert new_panel.message.text() == "Lettre imprimée : à mettre sous enveloppe à fenêtre."


def test_the_days_letters_are_printed_from_the_worklist_once(
    qtbot: QtBot, services: UiServices, tmp_path: Path
) -> None:
    first, second = _refused_by_post(services), _refused_by_post(services)
    _sent_back(services)  # told by text message: no letter
    worklist = services.worklist()
    assert worklist is not None
    runner = TaskRunner()
    screen = FollowUpScreen(worklist, runner, Translator("fr"))
    show_screen(qtbot, screen, "fr")
    qtbot.waitUntil(lambda: runner.idle and screen.letters_button.text().endswith("(2)"))
    screen.letters_button.click()
    qtbot.waitUntil(lambda: runner.idle and screen.letters_button.text().endswith("(0)"))
    assert screen.letters_message.text() == "Lettres envoyées à l'imprimante : 2."
    assert not screen.letters_button.isEnabled()
    assert len(list((tmp_path / "recus").glob("*.pdf"))) == 1  # one batch, a page each
    for reference in (first, second):
        told = services.followup.item(reference)  # type: ignore[union-attr]
        assert [a.outcome for a in told.attempts] == [Outcome.IMPRIME]


class _WindowsShown(QObject):
    """Records every window Qt shows (a widget shown before it has a parent is one)."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and getattr(watched, "isWindow", lambda: False)():
            self.shown.append(watched.metaObject().className())
        return False


def test_building_the_follow_up_screens_shows_no_window_of_their_own(
    qtbot: QtBot, services: UiServices
) -> None:
    reference = _refused_by_post(services)
    watcher = _WindowsShown()
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(watcher)
    try:
        worklist = services.worklist()
        assert worklist is not None
        screen = FollowUpScreen(worklist, TaskRunner(), Translator("fr"))
        qtbot.addWidget(screen)
        card = card_screen(qtbot, services, "fr", reference)
        assert card.followup_panel is not None
    finally:
        app.removeEventFilter(watcher)
    # The card itself is shown alone by the test: it is the only window.
    assert watcher.shown == ["DossierCardScreen"], watcher.shown
