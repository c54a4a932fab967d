"""Consent: the mandate text, read with the person, signed with a finger on the screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QScroller

from ui.screens.base import Screen
from ui.widgets.signature import SignaturePad

if TYPE_CHECKING:
    from kiosk.dossiers.mandate import MandateStatus, MandateText


class ConsentScreen(Screen):
    """Shows the exact text that will be stored with the signature."""

    back = Signal(str)
    signed = Signal(str)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.reference = ""
        self.agent_id: int | None = None
        self.agent_name = ""
        self.help = QLabel()
        self.help.setObjectName("muted")
        self.help.setWordWrap(True)
        self.layout_.addWidget(self.help)
        self.text = QLabel()
        self.text.setWordWrap(True)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.text)
        QScroller.grabGesture(scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.layout_.addWidget(scroll, 1)
        self.pad = SignaturePad()
        self.layout_.addWidget(self.pad)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.layout_.addWidget(self.status)
        row = QHBoxLayout()
        self.back_button = QPushButton()
        self.back_button.clicked.connect(lambda: self.back.emit(self.reference))
        self.clear_button = QPushButton()
        self.clear_button.clicked.connect(self.pad.clear)
        self.sign_button = QPushButton()
        self.sign_button.setObjectName("primary")
        self.sign_button.setEnabled(False)
        self.sign_button.clicked.connect(self._sign)
        self.pad.changed.connect(self.sign_button.setEnabled)
        row.addWidget(self.back_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        row.addWidget(self.sign_button)
        self.layout_.addLayout(row)
        self._text: MandateText | None = None
        self.retranslate()

    def open(self, reference: str, *, agent_id: int | None, agent_name: str) -> None:
        """Prepare the text for this dossier (off the UI thread)."""
        self.reference = reference
        self.agent_id = agent_id
        self.agent_name = agent_name
        self.pad.clear()
        self.status.clear()

        def prepare() -> tuple[MandateText, MandateStatus]:  # worker thread
            view = self.services.dossiers.show(reference)
            text = self.services.mandates.text_for(
                reference=reference,
                usager=view.summary.usager or "",
                agent=agent_name,
                guichet=self.services.counter.get().name,
                demarche=view.summary.demarche_title,
            )
            return text, self.services.mandates.status(reference)

        self.runner.run(prepare, on_done=self._show, on_error=lambda e: self.status.setText(str(e)))

    def _show(self, prepared: tuple[MandateText, MandateStatus]) -> None:
        text, status = prepared
        self._text = text
        self.text.setText(text.text)
        if status.signed and status.signed_at is not None:
            self.status.setText(
                self.tr_.t("consent.signed", date=status.signed_at.strftime("%d/%m/%Y %H:%M"))
            )

    def _sign(self) -> None:
        text = self._text
        if text is None or self.pad.empty:
            return
        png = self.pad.to_png()
        reference = self.reference
        self.sign_button.setEnabled(False)
        self.runner.run(
            lambda: self.services.mandates.sign(reference, text, png, agent_id=self.agent_id),
            on_done=lambda _status: self.signed.emit(reference),
            on_error=lambda e: self.status.setText(str(e)),
        )

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("consent.title"))
        self.help.setText(self.tr_.t("consent.help"))
        self.back_button.setText(self.tr_.t("wizard.back"))
        self.clear_button.setText(self.tr_.t("consent.clear"))
        self.sign_button.setText(self.tr_.t("consent.sign"))

    def clear_personal_data(self) -> None:
        self.reference = ""
        self._text = None
        self.text.clear()
        self.pad.clear()
        self.status.clear()
