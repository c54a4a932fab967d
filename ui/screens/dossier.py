"""A dossier's own card, where a resumed or filed dossier opens: its state in words, what is
still missing, and what can be done next (continue it, attach the missing documents, reprint
its receipt), with the way home always there. A filed dossier shows the fees it kept at filing
and, once the national service has acknowledged it, the amount that service says is due — the
difference from the estimate in plain view for the agent. While it can be paid (filed, not yet
paid), the card shows the payment — the amount asked, its reference, the timbres fiscaux given
and where each stands — and takes a timbre bought at a tobacconist's (docs/fees.md, « Payer sans
carte bancaire »). A signed mandate shows until when it holds, or since when it is revoked, and
« Révoquer le mandat », confirmed first, then the attestation printed for the person."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.demarches import required_documents
from kiosk.dossiers.payment import PAYABLE
from kiosk.dossiers.states import DossierState
from kiosk.fees.kept import KeptEstimateError
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import CardServices
from ui.tasks import TaskRunner
from ui.widgets.fees import FeesPanel
from ui.widgets.followup import FollowUpPanel
from ui.widgets.mandate import MandatePanel
from ui.widgets.payment import PaymentPanel
from ui.widgets.scrolling import drop_page

if TYPE_CHECKING:
    from kiosk.dossiers.fees import FeesView
    from kiosk.dossiers.mandate import MandateStatus
    from kiosk.dossiers.payment import PaymentView
    from kiosk.dossiers.queries import CounterDossier
    from kiosk.followup.contact import Channel, Outcome
    from kiosk.followup.worklist import WorkItem

log = logging.getLogger(__name__)

#: States whose card shows the payment: those that take a timbre, and « payé » (read only).
_SHOWS_PAYMENT = PAYABLE | {DossierState.PAYE}


class DossierCardScreen(Screen):
    """One dossier at a glance, and its next steps."""

    proceed = Signal(str)  # reference: continue answering
    attach_documents = Signal(str)  # reference: the documents step
    reprint = Signal(str)  # reference: the receipt again
    home = Signal()

    def __init__(self, services: CardServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.reference = ""
        self._dossier: CounterDossier | None = None
        self._fees: FeesView | None = None
        #: The fees shown (a filed dossier's), None otherwise.
        self.fees_panel: FeesPanel | None = None
        self._payment: PaymentView | None = None
        #: The payment shown (a dossier filed and not decided), None otherwise.
        self.payment_panel: PaymentPanel | None = None
        self._followup: WorkItem | None = None
        #: What happened after the counter (a filed dossier's), None otherwise.
        self.followup_panel: FollowUpPanel | None = None
        self._mandate: MandateStatus | None = None
        #: The signed mandate shown, None otherwise.
        self.mandate_panel: MandatePanel | None = None
        # What came of the last timbre typed, said again in a new language: (typed, the
        # error) or (the timbre recorded, None).
        self._timbre_outcome: tuple[str, Exception | None] | None = None
        #: Opened from the worklist: « Accueil » becomes « Retour à la liste ».
        self.from_worklist = False
        self.scroll_area = self.add_scroll_area()
        self.error = self.add_label("error", hide_when_empty=True)
        row = QHBoxLayout()
        self.home_button = QPushButton()
        self.home_button.clicked.connect(self.home.emit)
        self.reprint_button = QPushButton()
        self.reprint_button.clicked.connect(lambda: self.reprint.emit(self.reference))
        self.attach_button = QPushButton()
        self.attach_button.clicked.connect(lambda: self.attach_documents.emit(self.reference))
        self.continue_button = QPushButton()
        self.continue_button.setObjectName("primary")
        self.continue_button.clicked.connect(lambda: self.proceed.emit(self.reference))
        row.addWidget(self.home_button)
        row.addStretch(1)
        for button in (self.reprint_button, self.attach_button, self.continue_button):
            button.hide()
            row.addWidget(button)
        self.layout_.addLayout(row)
        self.retranslate()

    @property
    def current(self) -> CounterDossier | None:
        """The dossier shown (None while it loads)."""
        return self._dossier

    def open(self, reference: str, *, from_worklist: bool = False) -> None:
        """Open the dossier through the counter's use case (off the UI thread)."""
        self.reference = reference
        self.from_worklist = from_worklist
        self.home_button.setText(self.tr_.t("card.back_to_list" if from_worklist else "card.home"))
        self._dossier = None
        self._fees = None
        self.fees_panel = None
        self._payment = None
        self.payment_panel = None
        self._followup = None
        self.followup_panel = None
        self._mandate = None
        self.mandate_panel = None
        self._timbre_outcome = None
        self.error.clear()
        drop_page(self.scroll_area)
        for button in (self.reprint_button, self.attach_button, self.continue_button):
            button.hide()
        agent_id = self.agent_id
        lang = self.tr_.lang
        followup = self.services.followup

        Loaded = tuple[
            "CounterDossier",
            "FeesView | None",
            "PaymentView | None",
            "WorkItem | None",
            "MandateStatus | None",
        ]

        def load() -> Loaded:  # worker thread
            dossier = self.services.dossiers.open(reference, agent_id=agent_id)
            fees = None
            if dossier.filed:
                try:
                    fees = self.services.fees.fees(reference, lang=lang)
                except KeptEstimateError:
                    fees = None  # the card goes on without them (``kiosk frais`` says why)
            payment = None
            if dossier.view.summary.state in _SHOWS_PAYMENT:
                payment = self.services.payments.payment(reference)
            item = None
            if followup is not None and dossier.filed:
                item = followup.item(reference)
            mandates = self.services.mandates
            mandate = mandates.status(reference) if mandates is not None else None
            return dossier, fees, payment, item, mandate

        def loaded(result: Loaded) -> None:
            self._fees = result[1]
            self._payment = result[2]
            self._followup = result[3]
            self._mandate = result[4]
            self._show(result[0])

        self.runner.run(
            load,
            on_done=loaded,
            on_error=lambda exc: self.error.setText(self.tr_.error(exc)),
        )

    def _show(self, dossier: CounterDossier) -> None:
        self._dossier = dossier
        view = dossier.view
        summary = view.summary
        self.reference = summary.reference
        t = self.tr_.t
        demarche = self.services.catalog.get(
            summary.demarche_id, summary.demarche_version, lang=self.tr_.lang
        )
        title = demarche.title
        self.title.setText(self.tr_.line(f"{summary.reference} · {title}"))
        page = QWidget()
        layout = QVBoxLayout(page)
        state = QLabel(t("card.state", state=t(f"state.{summary.state.value}")))
        state.setObjectName("subtitle")
        state.setWordWrap(True)
        layout.addWidget(state)
        if summary.usager:  # on the reading side of the screen, however it is spelt
            layout.addWidget(self._text(self.tr_.line(self.tr_.data(summary.usager))))
        self.followup_panel = self._followup_panel()
        if self.followup_panel is not None and self.followup_panel.item.need is not None:
            layout.addWidget(self.followup_panel)  # what to do now: first, in view
        if dossier.locked is not None:
            layout.addWidget(self._text(dossier.locked.localized(self.tr_.lang)))
        if dossier.editable:
            missing = len(view.missing)
            answers = t("card.missing_answers", count=missing) if missing else t("card.complete")
            layout.addWidget(self._text(answers, "error" if missing else ""))
            if dossier.mandate is not None:
                layout.addWidget(self._text(dossier.mandate.localized(self.tr_.lang), "muted"))
            elif self._mandate is None:
                layout.addWidget(self._text(t("card.mandate_ok")))
        self.mandate_panel = self._mandate_panel()
        if self.mandate_panel is not None:
            layout.addWidget(self.mandate_panel)
        to_bring = view.missing_documents
        if to_bring:
            layout.addWidget(self._text(t("card.missing_documents"), "subtitle"))
            # Named as the démarche names them in the person's language.
            labels = {
                (r.kind, r.item_path): r.label for r in required_documents(demarche, view.answers)
            }
            for document in to_bring:
                label = labels.get((document.kind, document.item_path), document.label)
                layout.addWidget(self._text(self.tr_.line(f"☐ {label}")))
        self.fees_panel = None
        if self._fees is not None:
            self.fees_panel = FeesPanel(self._fees, self.tr_, agent=True)
            layout.addWidget(self.fees_panel)
        self.payment_panel = self._payment_panel()
        if self.payment_panel is not None:
            layout.addWidget(self.payment_panel)
        if self.followup_panel is not None and self.followup_panel.item.need is None:
            layout.addWidget(self.followup_panel)  # history only: after the rest
        layout.addStretch(1)
        self.scroll_area.setWidget(page)
        self._offer_next(dossier, bool(to_bring))

    def _offer_next(self, dossier: CounterDossier, to_bring: bool) -> None:
        """The buttons for what can be done next: continue (or correct), attach, reprint."""
        t = self.tr_.t
        correction = dossier.correction
        self.continue_button.setVisible(dossier.editable)
        self.continue_button.setText(t("card.correct" if correction else "card.continue"))
        asked_documents = correction is not None and bool(correction.pieces)
        self.attach_button.setVisible(dossier.editable and (to_bring or asked_documents))
        self.attach_button.setText(t("card.attach_asked" if asked_documents else "card.attach"))
        self.reprint_button.setVisible(dossier.filed)

    def _followup_panel(self) -> FollowUpPanel | None:
        if self._followup is None:
            return None
        panel = FollowUpPanel(self._followup, self.tr_, letters=self.services.letters is not None)
        panel.contacted.connect(self._record_contact)
        panel.handed.connect(self._hand_over)
        panel.letter.connect(self._print_letter)
        panel.print_document.connect(self._print_document)
        return panel

    def _print_document(self, document_id: int) -> None:
        """Print a document the national service issued, for the person at the counter."""
        letters, followup = self.services.letters, self.services.followup
        reference, agent_id = self.reference, self.agent_id
        if letters is None or followup is None:
            return

        def print_it() -> WorkItem:  # worker thread
            letters.print_document(reference, document_id, agent_id=agent_id)
            return followup.item(reference)

        def printed(item: WorkItem) -> None:
            self._followup_changed(reference, item)
            if self.followup_panel is not None and self.reference == reference:
                self.followup_panel.show_message(self.tr_.t("followup.document_printed"))

        self.runner.run(print_it, on_done=printed, on_error=self._followup_failed)

    def _print_letter(self) -> None:
        """Print the letter announcing the latest decision, then show it as an attempt."""
        letters, followup = self.services.letters, self.services.followup
        reference, agent_id = self.reference, self.agent_id
        if letters is None or followup is None:
            return

        def print_it() -> WorkItem:  # worker thread
            letters.print_letter(reference, agent_id=agent_id)
            return followup.item(reference)

        def printed(item: WorkItem) -> None:
            self._followup_changed(reference, item)
            if self.followup_panel is not None and self.reference == reference:
                self.followup_panel.show_message(self.tr_.t("followup.letter_printed"))

        self.runner.run(print_it, on_done=printed, on_error=self._followup_failed)

    def _record_contact(self, channel: Channel, outcome: Outcome) -> None:
        """Record an attempt to reach the person (off the UI thread), then show it."""
        followup, reference, agent_id = self.services.followup, self.reference, self.agent_id
        if followup is None:
            return
        self.runner.run(
            lambda: followup.record_contact(reference, channel, outcome, agent_id=agent_id),
            on_done=lambda item: self._followup_changed(reference, item),
            on_error=self._followup_failed,
        )

    def _hand_over(self, document_id: int) -> None:
        """A document the service issued was given to the person."""
        followup, reference, agent_id = self.services.followup, self.reference, self.agent_id
        if followup is None:
            return

        def hand() -> WorkItem:  # worker thread
            followup.hand_over(reference, document_id, agent_id=agent_id)
            return followup.item(reference)

        self.runner.run(
            hand,
            on_done=lambda item: self._followup_changed(reference, item),
            on_error=self._followup_failed,
        )

    def _followup_changed(self, reference: str, item: WorkItem) -> None:
        if reference != self.reference or self._dossier is None:
            return  # another dossier was opened meanwhile
        self._followup = item
        scrolled = self.scroll_area.verticalScrollBar().value()
        self._show(self._dossier)
        self.scroll_area.verticalScrollBar().setValue(scrolled)

    def _followup_failed(self, exc: Exception) -> None:
        if self.followup_panel is not None:
            self.followup_panel.show_error(self.tr_.error(exc))
        else:
            self.error.setText(self.tr_.error(exc))

    def _mandate_panel(self) -> MandatePanel | None:
        """The signed mandate's state and its revocation (None: none signed, or not given)."""
        if self._mandate is None or not self._mandate.signed:
            return None
        panel = MandatePanel(self._mandate, self.tr_)
        panel.revoke.connect(self._revoke)
        return panel

    def _revoke(self) -> None:
        """Revoke the mandate, then print the attestation for the person (off the UI thread)."""
        mandates, printer = self.services.mandates, self.services.printer
        reference, agent_id, training = self.reference, self.agent_id, self.services.training
        if mandates is None:
            return

        Revoked = tuple["CounterDossier", "MandateStatus", "Exception | None"]

        def revoke() -> Revoked:  # worker thread
            mandates.revoke(reference, agent_id=agent_id)
            # Opened again: what filing now needs (a new signature) is said on the card.
            dossier = self.services.dossiers.open(reference, agent_id=agent_id)
            status = mandates.status(reference)
            if printer is None:
                return dossier, status, None
            try:
                pdf = mandates.attestation_pdf(reference, training=training)
                printer.print_pdf(pdf, title=f"Révocation {reference}")
            except Exception as exc:  # the printer's many failures: the revocation stands
                log.warning("revocation attestation not printed: %s", exc)
                return dossier, status, exc
            return dossier, status, None

        def revoked(result: Revoked) -> None:
            if self.reference != reference:
                return  # another dossier was opened meanwhile
            dossier, self._mandate, failure = result
            self._show(dossier)
            panel = self.mandate_panel
            if panel is not None and printer is not None:
                if failure is None:
                    panel.show_message(self.tr_.t("card.revoked_printed"))
                else:
                    panel.show_message(self.tr_.t("card.revoked_not_printed"), "error")

        def refused(exc: Exception) -> None:
            if self.reference == reference:
                self.error.setText(self.tr_.error(exc))

        self.runner.run(revoke, on_done=revoked, on_error=refused)

    def _payment_panel(self) -> PaymentPanel | None:
        """The payment block, with what came of the last timbre typed (in today's language)."""
        if self._payment is None:
            return None
        panel = PaymentPanel(self._payment, self.tr_)
        panel.submitted.connect(self._give_timbre)
        if self._timbre_outcome is not None:
            typed, exc = self._timbre_outcome
            if exc is None:
                panel.show_saved(typed)
            else:
                panel.show_error(self.tr_.error(exc), typed)
        return panel

    def _give_timbre(self, typed: str) -> None:
        """Record the timbre typed (off the UI thread), then show the payment as it now stands."""
        reference, agent_id = self.reference, self.agent_id

        def saved(view: PaymentView) -> None:
            if self.reference != reference:
                return  # another dossier was opened meanwhile
            if self.services.sync_wake is not None:
                self.services.sync_wake()  # sent now if the service is reachable
            self._payment = view
            # The newest row is the one just recorded (rows come in the order given).
            self._timbre_outcome = (view.timbres[-1].timbre, None)
            self._replace_payment_panel()

        def refused(exc: Exception) -> None:
            if self.reference != reference:
                return
            self._timbre_outcome = (typed, exc)
            if self.payment_panel is not None:
                self.payment_panel.show_error(self.tr_.error(exc), typed)
                self.scroll_area.ensureWidgetVisible(self.payment_panel.message)

        self.runner.run(
            lambda: self.services.payments.add_timbre(reference, typed, agent_id=agent_id),
            on_done=saved,
            on_error=refused,
        )

    def _replace_payment_panel(self) -> None:
        """A new payment block in place of the old one, the page kept where it was scrolled."""
        old = self.payment_panel
        new = self._payment_panel()
        page = old.parentWidget() if old is not None else None
        page_layout = page.layout() if page is not None else None
        if old is None or new is None or page_layout is None:
            return
        page_layout.replaceWidget(old, new)
        new.show()  # now, rather than when the layout's queued show comes round
        old.deleteLater()
        self.payment_panel = new
        self.scroll_area.ensureWidgetVisible(new.message)

    @staticmethod
    def _text(text: str, object_name: str = "") -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        if object_name:
            label.setObjectName(object_name)
        return label

    def retranslate(self) -> None:
        t = self.tr_.t
        self.home_button.setText(t("card.back_to_list" if self.from_worklist else "card.home"))
        self.reprint_button.setText(t("card.reprint"))
        self.attach_button.setText(t("card.attach"))
        self.continue_button.setText(t("card.continue"))  # « Corriger » once a correction shows
        if self._dossier is not None:
            self._show(self._dossier)
        else:
            self.title.setText(t("card.title"))

    def clear_personal_data(self) -> None:
        self.reference = ""
        self._dossier = None
        self._fees = None
        self.fees_panel = None
        self._payment = None
        self.payment_panel = None
        self._followup = None
        self.followup_panel = None
        self._mandate = None
        self.mandate_panel = None
        self._timbre_outcome = None
        drop_page(self.scroll_area)
        self.error.clear()
        self.title.clear()
