"""What happened after the counter, on a filed dossier's card: what the national service asked
and by when, the documents it issued to hand over, how to reach the person and every attempt
made, and the buttons that record the next one (a call answered or not, a message left).

The service's own words (the reasons) are French whatever the screen's language: they are shown
as the service wrote them, beside their translated kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from kiosk.followup.contact import Channel, Outcome
from kiosk.messages import format_date, format_time
from ui.i18n import Translator

if TYPE_CHECKING:
    from kiosk.followup.worklist import WorkItem

#: The attempts an agent records from the card (a letter and a text message record themselves).
CALL_OUTCOMES = (Outcome.JOINT, Outcome.INJOIGNABLE, Outcome.MESSAGE)


def need_text(item: WorkItem, tr: Translator) -> str:
    """Why the dossier is followed, in the screen's language."""
    if item.need is None:
        return tr.t("followup.need.none", state=tr.t(f"state.{item.state.value}"))
    return tr.t(f"followup.need.{item.need.value}")


def contact_text(item: WorkItem, tr: Translator) -> str:
    """How to reach the person: the channel they chose, then the phone or the address."""
    mode = item.contact_mode if item.contact_mode in {"telephone", "courrier", "guichet"} else None
    text = tr.t(f"followup.contact.{mode or 'none'}")
    if item.telephone and mode == "telephone":
        text += " · " + tr.data(item.telephone)
    elif item.address and mode == "courrier":
        text += " · " + tr.data(", ".join(item.address))
    return text


def told_text(item: WorkItem, tr: Translator) -> str:
    """Whether the person was told of the latest decision, and how many attempts were made."""
    told = (
        tr.t("followup.told", date=format_date(item.told_at, tr.lang))
        if item.told_at is not None
        else tr.t("followup.not_told")
    )
    return tr.t("followup.attempts", told=told, count=len(item.attempts))


class FollowUpPanel(QFrame):
    """A filed dossier's follow-up, and the attempts to record."""

    contacted = Signal(object, object)  # Channel, Outcome
    handed = Signal(int)  # the id of the national document handed over
    letter = Signal()  # print the letter announcing the latest decision
    print_document = Signal(int)  # the id of a national document to print

    def __init__(self, item: WorkItem, tr: Translator, *, letters: bool = False) -> None:
        """``letters``: offer « Imprimer la lettre » (a printer and the letters are set up)."""
        super().__init__()
        self.setObjectName("panel")
        self.item = item
        self.tr_ = tr
        self._letters = letters
        self.print_buttons: dict[int, QPushButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self._label(tr.t("followup.title"), "subtitle"))
        layout.addWidget(self._label(need_text(item, tr)))
        self._asked(layout)
        self.hand_buttons: dict[int, QPushButton] = {}
        self._documents(layout)
        layout.addWidget(self._label(contact_text(item, tr)))
        layout.addWidget(self._label(told_text(item, tr), "muted"))
        self._attempts(layout)
        self.call_buttons: dict[Outcome, QPushButton] = {}
        self._buttons(layout)
        # Parented at once: a button shown before it has a parent is a window of its own.
        self.letter_button = QPushButton(tr.t("followup.print_letter"), self)
        self.letter_button.clicked.connect(self.letter.emit)
        # A letter needs an address to go to, and a decision to announce.
        self.letter_button.setVisible(letters and bool(item.address) and item.need is not None)
        row = QHBoxLayout()
        row.addWidget(self.letter_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.message = self._label("", "error")
        self.message.hide()
        layout.addWidget(self.message)

    def _asked(self, layout: QVBoxLayout) -> None:
        """What the service asked (its words) and by when."""
        item, tr, t = self.item, self.tr_, self.tr_.t
        if item.reasons:
            layout.addWidget(self._label(t("followup.asked")))
            for reason in item.reasons:
                kind = t(f"followup.kind.{reason.kind.value}")
                layout.addWidget(self._label(tr.line(f"• {kind} : {reason.message}")))
        elif item.reason_text:
            layout.addWidget(self._label(t("followup.reason", reason=item.reason_text)))
        if item.deadline is not None:
            deadline = t("followup.deadline", date=format_date(item.deadline, tr.lang))
            layout.addWidget(self._label(deadline, "error"))

    def _documents(self, layout: QVBoxLayout) -> None:
        """The documents the service issued, each with its « handed over » button."""
        tr, t = self.tr_, self.tr_.t
        for document in self.item.to_hand_over:
            row = QHBoxLayout()
            key = "followup.document.received" if document.received else "followup.document.waiting"
            row.addWidget(self._label(tr.line(f"{document.label} · {t(key)}")), 1)
            if document.received and self._letters:  # printed here for the person
                printing = QPushButton(t("followup.print_document"), self)
                printing.clicked.connect(lambda _=False, d=document.id: self.print_document.emit(d))
                self.print_buttons[document.id] = printing
                row.addWidget(printing)
            if document.received:  # nothing to hand over before it arrives
                button = QPushButton(t("followup.hand_over"), self)
                button.clicked.connect(lambda _=False, d=document.id: self.handed.emit(d))
                self.hand_buttons[document.id] = button
                row.addWidget(button)
            layout.addLayout(row)

    def _attempts(self, layout: QVBoxLayout) -> None:
        """Every attempt made, oldest first, with its agent and note."""
        tr, t = self.tr_, self.tr_.t
        for attempt in self.item.attempts:
            line = t(
                "followup.attempt",
                date=format_date(attempt.at, tr.lang),
                time=format_time(attempt.at),
                channel=t(f"followup.channel.{attempt.channel.value}"),
                outcome=t(f"followup.outcome.{attempt.outcome.value}"),
            )
            if attempt.agent:
                line += " · " + attempt.agent
            if attempt.note:
                line += " — " + attempt.note
            layout.addWidget(self._label(tr.line(line), "muted"))

    def _buttons(self, layout: QVBoxLayout) -> None:
        """A call's outcomes (when there is a phone), and « came to the counter »."""
        item, t = self.item, self.tr_.t
        if item.telephone:
            layout.addWidget(self._label(t("followup.record_call")))
            row = QHBoxLayout()
            for outcome in CALL_OUTCOMES:
                button = QPushButton(t(f"followup.outcome.{outcome.value}"))
                button.clicked.connect(
                    lambda _=False, o=outcome: self.contacted.emit(Channel.TELEPHONE, o)
                )
                self.call_buttons[outcome] = button
                row.addWidget(button)
            row.addStretch(1)
            layout.addLayout(row)
        self.came_button = QPushButton(t("followup.outcome.venu"), self)
        self.came_button.clicked.connect(lambda: self.contacted.emit(Channel.GUICHET, Outcome.VENU))
        self.came_button.setVisible(item.need is not None and item.told_at is None)
        row = QHBoxLayout()
        row.addWidget(self.came_button)
        row.addStretch(1)
        layout.addLayout(row)

    def show_error(self, text: str) -> None:
        """Say why the last attempt could not be recorded."""
        self.show_message(text, "error")

    def show_message(self, text: str, object_name: str = "saved") -> None:
        """Say what came of the last action (« Lettre imprimée », an error)."""
        self.message.setObjectName(object_name)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    @staticmethod
    def _label(text: str, object_name: str = "") -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        if object_name:
            label.setObjectName(object_name)
        return label
