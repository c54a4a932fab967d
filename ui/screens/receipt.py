"""The receipt: the reference in large type, its QR code, what is missing, and printing.

Everything on it is in the person's language: the démarche's title and the documents to bring
from the translated démarche, the dossier's state from the messages' catalogue. The printer's
own confirmation is not shown (in training mode it is the path of a PDF file): only whether the
receipt printed.
"""

from __future__ import annotations

import html
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton

from kiosk.demarches import required_documents
from kiosk.messages import translate
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import ReceiptServices
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from kiosk.dossiers.views import DossierView
    from kiosk.receipt import ReceiptData

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Prepared:
    data: ReceiptData
    view: DossierView
    pdf: bytes
    qr_png: bytes


class ReceiptScreen(Screen):
    """Shown after filing; « Terminer » clears the screen for the next person."""

    done = Signal()

    def __init__(self, services: ReceiptServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.caption = QLabel()
        self.layout_.addWidget(self.caption)
        row = QHBoxLayout()
        self.reference = QLabel()
        self.reference.setObjectName("reference")
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.reference, 1)
        self.qr = QLabel()
        row.addWidget(self.qr)
        self.layout_.addLayout(row)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)  # (titles and labels are escaped)
        self.details.setAlignment(Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignTop)
        # A long list of documents to bring scrolls: the buttons stay on an 800-pixel screen.
        self.add_scroll_area().setWidget(self.details)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.layout_.addWidget(self.status)
        buttons = QHBoxLayout()
        self.print_button = QPushButton()
        self.print_button.clicked.connect(self._print)
        self.done_button = QPushButton()
        self.done_button.setObjectName("primary")
        self.done_button.clicked.connect(self.done.emit)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        buttons.addWidget(self.done_button)
        self.layout_.addLayout(buttons)
        self._prepared: _Prepared | None = None
        self._status_key = ""  # the status line's message, re-worded on a change of language
        self.retranslate()

    def open(self, reference: str) -> None:
        """Build the receipt off the UI thread, show it, and print it once."""
        self._status_key = ""
        self.status.clear()
        self.status.setToolTip("")
        self.print_button.setEnabled(False)

        def prepare() -> _Prepared:  # worker thread
            import qrcode

            from kiosk.receipt import encode_qr_payload

            data = self.services.receipts.data(reference)
            view = self.services.dossiers.show(reference)  # the démarche and answers, translated
            pdf = self.services.receipts.render(reference)
            image = qrcode.make(
                encode_qr_payload(data.reference, data.verification_code), box_size=8
            )
            buffer = io.BytesIO()
            image.save(buffer, "PNG")
            return _Prepared(data, view, pdf, buffer.getvalue())

        self.runner.run(
            prepare, on_done=self._show, on_error=lambda e: self.status.setText(self.tr_.error(e))
        )

    def _show(self, prepared: _Prepared) -> None:
        self._prepared = prepared
        data = prepared.data
        self.reference.setText(data.reference)
        pixmap = QPixmap()
        pixmap.loadFromData(prepared.qr_png, "PNG")
        self.qr.setPixmap(pixmap.scaledToHeight(220, Qt.TransformationMode.SmoothTransformation))
        self._show_details()
        self.print_button.setEnabled(True)
        self._print()

    def _show_details(self) -> None:
        """The démarche, the dossier's state and the documents to bring, in the current language."""
        prepared = self._prepared
        if prepared is None:
            return
        lang = self.tr_.lang
        summary = prepared.view.summary
        demarche = self.services.catalog.get(
            summary.demarche_id, summary.demarche_version, lang=lang
        )
        labels = {
            (r.kind, r.item_path): r.label
            for r in required_documents(demarche, prepared.view.answers)
        }
        missing = []
        for document in prepared.view.missing_documents:
            label = labels.get((document.kind, document.item_path), document.label)
            if document.item_path is not None:  # one per co-heir…: say which one
                group_id, _, index = document.item_path.partition("[")
                item = next((g.item_label for g in demarche.groups() if g.id == group_id), "")
                number = int(index.rstrip("]")) + 1
                label = self.tr_.t("receipt.document_for", document=label, item=item, number=number)
            missing.append(label)
        lines = [
            f"<b>{html.escape(demarche.title)}</b>",
            html.escape(translate(prepared.data.state_label, lang)),
        ]
        if missing:
            lines.append(f"<br/><b>{html.escape(self.tr_.t('receipt.to_bring'))}</b>")
            lines += [f"☐ {html.escape(label)}" for label in missing]
        self.details.setText("<br/>".join(lines))

    def _print(self) -> None:
        prepared = self._prepared
        if prepared is None:
            return
        self.print_button.setEnabled(False)
        self.runner.run(
            lambda: self.services.printer.print_pdf(prepared.pdf, title=prepared.data.reference),
            on_done=self._printed,
            on_error=self._print_failed,
        )

    def _printed(self, _message: str) -> None:
        # The printer's message is for a log, not the person: in training mode it names a file.
        self._set_status("saved", "receipt.printed")
        self.print_button.setEnabled(True)

    def _print_failed(self, exc: Exception) -> None:
        log.warning("receipt not printed: %s", exc)  # the printer's French words, for the agent
        self._set_status("error", "receipt.print_failed")
        self.status.setToolTip(str(exc))
        self.print_button.setEnabled(True)

    def _set_status(self, kind: str, key: str) -> None:
        self._status_key = key
        self.status.setObjectName(kind)
        self.status.style().polish(self.status)
        self.status.setText(self.tr_.t(key))

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("receipt.title"))
        self.caption.setText(self.tr_.t("receipt.reference"))
        self.print_button.setText(self.tr_.t("receipt.print"))
        self.done_button.setText(self.tr_.t("receipt.done"))
        self.qr.setAccessibleName(self.tr_.t("a11y.qr"))
        if self._status_key:
            self.status.setText(self.tr_.t(self._status_key))
        self._show_details()

    def clear_personal_data(self) -> None:
        self._prepared = None
        self._status_key = ""
        self.reference.clear()
        self.qr.clear()
        self.details.clear()
        self.status.clear()
