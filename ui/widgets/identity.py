"""The identity panel: read the chip of an ID card or passport, or its MRZ, and show the agent
the photo, the data and the verdict, plainly, to compare with the person at the counter.

The read runs on a worker thread; its progress comes back through a queued signal. Nothing
personal is logged.
"""

from __future__ import annotations

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

from kiosk.identity.model import CanKey, Verdict
from kiosk.messages import format_date, translate
from ui.i18n import Translator
from ui.tasks import TaskRunner

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
        self.reading: IdentityReading | None = None
        layout = QVBoxLayout(self)
        heading = QLabel(tr.t("identity.title"))
        heading.setObjectName("subtitle")
        layout.addWidget(heading)
        self.instructions = QLabel(tr.t("identity.place") if reader else tr.t("identity.no_reader"))
        self.instructions.setWordWrap(True)
        layout.addWidget(self.instructions)
        if training_can:
            hint = QLabel(tr.t("identity.training_hint", can=training_can))
            hint.setObjectName("training")
            layout.addWidget(hint)

        self._build_chip_part(layout, reader)
        self._build_result_part(layout)
        self._build_mrz_part(layout)
        self._progress = _Progress()
        self._progress.changed.connect(self._on_progress)

    def _build_chip_part(self, layout: QVBoxLayout, reader: IdentityReader | None) -> None:
        tr = self._tr
        row = QHBoxLayout()
        self.can = QLineEdit()
        self.can.setPlaceholderText(tr.t("identity.can"))
        self.can.setAccessibleName(tr.t("identity.can"))
        self.can.setMaxLength(6)
        self.can.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.can.returnPressed.connect(self.read_card)
        row.addWidget(self.can, 1)
        self.read_button = QPushButton(tr.t("identity.read"))
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
        self.confirm = QPushButton(self._tr.t("identity.confirm"))
        self.confirm.setObjectName("primary")
        self.confirm.hide()
        self.confirm.clicked.connect(self._accept)
        layout.addWidget(self.confirm)

    def _build_mrz_part(self, layout: QVBoxLayout) -> None:
        tr = self._tr
        mrz_label = QLabel(tr.t("identity.mrz"))
        mrz_label.setObjectName("muted")
        layout.addWidget(mrz_label)
        self.mrz = QPlainTextEdit()
        self.mrz.setFixedHeight(110)
        self.mrz.setAccessibleName(tr.t("identity.mrz"))
        self.mrz.setStyleSheet('font-family: "DejaVu Sans Mono";')
        layout.addWidget(self.mrz)
        self.mrz_button = QPushButton(tr.t("identity.use_mrz"))
        self.mrz_button.clicked.connect(self.read_mrz)
        layout.addWidget(self.mrz_button)

    # ------------------------------------------------------------------ reading
    def read_card(self) -> None:
        """Read the chip on the reader with the CAN typed (worker thread)."""
        reader = self._reader
        if reader is None:
            return
        can = self.can.text().strip()
        self._start()
        emit = self._progress.changed.emit  # safe from the worker thread: the signal is queued
        self._runner.run(
            lambda: reader.read(CanKey(can), emit),
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
        self.status.clear()
        self.progress.setValue(0)
        self.progress.show()
        # A focused button that is disabled hands its focus on to the next field (the MRZ box),
        # which would bring the on-screen keyboard back over the photo: nothing keeps it.
        for button in (self.read_button, self.mrz_button):
            if button.hasFocus():
                button.clearFocus()
        self.read_button.setEnabled(False)
        self.mrz_button.setEnabled(False)

    def _on_progress(self, label: str, fraction: float) -> None:
        self.progress.setValue(round(fraction * 100))
        self.status.setText(translate(label, self._tr.lang))  # the reader's labels are French

    def _done(self) -> None:
        self.progress.hide()
        self.read_button.setEnabled(self._reader is not None)
        self.mrz_button.setEnabled(True)

    def _failed(self, exc: Exception) -> None:
        self._done()
        self.status.setObjectName("error")
        self.status.style().polish(self.status)
        self.status.setText(self._tr.error(exc))

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
        colour = _VERDICT_COLOURS[reading.verdict]
        lang = self._tr.lang
        birth = format_date(reading.birth_date, lang) if reading.birth_date else "—"
        expiry = format_date(reading.expiry_date, lang) if reading.expiry_date else "—"
        verdict = translate(reading.verdict.value, lang).upper()
        kind = translate(reading.kind.value, lang)
        dates = self._tr.t("identity.born_expires", birth=birth, expiry=expiry)
        # The reason stays as the checks wrote it (French): it is for the agent.
        self.data.setText(
            f"<p style='font-size:130%; color:{colour}'><b>{verdict}</b></p>"
            f"<p>{reading.verdict_reason}</p>"
            f"<p><b>{reading.surname}</b> {reading.given_names}<br/>"
            f"{kind} n° {self._tr.data(reading.document_number)}<br/>"
            f"{dates}</p>"
            f"<p>{self._tr.t('identity.compare')}</p>"
        )
        self.status.setText("")
        self.confirm.setVisible(reading.verdict is not Verdict.FALSIFIE)

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
        self.status.clear()
        self.confirm.hide()
