"""The receipt: the reference in large type, its QR code, what is missing, and printing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton

from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import ReceiptServices
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from kiosk.receipt import ReceiptData


@dataclass(frozen=True)
class _Prepared:
    data: ReceiptData
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
        self.qr.setAccessibleName("QR code")
        row.addWidget(self.qr)
        self.layout_.addLayout(row)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.layout_.addWidget(self.details, 1)
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
        self.retranslate()

    def open(self, reference: str) -> None:
        """Build the receipt off the UI thread, show it, and print it once."""
        self.status.clear()
        self.print_button.setEnabled(False)

        def prepare() -> _Prepared:  # worker thread
            import qrcode

            from kiosk.receipt import encode_qr_payload

            data = self.services.receipts.data(reference)
            pdf = self.services.receipts.render(reference)
            image = qrcode.make(
                encode_qr_payload(data.reference, data.verification_code), box_size=8
            )
            buffer = io.BytesIO()
            image.save(buffer, "PNG")
            return _Prepared(data, pdf, buffer.getvalue())

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
        lines = [f"<b>{data.demarche_title}</b>", data.state_label]
        if data.missing_documents:
            lines.append("<br/>" + "<br/>".join(f"☐ {d}" for d in data.missing_documents))
        self.details.setText("<br/>".join(lines))
        self.print_button.setEnabled(True)
        self._print()

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

    def _printed(self, message: str) -> None:
        self.status.setObjectName("saved")
        self.status.setText(message)
        self.print_button.setEnabled(True)

    def _print_failed(self, exc: Exception) -> None:
        self.status.setObjectName("error")
        self.status.setText(self.tr_.error(exc))
        self.print_button.setEnabled(True)

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("receipt.title"))
        self.caption.setText(self.tr_.t("receipt.reference"))
        self.print_button.setText(self.tr_.t("receipt.print"))
        self.done_button.setText(self.tr_.t("receipt.done"))

    def clear_personal_data(self) -> None:
        self._prepared = None
        self.reference.clear()
        self.qr.clear()
        self.details.clear()
        self.status.clear()
