"""The identity panel: read the chip of an ID card or passport, or its MRZ, and show the agent
the photo, the data and the verdict, plainly, to compare with the person at the counter.

The read runs on a worker thread; its progress comes back through a queued signal. Nothing
personal is logged. A language switch re-words the panel where it stands (:meth:`retranslate`):
the reading shown, a read under way and what was typed stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from kiosk.identity.errors import InvalidCan
from kiosk.identity.model import CanKey, Verdict
from kiosk.messages import format_date, translate
from ui.i18n import Translator
from ui.tasks import TaskRunner
from ui.widgets.fields import CODE_HINTS, DIGITS_HINTS

if TYPE_CHECKING:
    from kiosk.identity.model import IdentityReading
    from kiosk.ports.identity import IdentityReader

_VERDICT_COLOURS = {
    Verdict.AUTHENTIQUE: "#18753C",
    Verdict.NON_VERIFIE: "#B34000",
    Verdict.FALSIFIE: "#B3001B",
}


class _Progress(QObject):
    """Lives on the UI thread; the reader's worker thread emits, Qt queues."""

    changed = Signal(str, float)


class IdentityPanel(QFrame):
    """« Posez la carte », CAN, progress, then photo + data + verdict, and « Utiliser »."""

    accepted = Signal(object)  # IdentityReading
    #: A document was read: its photo and data are on the panel, to compare with the person.
    shown = Signal()

    def __init__(
        self,
        reader: IdentityReader | None,
        runner: TaskRunner,
        tr: Translator,
        *,
        training_can: str | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("panel")
        self._reader = reader
        self._runner = runner
        self._tr = tr
        self._training_can = training_can
        self.reading: IdentityReading | None = None
        #: What the status line says, in the current language (a step of the read, an error).
        self._status_text: Callable[[], str] | None = None
        layout = QVBoxLayout(self)
        self._heading = QLabel()
        self._heading.setObjectName("subtitle")
        layout.addWidget(self._heading)
        self.instructions = QLabel()
        self.instructions.setWordWrap(True)
        layout.addWidget(self.instructions)
        self._hint = QLabel()
        self._hint.setObjectName("training")
        layout.addWidget(self._hint)
        # Hidden or shown once in the panel: a label without a parent shown would be a window of
        # its own, activated, and the kiosk's window would lose the keyboard focus for good.
        self._hint.setVisible(bool(training_can))

        self._build_chip_part(layout, reader)
        self._build_result_part(layout)
        self._build_mrz_part(layout)
        self._progress = _Progress()
        self._progress.changed.connect(self._on_progress)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text in the current language; the reading, the status and what was typed stay."""
        tr = self._tr
        self._heading.setText(tr.t("identity.title"))
        self.instructions.setText(
            tr.t("identity.place") if self._reader else tr.t("identity.no_reader")
        )
        if self._training_can:
            self._hint.setText(tr.t("identity.training_hint", can=self._training_can))
        self.can.setPlaceholderText(tr.t("identity.can"))
        self.can.setAccessibleName(tr.t("identity.can"))
        self.read_button.setText(tr.t("identity.read"))
        self.confirm.setText(tr.t("identity.confirm"))
        self._mrz_label.setText(tr.t("identity.mrz"))
        self.mrz.setAccessibleName(tr.t("identity.mrz"))
        self.mrz_button.setText(tr.t("identity.use_mrz"))
        if self.reading is not None:
            self.data.setText(self._describe(self.reading))
        if self._status_text is not None:
            self.status.setText(self._status_text())

    def _build_chip_part(self, layout: QVBoxLayout, reader: IdentityReader | None) -> None:
        row = QHBoxLayout()
        self.can = QLineEdit()
        self.can.setMaxLength(6)
        # The digit pad with Western digits, whatever the screen's language (the chip's password).
        self.can.setInputMethodHints(DIGITS_HINTS)
        self.can.returnPressed.connect(self.read_card)
        row.addWidget(self.can, 1)
        self.read_button = QPushButton()
        self.read_button.setObjectName("primary")
        self.read_button.clicked.connect(self.read_card)
        row.addWidget(self.read_button)
        layout.addLayout(row)
        self.can.setEnabled(reader is not None)
        self.read_button.setEnabled(reader is not None)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def _build_result_part(self, layout: QVBoxLayout) -> None:
        result = QHBoxLayout()
        self.photo = QLabel()
        self.photo.setFixedSize(180, 240)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setAccessibleName("Photo de la pièce d'identité")
        self.photo.hide()
        result.addWidget(self.photo)
        self.data = QLabel()
        self.data.setWordWrap(True)
        self.data.setTextFormat(Qt.TextFormat.RichText)
        result.addWidget(self.data, 1)
        layout.addLayout(result)
        self.confirm = QPushButton()
        self.confirm.setObjectName("primary")
        self.confirm.hide()
        self.confirm.clicked.connect(self._accept)
        layout.addWidget(self.confirm)

    def _build_mrz_part(self, layout: QVBoxLayout) -> None:
        self._mrz_label = QLabel()
        self._mrz_label.setObjectName("muted")
        layout.addWidget(self._mrz_label)
        self.mrz = QPlainTextEdit()
        self.mrz.setFixedHeight(110)
        self.mrz.setStyleSheet('font-family: "DejaVu Sans Mono";')
        self.mrz.setInputMethodHints(CODE_HINTS)
        layout.addWidget(self.mrz)
        self.mrz_button = QPushButton()
        self.mrz_button.clicked.connect(self.read_mrz)
        layout.addWidget(self.mrz_button)

    # ------------------------------------------------------------------ reading
    def read_card(self) -> None:
        """Read the chip on the reader with the CAN typed (worker thread)."""
        reader = self._reader
        if reader is None:
            return
        self._start()
        try:
            key = CanKey(self.can.text())  # ١٢٣ from an Arabic keyboard are the digits 123
        except InvalidCan as exc:
            self._failed(exc)  # « 6 digits », in the person's language; the card is not asked
            return
        emit = self._progress.changed.emit  # safe from the worker thread: the signal is queued
        self._runner.run(
            lambda: reader.read(key, emit),
            on_done=self._show,
            on_error=self._failed,
        )

    def read_mrz(self) -> None:
        """A document without a chip: parse and check its MRZ (never better than non vérifié)."""
        from kiosk.identity.model import manual_reading
        from kiosk.identity.mrz import parse_mrz

        text = self.mrz.toPlainText()
        self._start()
        self._runner.run(
            lambda: manual_reading(parse_mrz(text)), on_done=self._show, on_error=self._failed
        )

    def _start(self) -> None:
        self.reading = None
        self.confirm.hide()
        self.photo.hide()
        self.data.clear()
        self.status.setObjectName("")
        self._say(None)
        self.progress.setValue(0)
        self.progress.show()
        # A focused button that is disabled hands its focus on to the next field (the MRZ box),
        # which would bring the on-screen keyboard back over the photo: nothing keeps it.
        for button in (self.read_button, self.mrz_button):
            if button.hasFocus():
                button.clearFocus()
        self.read_button.setEnabled(False)
        self.mrz_button.setEnabled(False)

    def _say(self, text: Callable[[], str] | None) -> None:
        """Put ``text()`` on the status line, and again after a language switch."""
        self._status_text = text
        self.status.setText(text() if text is not None else "")

    def _on_progress(self, label: str, fraction: float) -> None:
        self.progress.setValue(round(fraction * 100))
        self._say(lambda: translate(label, self._tr.lang))  # the reader's labels are French

    def _done(self) -> None:
        self.progress.hide()
        self.read_button.setEnabled(self._reader is not None)
        self.mrz_button.setEnabled(True)

    def _failed(self, exc: Exception) -> None:
        self._done()
        self.status.setObjectName("error")
        self.status.style().polish(self.status)
        self._say(lambda: self._tr.error(exc))

    def _show(self, reading: IdentityReading) -> None:
        self._done()
        self.reading = reading
        if reading.photo:
            pixmap = QPixmap()
            pixmap.loadFromData(reading.photo)
            self.photo.setPixmap(
                pixmap.scaled(
                    self.photo.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            self.photo.show()
        self.data.setText(self._describe(reading))
        self._say(None)
        self.confirm.setVisible(reading.verdict is not Verdict.FALSIFIE)
        self.shown.emit()

    def _describe(self, reading: IdentityReading) -> str:
        """The verdict and the data read, in the current language."""
        colour = _VERDICT_COLOURS[reading.verdict]
        lang = self._tr.lang
        birth = format_date(reading.birth_date, lang) if reading.birth_date else "—"
        expiry = format_date(reading.expiry_date, lang) if reading.expiry_date else "—"
        verdict = translate(reading.verdict.value, lang).upper()
        kind = translate(reading.kind.value, lang)
        dates = self._tr.t("identity.born_expires", birth=birth, expiry=expiry)
        # The reason stays as the checks wrote it (French): it is for the agent.
        return (
            f"<p style='font-size:130%; color:{colour}'><b>{verdict}</b></p>"
            f"<p>{reading.verdict_reason}</p>"
            f"<p><b>{reading.surname}</b> {reading.given_names}<br/>"
            f"{kind} n° {self._tr.data(reading.document_number)}<br/>"
            f"{dates}</p>"
            f"<p>{self._tr.t('identity.compare')}</p>"
        )

    def _accept(self) -> None:
        if self.reading is not None:
            self.accepted.emit(self.reading)

    def clear(self) -> None:
        """Forget the reading (inactivity lock, next person)."""
        self.reading = None
        self.can.clear()
        self.mrz.clear()
        self.photo.clear()
        self.photo.hide()
        self.data.clear()
        self._say(None)
        self.confirm.hide()
