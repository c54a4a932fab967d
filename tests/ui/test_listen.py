"""« Écouter » in the wizard: the question, its help and the error under it read aloud in the
screen's language (French, English, Arabic), never an answer; a second tap stops; without a
voice the button is disabled and says why, in French, for the agent.

The speech is a fake that records what it is asked to read (tests/devices/test_speech.py reads
with the real speech service).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from devices.speech.silent import SWITCHED_OFF, SilentSpeech
from kiosk.ports.devices import Speech
from tests.ui.screens import screen_services, show_screen
from ui.i18n import Translator
from ui.screens.wizard import WizardScreen
from ui.services import UiServices
from ui.tasks import TaskRunner
from ui.widgets.fields import TextEditor

LEFT = Qt.MouseButton.LeftButton
#: What the person answered on the first step of « succession »: never read aloud.
ANSWERS = {"nom": "Martineau", "prenoms": "Paul Émile", "lieu_naissance": "Quimperlé"}


class FakeSpeech:
    """Records each reading; reads « until » :meth:`finish` or :meth:`stop`."""

    def __init__(self) -> None:
        self.said: list[tuple[list[str], str]] = []
        self.stops = 0
        self._speaking = False

    def unavailable(self, lang: str) -> str | None:
        return None

    def say(self, texts: Sequence[str], lang: str) -> None:
        self.said.append((list(texts), lang))
        self._speaking = True

    def speaking(self) -> bool:
        return self._speaking

    def stop(self) -> None:
        self.stops += 1
        self._speaking = False

    def finish(self) -> None:
        self._speaking = False


@pytest.fixture
def services(tmp_path: Path) -> Iterator[UiServices]:
    with screen_services(tmp_path) as built:
        yield built


def _wizard(qtbot: QtBot, services: UiServices, speech: Speech | None, lang: str) -> WizardScreen:
    """The first step of a « succession » dossier whose answers are given, in ``lang``."""
    reference = services.dossiers.create("succession").reference
    for path, value in ANSWERS.items():
        services.dossiers.answer(reference, path, value)
    services.dossiers.answer(reference, "date_naissance", "13/07/1990")
    runner = TaskRunner()
    wizard = WizardScreen(replace(services.wizard(), speech=speech), runner, Translator(lang))
    show_screen(qtbot, wizard, lang)
    wizard.open(reference)
    qtbot.waitUntil(lambda: runner.idle and "nom" in wizard.editors)
    return wizard


def _no_answer_in(texts: list[str]) -> None:
    spoken = " ".join(texts)
    for answer in [*ANSWERS.values(), "13/07/1990", "1990"]:
        assert answer not in spoken


def _type(qtbot: QtBot, wizard: WizardScreen, path: str, text: str) -> TextEditor:
    editor = wizard.editors[path]
    assert isinstance(editor, TextEditor)
    editor.edit.setText(text)
    editor.edit.editingFinished.emit()
    qtbot.waitUntil(lambda: wizard.runner.idle and wizard._pending == 0)
    editor = wizard.editors[path]
    assert isinstance(editor, TextEditor)
    return editor


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_listen_reads_the_step_and_its_questions_in_the_screen_language_never_the_answers(
    qtbot: QtBot, services: UiServices, lang: str
) -> None:
    speech = FakeSpeech()
    wizard = _wizard(qtbot, services, speech, lang)
    tr = Translator(lang)
    button = wizard.listen
    assert button.isVisible() and button.isEnabled()
    assert button.text() == tr.t("speech.listen")
    assert button.accessibleName() == tr.t("speech.listen_name")
    assert wizard.editors["nom"].edit.text() == "Martineau"  # type: ignore[attr-defined]

    qtbot.mouseClick(button, LEFT)  # type: ignore[no-untyped-call]
    assert len(speech.said) == 1
    texts, said_in = speech.said[0]
    assert said_in == lang
    localized = services.catalog.localized(services.catalog.latest("succession"), lang)
    step = localized.steps[0]
    assert texts[:2] == [step.title, step.help]
    labels = [f.label for f in step.fields]
    assert [t for t in texts if t in labels] == labels  # every question, in order
    assert tr.t("wizard.required") in texts or tr.t("wizard.optional") in texts
    assert step.fields[0].help in texts
    _no_answer_in(texts)
    if lang == "ar":
        assert button.text() == "إيقاف"

    # A second tap stops the reading; « Écouter » again.
    assert button.text() == tr.t("speech.stop")
    qtbot.mouseClick(button, LEFT)  # type: ignore[no-untyped-call]
    assert speech.stops == 1 and not speech.speaking()
    assert button.text() == tr.t("speech.listen")
    assert len(speech.said) == 1


def test_the_question_being_answered_is_read_with_its_error_but_never_what_was_typed(
    qtbot: QtBot, services: UiServices
) -> None:
    speech = FakeSpeech()
    wizard = _wizard(qtbot, services, speech, "fr")
    wizard.activateWindow()
    editor = _type(qtbot, wizard, "date_naissance", "17/05/2090")
    error = editor.message.text()
    assert error == "La date ne peut pas être dans le futur."
    editor.edit.setFocus()
    assert QApplication.focusWidget() is editor.edit

    qtbot.mouseClick(wizard.listen, LEFT)  # type: ignore[no-untyped-call]
    assert QApplication.focusWidget() is editor.edit  # the tap left the focus in the question
    required = "Obligatoire" if editor.field.required else "Facultatif"
    assert speech.said[-1] == (["Date de naissance", required, error], "fr")

    # Reading over: « Écouter » comes back by itself.
    speech.finish()
    qtbot.waitUntil(lambda: wizard.listen.text() == "Écouter")

    # An error that quotes what was typed is read without it.
    editor = _type(qtbot, wizard, "date_naissance", "31/02/1980")
    assert "31/02/1980" in editor.message.text()
    editor.edit.setFocus()
    qtbot.mouseClick(wizard.listen, LEFT)  # type: ignore[no-untyped-call]
    texts, _ = speech.said[-1]
    assert texts[-1] == Translator("fr").t("speech.answer_refused")
    assert not any("31/02" in text or "1980" in text for text in texts)

    # Arabic: the same question, its error in Arabic, read with the Arabic voice.
    wizard.tr_.set_language("ar")
    assert speech.stops >= 1  # the French reading stopped with the switch
    qtbot.waitUntil(lambda: wizard.runner.idle)
    wizard.editors["date_naissance"].edit.setFocus()  # type: ignore[attr-defined]
    qtbot.mouseClick(wizard.listen, LEFT)  # type: ignore[no-untyped-call]
    texts, lang = speech.said[-1]
    assert lang == "ar" and wizard.listen.text() == "إيقاف"
    assert texts[-1] == Translator("ar").t("speech.answer_refused")
    assert not any("31/02" in text for text in texts)


def test_the_warning_is_read_and_moving_to_another_step_or_leaving_stops_the_reading(
    qtbot: QtBot, services: UiServices
) -> None:
    speech = FakeSpeech()
    wizard = _wizard(qtbot, services, speech, "fr")
    # « Suivant » with the identity document not given: the warning is read too.
    qtbot.mouseClick(wizard.next_button, LEFT)  # type: ignore[no-untyped-call]
    assert wizard.notice.text().startswith("Des réponses obligatoires manquent")
    qtbot.mouseClick(wizard.listen, LEFT)  # type: ignore[no-untyped-call]
    assert speech.said[-1][0][-1] == wizard.notice.text()
    assert speech.speaking()
    qtbot.mouseClick(wizard.next_button, LEFT)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: wizard.step_index == 1)
    assert not speech.speaking() and wizard.listen.text() == "Écouter"
    qtbot.mouseClick(wizard.listen, LEFT)  # type: ignore[no-untyped-call]
    assert speech.speaking()
    wizard.hide()  # the screen left (the review, « Accueil », the inactivity lock)
    assert not speech.speaking()


def test_without_a_voice_listen_is_disabled_and_says_why_and_without_speech_it_is_absent(
    qtbot: QtBot, services: UiServices
) -> None:
    wizard = _wizard(qtbot, services, SilentSpeech(), "ar")
    button = wizard.listen
    assert button.isVisible() and not button.isEnabled()
    assert button.toolTip() == SWITCHED_OFF  # in French: the agent reads it
    assert button.accessibleDescription() == SWITCHED_OFF
    assert button.text() == "استمع"

    bare = _wizard(qtbot, services, None, "fr")
    assert not bare.listen.isVisible()
