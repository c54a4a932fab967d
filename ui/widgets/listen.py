"""The « Écouter » button: reads aloud, in the screen's language, the texts its screen gives it
(a question, its help, the error under it); a second tap stops the reading.

Nothing personal is read: a screen hands over the texts of its questions, never the answers
(:func:`question_texts` says what of a question is read, and replaces an error that quotes
what was typed). The reading goes through the ``Speech`` port (``devices/speech/``); without
one the button is not shown, and while it cannot read (no speech service, no voice for the
language, switched off) the button is disabled and says why, in French, for the agent.

A tap on the button does not take the focus from the question being answered (the question the
screen reads is the one with the focus); the keyboard still reaches it with Tab.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QPushButton

from ui.i18n import Translator

if TYPE_CHECKING:
    from PySide6.QtGui import QHideEvent

    from kiosk.demarches import FieldError
    from kiosk.ports.devices import Speech
    from ui.widgets.fields import FieldEditor

#: How often the button looks whether the reading is over (to show « Écouter » again), in ms.
POLL_MS = 250


def question_texts(
    editor: FieldEditor, tr: Translator, rejected: tuple[str, FieldError] | None = None
) -> list[str]:
    """What is read of one question: its label, whether an answer is required, its help and
    the error shown under it; never the answer.

    ``rejected`` is the answer the validator refused and its error, when that is the error
    shown: an error that quotes what was typed (« Le 31/02/1980 n'existe pas… ») is read as a
    sentence that does not.
    """
    field = editor.field
    texts = [field.label, tr.t("wizard.required" if field.required else "wizard.optional")]
    texts.append(field.help)
    if editor.message.objectName() == "error" and editor.message.text():
        error = editor.message.text()
        if rejected is not None and _quotes(rejected[1], rejected[0]):
            error = tr.t("speech.answer_refused")
        texts.append(error)
    return [text for text in texts if text]


def _quotes(error: FieldError, typed: str) -> bool:
    """Whether the message of ``error`` carries something of what was typed."""
    typed = typed.casefold()
    return any(str(value).casefold() in typed for value in error.reason.params.values())


class ListenButton(QPushButton):
    """« Écouter » / « Arrêter » for the texts ``texts()`` returns when tapped."""

    def __init__(
        self, speech: Speech | None, tr: Translator, texts: Callable[[], list[str]]
    ) -> None:
        super().__init__()
        self.setObjectName("listen")
        self._speech = speech
        self._tr = tr
        self._texts = texts
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check)
        self.clicked.connect(self._toggle)
        # A reading in the language left behind stops; the button is re-worded.
        tr.changed.connect(self._language_changed)
        if speech is None:
            self.hide()
        self.refresh()

    @property
    def reading(self) -> bool:
        """Whether this button's reading is under way."""
        return self._speech is not None and self._poll.isActive() and self._speech.speaking()

    def refresh(self) -> None:
        """Its words, in the current language, and whether it can be pressed (and why not)."""
        reading = self.reading
        self.setText(self._tr.t("speech.stop" if reading else "speech.listen"))
        self.setAccessibleName(self._tr.t("speech.stop_name" if reading else "speech.listen_name"))
        reason = self._speech.unavailable(self._tr.lang) if self._speech is not None else None
        self.setEnabled(reason is None)
        self.setToolTip(reason or "")
        self.setAccessibleDescription(reason or "")

    def stop(self) -> None:
        """Stop this button's reading (the step changed, the screen was left)."""
        if self._speech is not None and self._poll.isActive():
            self._poll.stop()
            self._speech.stop()
        self.refresh()

    def _toggle(self) -> None:
        if self._speech is None:
            return
        if self.reading:
            self.stop()
            return
        texts = [text for text in self._texts() if text.strip()]
        if texts and self._speech.unavailable(self._tr.lang) is None:
            self._speech.say(texts, self._tr.lang)
            self._poll.start()
        self.refresh()

    def _language_changed(self, _lang: str) -> None:
        self.stop()

    def _check(self) -> None:
        if self._speech is None or not self._speech.speaking():
            self._poll.stop()
            self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        """The screen is left (or locked): its reading stops."""
        self.stop()
        super().hideEvent(event)
