"""Review before filing: the answers, what is still missing, the documents to bring, and what
the dossier will cost, line by line.

What is missing or wrong is worked out again here on the démarche in the person's language, so
that each point ("« Nom » : réponse obligatoire.") reads wholly in that language. The fees come
from the fees use case in that language too (kiosk/dossiers/fees.py: live before filing, the
kept estimate after).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.demarches import (
    invalid_answers,
    missing_required,
    required_documents,
    visible_fields,
)
from kiosk.dossiers.errors import AlreadyFiled, Incomplete, MandateRequired
from kiosk.dossiers.views import DossierView
from kiosk.fees.kept import KeptEstimateError
from ui.format import display_value
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import ReviewServices
from ui.tasks import TaskRunner
from ui.widgets.fees import FeesPanel
from ui.widgets.scrolling import drop_page

if TYPE_CHECKING:
    from kiosk.dossiers.fees import FeesView


class ReviewScreen(Screen):
    """Everything at a glance, then « Déposer »."""

    edit = Signal(str)  # reference
    #: reference, answer path: a missing or wrong answer tapped, to be given on its step.
    edit_field = Signal(str, str)
    #: reference: filing needs the mandate signed (again).
    sign = Signal(str)
    submitted = Signal(str)  # reference, now « en file d'envoi »

    def __init__(self, services: ReviewServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.reference = ""
        self.scroll_area = self.add_scroll_area()
        self.error = self.add_label("error")
        self.edit_button, self.submit_button = self.add_nav()
        self.submit_why = self.add_why(self.submit_button)
        self.edit_button.clicked.connect(lambda: self.edit.emit(self.reference))
        self.submit_button.clicked.connect(self._submit)
        self._view: DossierView | None = None
        #: The fees, or why they cannot be shown.
        self._fees: FeesView | KeptEstimateError | None = None
        #: The fees shown (None: not loaded, or they could not be computed).
        self.fees_panel: FeesPanel | None = None
        self.retranslate()

    def open(self, reference: str) -> None:
        """Load the dossier off the UI thread and show it."""
        # Nothing of an earlier dossier while this one loads, and nothing to file yet.
        self.clear_personal_data()
        self.submit_button.setEnabled(False)
        self.reference = reference
        self.error.clear()
        agent_id = self.agent_id
        lang = self.tr_.lang

        def load() -> tuple[DossierView, FeesView | KeptEstimateError]:  # worker thread
            # The use case writes the opening to the audit.
            view = self.services.dossiers.open(reference, agent_id=agent_id).view
            return view, self._load_fees(reference, lang)

        def current() -> bool:  # a later open, or the screen cleared, makes the result stale
            return self.reference == reference

        def loaded(result: tuple[DossierView, FeesView | KeptEstimateError]) -> None:
            self._fees = result[1]
            self._show(result[0])

        self.runner.run(
            load,
            on_done=lambda result: loaded(result) if current() else None,
            on_error=lambda exc: self.error.setText(self.tr_.error(exc)) if current() else None,
        )

    def _load_fees(self, reference: str, lang: str) -> FeesView | KeptEstimateError:
        """The fees in ``lang``, or why they cannot be shown (worker thread): the review goes on
        without them rather than fail."""
        try:
            return self.services.fees.fees(reference, lang=lang)
        except KeptEstimateError as exc:
            return exc

    def _show(self, view: DossierView) -> None:
        self._view = view
        page = QWidget()
        layout = QVBoxLayout(page)
        title = self.services.catalog.get(
            view.summary.demarche_id, view.summary.demarche_version, lang=self.tr_.lang
        ).title
        header = QLabel(self.tr_.line(f"{view.summary.reference} · {title}"))
        header.setObjectName("subtitle")
        header.setWordWrap(True)
        layout.addWidget(header)
        summary = view.summary
        demarche = self.services.catalog.get(
            summary.demarche_id, summary.demarche_version, lang=self.tr_.lang
        )
        for path, field in visible_fields(demarche, view.answers):
            if path not in view.answers:
                continue
            value = self.tr_.data(display_value(field, view.answers[path], self.tr_))
            line = QLabel(self.tr_.t("review.answer", label=field.label, value=value))
            line.setWordWrap(True)
            layout.addWidget(line)
        # The same points as the service's (view.missing), worded on the translated démarche.
        issues = [
            *missing_required(demarche, view.answers),
            *invalid_answers(demarche, view.answers),
        ]
        status = QLabel(self.tr_.t("review.missing") if issues else self.tr_.t("review.complete"))
        status.setObjectName("error" if issues else "subtitle")
        layout.addWidget(status)
        for issue in issues:
            # Each point is a link to its question, shown highlighted on its step.
            link = QPushButton(f"• {issue.localized(self.tr_.lang)}  ›")
            link.setObjectName("issue")
            link.setProperty("path", issue.path)
            link.clicked.connect(
                lambda _=False, p=issue.path: self.edit_field.emit(self.reference, p)
            )
            layout.addWidget(link)
        documents = QLabel(self.tr_.t("review.documents"))
        documents.setObjectName("subtitle")
        layout.addWidget(documents)
        labels = {
            (r.kind, r.item_path): r.label for r in required_documents(demarche, view.answers)
        }
        for doc in view.documents:
            state = self.tr_.t("review.provided" if doc.provided else "review.to_bring")
            label = labels.get((doc.kind, doc.item_path), doc.label)
            item = QLabel(f"{'☑' if doc.provided else '☐'} {label} ({state})")
            item.setWordWrap(True)
            layout.addWidget(item)
        self._add_fees(layout)
        layout.addStretch(1)
        self.scroll_area.setWidget(page)
        self.submit_button.setEnabled(
            not view.missing and not issues and view.summary.state.editable
        )
        if not view.summary.state.editable:
            why = self.tr_.t("review.submit_why_filed")
        elif view.missing or issues:
            why = self.tr_.t("review.submit_why_missing")
        else:
            why = ""
        self.submit_why.explain(why)

    def _add_fees(self, layout: QVBoxLayout) -> None:
        """What the dossier will cost, under the documents (or why it cannot be said)."""
        self.fees_panel = None
        if isinstance(self._fees, KeptEstimateError):
            unavailable = QLabel(self.tr_.t("fees.unavailable", error=str(self._fees)))
            unavailable.setWordWrap(True)
            layout.addWidget(unavailable)
        elif self._fees is not None:
            self.fees_panel = FeesPanel(self._fees, self.tr_)
            layout.addWidget(self.fees_panel)

    def _submit(self) -> None:
        reference = self.reference
        self.submit_button.setEnabled(False)

        def file_it() -> str:  # worker thread
            # One use case: answers complete, mandate signed, queued — or nothing changes.
            self.services.dossiers.file(reference, agent_id=self.agent_id)
            if self.services.sync_wake is not None:
                self.services.sync_wake()  # send it now if the national service is reachable
            return reference

        self.runner.run(file_it, on_done=self.submitted.emit, on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, AlreadyFiled):
            self.submitted.emit(self.reference)  # filed already (a second tap): its receipt
            return
        if isinstance(exc, MandateRequired):
            self.sign.emit(self.reference)  # straight to the mandate: no dead end
            return
        if isinstance(exc, Incomplete):
            # The points themselves are listed, in the person's language, once reloaded.
            self.open(self.reference)  # (clears the error line: set it after)
            self.error.setText(self.tr_.t("review.incomplete"))
            return
        self.error.setText(self.tr_.error(exc))
        self.submit_button.setEnabled(True)

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("review.title"))
        self.edit_button.setText(self.tr_.t("review.edit"))
        self.submit_button.setText(self.tr_.t("review.submit"))
        if self._view is not None:
            self._show(self._view)
            # The missing lines name questions in the language they were computed in: again.
            reference, lang = self.reference, self.tr_.lang

            def refreshed(fees: FeesView | KeptEstimateError) -> None:
                if self.reference == reference and self.tr_.lang == lang and self._view:
                    self._fees = fees
                    self._show(self._view)

            self.runner.run(lambda: self._load_fees(reference, lang), on_done=refreshed)

    def clear_personal_data(self) -> None:
        self.reference = ""
        self._view = None
        self._fees = None
        self.fees_panel = None
        drop_page(self.scroll_area)
        self.submit_why.explain("")
