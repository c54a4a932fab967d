"""Consent: the mandate text, read with the person, signed with a finger on the screen.

The person chooses with the agent how long the mandate lasts (one day to one year) and what it
covers (this démarche, or every démarche of its theme); the text shown follows each choice, and a
choice changed after a stroke clears the pad: the person signs the text they read. The text
signed is the French one, whose version and SHA-256 are stored with the signature. A person
reading English or Arabic also sees a translation beside it, labelled in their language as given
for information only, while the French text is labelled as the one signed.

Once signed, the screen stays: it says until when the mandate holds, offers « Imprimer ma copie »
(the copy printed for the person) and « Continuer » to the review.
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

from kiosk.dossiers.attachments import remove_scan
from kiosk.dossiers.mandate_text import DURATIONS, scopes_for
from kiosk.messages import format_date, format_time
from ui.accessibility import in_french
from ui.i18n import LANGUAGES, Translator
from ui.screens.base import Screen
from ui.services import ConsentServices
from ui.tasks import TaskRunner
from ui.widgets.mandate import MandateChoices
from ui.widgets.signature import SignaturePad

if TYPE_CHECKING:
    from kiosk.dossiers.mandate import MandateStatus, MandateText, MandateTranslation
    from kiosk.ports.devices import ScannedFile

#: A prepared text and its translations, by (days, scope).
_Texts = dict[tuple[int, str | None], tuple["MandateText", dict[str, "MandateTranslation"]]]


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
        self.choices = MandateChoices(tr)
        self.choices.changed.connect(self._choice_changed)
        self.layout_.addWidget(self._texts(), 1)
        self.pad = SignaturePad()
        self.layout_.addWidget(self.pad)
        self.paper_box = self._paper_box()
        self.layout_.addWidget(self.paper_box)
        self.status = self.add_label("", hide_when_empty=True)  # no room taken while empty
        self.layout_.addLayout(self._buttons())
        self.sign_why = self.add_why(self.sign_button)
        self._text: MandateText | None = None
        self._translations: dict[str, MandateTranslation] = {}
        self._texts_by_choice: _Texts = {}
        self._status: MandateStatus | None = None
        #: The key of the message under the buttons once signed (the copy printed or not).
        self._copy_key = ""
        self._show_signed(False)
        self.retranslate()

    def _buttons(self) -> QHBoxLayout:
        """Back, clear and « Valider » while signing; « Imprimer ma copie » and « Continuer »
        once signed."""
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
        # Once signed: the person's copy, and on to the review.
        self.print_button = QPushButton()
        self.print_button.clicked.connect(self._print_copy)
        self.continue_button = QPushButton()
        self.continue_button.setObjectName("primary")
        self.continue_button.clicked.connect(lambda: self.signed.emit(self.reference))
        # Who cannot sign on the screen signs the printed mandate (keyboard alone, a hand that
        # cannot draw): the agent picks its scan, kept as the proof, the journal saying so.
        self.paper_button = QPushButton()
        self.paper_button.clicked.connect(self._offer_paper)
        row.addWidget(self.back_button)
        row.addWidget(self.clear_button)
        row.addWidget(self.paper_button)
        row.addStretch(1)
        row.addWidget(self.print_button)
        row.addWidget(self.sign_button)
        row.addWidget(self.continue_button)
        return row

    def _paper_box(self) -> QFrame:
        """In place of the pad: the scans to choose the signed mandate's from."""
        box = QFrame()
        box.setObjectName("panel")
        column = QVBoxLayout(box)
        self.paper_help = _text_label()
        column.addWidget(self.paper_help)
        # The text to sign by hand, printed from here (the same text, version and hash).
        self.paper_print = QPushButton()
        self.paper_print.setObjectName("primary")
        self.paper_print.clicked.connect(self._print_to_sign)
        column.addWidget(self.paper_print, alignment=Qt.AlignmentFlag.AlignLeft)
        # Once in the box: a button shown before it has a parent is a window of its own.
        self.paper_print.setVisible(self.services.printer is not None)
        self.paper_printed = _text_label("muted")
        column.addWidget(self.paper_printed)
        self.paper_scans = QVBoxLayout()
        column.addLayout(self.paper_scans)
        self.paper_cancel = QPushButton()
        self.paper_cancel.clicked.connect(lambda: self._show_paper(False))
        column.addWidget(self.paper_cancel)
        box.hide()
        return box

    def _print_to_sign(self) -> None:
        """Print the mandate shown, to be signed by hand (built and printed off the UI thread)."""
        printer, reference, text = self.services.printer, self.reference, self._text
        if printer is None or text is None or not reference:
            return
        demarche = text.parties.demarche if text.parties is not None else ""
        training = self.services.training
        self.paper_print.setEnabled(False)

        def done(key: str) -> None:
            self.paper_print.setEnabled(True)
            if reference == self.reference:
                self.paper_printed.setText(self.tr_.t(key))

        self.runner.run(
            lambda: printer.print_pdf(
                self.services.mandates.to_sign_pdf(
                    text, reference=reference, demarche=demarche, training=training
                ),
                title=f"Mandat à signer {reference}",
            ),
            on_done=lambda _message: done("consent.paper_printed"),
            on_error=lambda _exc: done("consent.copy_failed"),
        )

    def _offer_paper(self) -> None:
        """List the scanner folder's files (off the UI thread) to pick the signed mandate."""
        scans = self.services.scans
        if scans is None:
            return
        self.runner.run(
            scans.files,
            on_done=self._show_scans,
            on_error=lambda e: self.status.setText(self.tr_.error(e)),
        )

    def _show_scans(self, files: list[ScannedFile]) -> None:
        while self.paper_scans.count():
            item = self.paper_scans.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        if not files:
            none = _text_label("muted")
            none.setText(self.tr_.t("consent.paper_none"))
            self.paper_scans.addWidget(none)
        for index, scanned in enumerate(files):
            button = QPushButton(self.tr_.t("consent.paper_scan", name=scanned.path.name))
            button.setObjectName(f"paper-{index}")
            button.clicked.connect(lambda _=False, f=scanned: self._sign_on_paper(f))
            self.paper_scans.addWidget(button)
        self._show_paper(True)

    def _show_paper(self, shown: bool) -> None:
        self.paper_box.setVisible(shown)
        self.pad.setVisible(not shown)
        self.clear_button.setEnabled(not shown)
        self.order_tabs()
        (self.paper_help if shown else self.pad).setFocus(Qt.FocusReason.OtherFocusReason)

    def _sign_on_paper(self, scanned: ScannedFile) -> None:
        text, scans, reference = self._text, self.services.scans, self.reference
        if text is None or scans is None:
            return
        agent_id = self.agent_id

        def record() -> MandateStatus:  # worker thread
            status = self.services.mandates.sign_on_paper(
                reference, text, scans.read(scanned), scanned.mime_type, agent_id=agent_id
            )
            remove_scan(scans, scanned)  # kept in the store now; the folder is plain text
            return status

        self.runner.run(
            record,
            on_done=lambda status: self._signed(reference, status),
            on_error=lambda e: self.status.setText(self.tr_.error(e)),
        )

    def _texts(self) -> QScrollArea:
        """The choices, then the French text (signed) and, beside it, the translation for
        information. The choices scroll with the text: the signature pad keeps its room, and the
        text the room it had."""
        page = QWidget()
        rows = QVBoxLayout(page)
        rows.addWidget(self.choices)
        columns = QHBoxLayout()
        rows.addLayout(columns, 1)
        columns.setSpacing(16)
        signed_column = QVBoxLayout()
        self.text = _text_label()
        in_french(self.text)  # the text signed is French, on every screen
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
        self.text_area = scroll  # a Tab stop: the keys scroll the text being read
        QScroller.grabGesture(scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        return scroll

    def open(self, reference: str, *, agent_id: int | None, agent_name: str) -> None:
        """Prepare the text for this dossier (off the UI thread)."""
        self.reference = reference
        self.agent_id = agent_id
        self.agent_name = agent_name
        self._status = None
        self._copy_key = ""
        self._texts_by_choice = {}
        self.pad.clear()
        self.status.clear()
        self.paper_printed.clear()
        self._show_signed(False)

        def prepare() -> tuple[_Texts, tuple[str | None, ...], MandateStatus]:
            # Worker thread. Every duration and scope, and every language's translation, at
            # once: the person may change them on this screen, and the UI thread never reads a
            # file.
            view = self.services.dossiers.show(reference)
            summary = view.summary
            demarche = self.services.catalog.get(summary.demarche_id, summary.demarche_version)
            titles = {
                lang: self.services.catalog.get(
                    summary.demarche_id, summary.demarche_version, lang=lang
                ).title
                for lang in LANGUAGES
            }
            guichet = self.services.counter.get().name
            scopes = scopes_for(demarche.theme)
            texts: _Texts = {}
            for days in DURATIONS:
                for portee in scopes:
                    text = self.services.mandates.text_for(
                        reference=reference,
                        usager=summary.usager or "",
                        agent=agent_name,
                        guichet=guichet,
                        demarche=summary.demarche_title,
                        days=days,
                        portee=portee,
                    )
                    translations = {}
                    for lang, title in titles.items():
                        translated = self.services.mandates.translation(text, lang, demarche=title)
                        if translated is not None:
                            translations[lang] = translated
                    texts[days, portee] = (text, translations)
            return texts, scopes, self.services.mandates.status(reference)

        self.runner.run(prepare, on_done=self._show, on_error=lambda e: self.status.setText(str(e)))

    def _show(self, prepared: tuple[_Texts, tuple[str | None, ...], MandateStatus]) -> None:
        texts, scopes, status = prepared
        self._texts_by_choice = texts
        self.choices.offer(scopes)
        self._show_choice()
        self._status = status
        self._show_status()

    def _show_choice(self) -> None:
        """The text of the duration and scope chosen."""
        prepared = self._texts_by_choice.get((self.choices.days, self.choices.portee))
        if prepared is None:
            return
        self._text, self._translations = prepared
        self.text.setText(self._text.text)
        self._show_translation()

    def _choice_changed(self) -> None:
        # The person signs the text they read: a stroke made under another text goes.
        self.pad.clear()
        self._show_choice()

    def _show_status(self) -> None:
        """« Mandat signé le … à … », on the counter's clock like the receipt (stored in UTC)."""
        status = self._status
        if status is not None and status.signed and status.signed_at is not None:
            at = status.signed_at
            lang = self.tr_.lang
            key = "consent.signed_paper" if status.on_paper else "consent.signed"
            lines = [self.tr_.t(key, date=format_date(at, lang), time=format_time(at))]
            if status.valid_until is not None and not status.revoked:
                day = format_date(status.valid_until, lang)
                lines.append(self.tr_.t("consent.valid_until", date=day))
            if self._copy_key:
                lines.append(self.tr_.t(self._copy_key))
            self.status.setText(" ".join(lines))

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
            on_done=lambda status: self._signed(reference, status),
            on_error=lambda e: self.status.setText(str(e)),
        )

    def _signed(self, reference: str, status: MandateStatus) -> None:
        if reference != self.reference:
            return  # the screen moved on to another dossier meanwhile
        self._status = status
        self._show_signed(True)
        self._show_status()
        self.order_tabs()
        self.status.setFocus(Qt.FocusReason.OtherFocusReason)  # « Mandat signé le … », read

    def _show_signed(self, signed: bool) -> None:
        """Before: the choices, the pad and « Valider »; after: « Imprimer ma copie » and
        « Continuer »."""
        self.choices.setEnabled(not signed)
        self.pad.setEnabled(not signed)
        self.paper_box.hide()
        self.pad.show()
        self.clear_button.setEnabled(True)
        self.clear_button.setVisible(not signed)
        self.paper_button.setVisible(not signed and self.services.scans is not None)
        self.sign_button.setVisible(not signed)
        if signed:
            self.sign_why.explain("")
        else:
            self._explain_sign()
        self.print_button.setVisible(signed and self.services.printer is not None)
        self.continue_button.setVisible(signed)

    def _print_copy(self) -> None:
        """The person's copy of the mandate just signed (built and printed off the UI thread)."""
        printer, reference = self.services.printer, self.reference
        if printer is None or not reference:
            return
        training = self.services.training
        self.print_button.setEnabled(False)

        def done(key: str) -> None:
            self.print_button.setEnabled(True)
            if reference == self.reference:
                self._copy_key = key
                self._show_status()

        self.runner.run(
            lambda: printer.print_pdf(
                self.services.mandates.copy_pdf(reference, training=training),
                title=f"Mandat {reference}",
            ),
            on_done=lambda _message: done("consent.copy_printed"),
            on_error=lambda _exc: done("consent.copy_failed"),
        )

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("consent.title"))
        self.help.setText(self.tr_.t("consent.help"))
        self.text_heading.setText(self.tr_.t("consent.signed_text"))
        self.translation_heading.setText(self.tr_.t("consent.translation"))
        self.paper_print.setText(self.tr_.t("consent.paper_print"))
        self.back_button.setText(self.tr_.t("wizard.back"))
        self.clear_button.setText(self.tr_.t("consent.clear"))
        self.sign_button.setText(self.tr_.t("consent.sign"))
        self.print_button.setText(self.tr_.t("consent.print_copy"))
        self.continue_button.setText(self.tr_.t("consent.continue"))
        self.paper_button.setText(self.tr_.t("consent.paper"))
        self.paper_cancel.setText(self.tr_.t("consent.paper_cancel"))
        self.paper_help.setText(self.tr_.t("consent.paper_help"))
        self.text_area.setAccessibleName(self.tr_.t("a11y.mandate_text"))
        self.pad.describe(
            self.tr_.t("a11y.signature_pad"),
            self.tr_.t("a11y.signature_empty"),
            self.tr_.t("a11y.signature_signed"),
        )
        self.choices.retranslate()
        self._explain_sign()
        self._show_translation()
        self._show_status()

    def clear_personal_data(self) -> None:
        self.reference = ""
        self._text = None
        self._translations = {}
        self._texts_by_choice = {}
        self._status = None
        self._copy_key = ""
        self._show_signed(False)
        self.text.clear()
        self._show_translation()
        self.pad.clear()
        self.status.clear()
