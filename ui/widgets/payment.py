"""A filed dossier's payment on its card, for the agent at the counter: the amount asked and its
payment reference when the national service has given them, the timbres fiscaux already given
and where each stands, and the field where a timbre bought at a tobacconist's is typed.

The panel presents and asks; the card records the timbre through the use case
(``kiosk.dossiers.payment``) off the UI thread and tells the panel what came of it. Every
sentence is in the person's language: the kiosk's own words from the screens' catalogue, the
national service's refusals from the domain's messages; numbers, references and amounts stay
left to right inside an Arabic line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.dossiers.payment import ACCEPTED, PAYABLE, REFUSED, SENDING, grouped
from kiosk.fees import format_euros
from kiosk.messages import format_date, translate
from ui.i18n import Translator
from ui.widgets.fields import DIGITS_HINTS

if TYPE_CHECKING:
    from kiosk.dossiers.payment import PaymentView, TimbreView


def _label(text: str, object_name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if object_name:
        label.setObjectName(object_name)
    return label


def timbre_status(timbre: TimbreView, tr: Translator) -> str:
    """Where a timbre stands, in the person's language (« refusé : Ce timbre a déjà été
    utilisé… », « accepté : 25,00 € »)."""
    lang = tr.lang
    if timbre.state == ACCEPTED:
        if timbre.amount_cents is None:
            return tr.t("payment.accepted")
        amount = tr.data(format_euros(timbre.amount_cents, lang))
        if timbre.remaining_cents:
            remaining = tr.data(format_euros(timbre.remaining_cents, lang))
            return tr.t("payment.accepted_remaining", amount=amount, remaining=remaining)
        return tr.t("payment.accepted_amount", amount=amount)
    if timbre.state == REFUSED:
        if not timbre.message:
            return tr.t("payment.refused")
        # The service's refusals are fixed French labels (kiosk/ports/national.py).
        return tr.t("payment.refused_reason", reason=translate(timbre.message, lang))
    # Waiting: its message, if any, is the last network error, for the logs, not the person.
    return tr.t("payment.sending" if timbre.state == SENDING else "payment.pending")


class PaymentPanel(QWidget):
    """The payment of one dossier, built from a :class:`~kiosk.dossiers.payment.PaymentView`;
    the timbre form only while the dossier takes one."""

    submitted = Signal(str)  # the timbre number as typed

    def __init__(self, view: PaymentView, tr: Translator) -> None:
        super().__init__()
        self.setObjectName("payment")
        self._tr = tr
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 8, 0, 8)
        column.addWidget(_label(tr.t("payment.title"), "subtitle"))
        self._add_amount(column, view)
        #: One (number, given, status) per timbre, as shown: what a test reads.
        self.timbres: list[tuple[str, str, str]] = []
        self._add_timbres(column, view)
        self.pay_button = QPushButton(tr.t("payment.pay"))
        self.pay_button.clicked.connect(self._open_form)
        self.number = QLineEdit()
        self.save_button = QPushButton(tr.t("payment.save"))
        self.form = self._form()
        #: What came of the last timbre typed (an error, or where it goes next).
        self.message = _label("")
        self.message.hide()
        if view.state in PAYABLE:
            buttons = QHBoxLayout()
            buttons.addWidget(self.pay_button)
            buttons.addStretch(1)
            column.addLayout(buttons)
            column.addWidget(self.form)
            column.addWidget(self.message)

    def _add_amount(self, column: QVBoxLayout, view: PaymentView) -> None:
        """The amount asked and the payment reference, once the national service gave them."""
        t = self._tr.t
        if view.payment_amount_cents is not None:
            amount = self._tr.data(format_euros(view.payment_amount_cents, self._tr.lang))
            column.addWidget(_label(t("payment.amount", amount=amount)))
        if view.payment_reference:
            said = t("payment.reference", reference=self._tr.data(view.payment_reference))
            column.addWidget(_label(said))
        elif view.state in PAYABLE:
            column.addWidget(_label(t("payment.reference_unknown"), "muted"))

    def _add_timbres(self, column: QVBoxLayout, view: PaymentView) -> None:
        """The timbres given, one a line: the number, the day, where it stands."""
        tr, lang = self._tr, self._tr.lang
        if not view.timbres:
            if view.state in PAYABLE:
                column.addWidget(_label(tr.t("payment.no_timbre"), "muted"))
            return
        column.addWidget(_label(tr.t("payment.timbres")))
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setColumnStretch(2, 1)
        for row, timbre in enumerate(view.timbres):
            cells = (
                tr.data(grouped(timbre.timbre)),
                tr.t("payment.given", date=format_date(timbre.given_at, lang)),
                timbre_status(timbre, tr),
            )
            self.timbres.append(cells)
            number, given, status = cells
            # The number and the day whole on their line; the status takes what is left.
            grid.addWidget(QLabel(number), row, 0, Qt.AlignmentFlag.AlignTop)
            day = QLabel(given)
            day.setObjectName("muted")
            grid.addWidget(day, row, 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(_label(status, "error" if timbre.state == REFUSED else ""), row, 2)
        column.addLayout(grid)

    def _form(self) -> QWidget:
        """The number's box and « Enregistrer le timbre », hidden until « Payer avec un timbre
        fiscal » is pressed."""
        form = QWidget()
        box = QVBoxLayout(form)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(_label(self._tr.t("payment.number")))
        entry = QHBoxLayout()
        # The digit pad of the on-screen keyboard, Western digits whatever the language.
        self.number.setInputMethodHints(DIGITS_HINTS)
        self.number.setPlaceholderText("1234 5678 9012 3456")
        self.number.setAccessibleName(self._tr.t("payment.number"))
        self.number.returnPressed.connect(self._submit)
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self._submit)
        entry.addWidget(self.number, 1)
        entry.addWidget(self.save_button)
        box.addLayout(entry)
        form.hide()
        return form

    def _open_form(self) -> None:
        self.pay_button.hide()
        self.form.show()
        self.number.setFocus()

    def _submit(self) -> None:
        if self.number.text().strip():
            self.save_button.setEnabled(False)
            self.submitted.emit(self.number.text())

    def show_error(self, message: str, typed: str) -> None:
        """The timbre was not recorded: say why, with what was typed still in the box."""
        self._open_form()
        self.number.setText(typed)
        self.save_button.setEnabled(True)
        self._say(message, error=True)

    def show_saved(self, timbre: str) -> None:
        """The timbre is recorded: the box is emptied for another one."""
        self._open_form()
        self.number.clear()
        self.save_button.setEnabled(True)
        self._say(self._tr.t("payment.saved", timbre=self._tr.data(grouped(timbre))), error=False)

    def _say(self, text: str, *, error: bool) -> None:
        # Success in the body's own size: the agent reads it to the person.
        self.message.setObjectName("error" if error else "")
        self.message.setText(text)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.show()
