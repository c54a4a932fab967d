"""Consent: the mandate text, read with the person, signed with a finger on the screen.

The text signed is the French one, whose version and SHA-256 are stored with the signature. A
person reading English or Arabic also sees a translation beside it, labelled in their language as
given for information only, while the French text is labelled as the one signed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.messages import format_date, format_time
from ui.i18n import LANGUAGES, Translator
from ui.screens.base import Screen
from ui.services import ConsentServices
from ui.tasks import TaskRunner
from ui.widgets.signature import SignaturePad

if TYPE_CHECKING:
    from kiosk.dossiers.mandate import MandateStatus, MandateText, MandateTranslation


def _text_label(object_name: str = "") -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    # Exactly the characters that are hashed: a name is never read as markup.
    label.setTextFormat(Qt.TextFormat.PlainText)
    if object_name:
        label.setObjectName(object_name)
    return label


class ConsentScreen(Screen):
    """Shows the exact text that will be stored with the signature."""

    back = Signal(str)
    signed = Signal(str)

    def __init__(self, services: ConsentServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.reference = ""
        self.agent_id: int | None = None
        self.agent_name = ""
        self.help = QLabel()
        self.help.setObjectName("muted")
        self.help.setWordWrap(True)
        self.layout_.addWidget(self.help)

        # Above the texts, so that they keep the scrolling room: which one is signed.
        headings = QHBoxLayout()
        headings.setSpacing(16)
        self.text_heading = _text_label("subtitle")
        self.translation_heading = _text_label("subtitle")
        headings.addWidget(self.text_heading, 1)
        headings.addWidget(self.translation_heading, 1)
        self.layout_.addLayout(headings)
        self.layout_.addWidget(self._texts(), 1)
        self.pad = SignaturePad()
        self.layout_.addWidget(self.pad)
        self.status = self.add_label("", hide_when_empty=True)  # no room taken while empty
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
        self.pad.changed.connect(lambda _signed: self._explain_sign())
        row.addWidget(self.back_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        row.addWidget(self.sign_button)
        self.layout_.addLayout(row)
        self.sign_why = self.add_why(self.sign_button)
        self._text: MandateText | None = None
        self._translations: dict[str, MandateTranslation] = {}
        self._status: MandateStatus | None = None
        self.retranslate()

    def _texts(self) -> QScrollArea:
        """The French text (signed) and, beside it, the translation for information."""
        page = QWidget()
        columns = QHBoxLayout(page)
        columns.setSpacing(16)
        signed_column = QVBoxLayout()
        self.text = _text_label()
        # French reads left to right even on an Arabic screen (punctuation at the right end).
        self.text.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        signed_column.addWidget(self.text)
        signed_column.addStretch(1)
        columns.addLayout(signed_column, 1)
        self.translation_box = QFrame()
        self.translation_box.setObjectName("panel")
        translated_column = QVBoxLayout(self.translation_box)
        self.translation = _text_label("muted")
        translated_column.addWidget(self.translation)
        translated_column.addStretch(1)
        columns.addWidget(self.translation_box, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        QScroller.grabGesture(scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        return scroll

    def open(self, reference: str, *, agent_id: int | None, agent_name: str) -> None:
        """Prepare the text for this dossier (off the UI thread)."""
        self.reference = reference
        self.agent_id = agent_id
        self.agent_name = agent_name
        self._status = None
        self.pad.clear()
        self.status.clear()

        def prepare() -> tuple[MandateText, dict[str, MandateTranslation], MandateStatus]:
            # Worker thread. Every language's translation at once: the person may switch
            # language on this screen, and the UI thread never reads a file.
            view = self.services.dossiers.show(reference)
            summary = view.summary
            text = self.services.mandates.text_for(
                reference=reference,
                usager=summary.usager or "",
                agent=agent_name,
                guichet=self.services.counter.get().name,
                demarche=summary.demarche_title,
            )
            translations = {}
            for lang in LANGUAGES:
                title = self.services.catalog.get(
                    summary.demarche_id, summary.demarche_version, lang=lang
                ).title
                translated = self.services.mandates.translation(text, lang, demarche=title)
                if translated is not None:
                    translations[lang] = translated
            return text, translations, self.services.mandates.status(reference)

        self.runner.run(prepare, on_done=self._show, on_error=lambda e: self.status.setText(str(e)))

    def _show(
        self, prepared: tuple[MandateText, dict[str, MandateTranslation], MandateStatus]
    ) -> None:
        text, translations, status = prepared
        self._text = text
        self._translations = translations
        self.text.setText(text.text)
        self._show_translation()
        self._status = status
        self._show_status()

    def _show_status(self) -> None:
        """« Mandat signé le … à … », on the counter's clock like the receipt (stored in UTC)."""
        status = self._status
        if status is not None and status.signed and status.signed_at is not None:
            at = status.signed_at
            self.status.setText(
                self.tr_.t(
                    "consent.signed", date=format_date(at, self.tr_.lang), time=format_time(at)
                )
            )

    def _explain_sign(self) -> None:
        """Why « Valider » waits: nothing signed in the box yet."""
        self.sign_why.explain(self.tr_.t("consent.sign_why") if self.pad.empty else "")

    def _show_translation(self) -> None:
        """The translation in the current language, if there is one; French alone otherwise."""
        translated = self._translations.get(self.tr_.lang)
        self.translation_box.setVisible(translated is not None)
        self.text_heading.setVisible(translated is not None)
        self.translation_heading.setVisible(translated is not None)
        self.translation.setText(translated.text if translated is not None else "")

    def _sign(self) -> None:
        text = self._text  # the French text: its version and hash are what is stored
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
        self.text_heading.setText(self.tr_.t("consent.signed_text"))
        self.translation_heading.setText(self.tr_.t("consent.translation"))
        self.back_button.setText(self.tr_.t("wizard.back"))
        self.clear_button.setText(self.tr_.t("consent.clear"))
        self.sign_button.setText(self.tr_.t("consent.sign"))
        self._explain_sign()
        self._show_translation()
        self._show_status()

    def clear_personal_data(self) -> None:
        self.reference = ""
        self._text = None
        self._translations = {}
        self._status = None
        self.text.clear()
        self._show_translation()
        self.pad.clear()
        self.status.clear()
