"""The identity panel: read the chip of an ID card or passport, or its MRZ, and show the agent
the photo, the data and the verdict, plainly, to compare with the person at the counter. The
MRZ, typed or photographed, also opens a passport's chip (its BAC / PACE-MRZ key).

The read runs on a worker thread; its progress comes back through a queued signal. Nothing
personal is logged. The CAN and the MRZ can also be photographed (« Photographier le CAN »,
« Photographier la bande MRZ »): the camera's view takes the panel's place, the photo is read
on a worker thread (``kiosk.identity.ocr``) and what was read is put in its box for the agent
to check, never sent to the card by itself; typing stays possible throughout. A language
switch re-words the panel where it stands (:meth:`retranslate`): the reading shown, a read under
way and what was typed stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPixmap, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.identity.errors import InvalidCan, NoCard, WrongCan
from kiosk.identity.model import CanKey, DocumentKind, MrzFormat, Verdict
from kiosk.messages import format_date, translate
from kiosk.ports.devices import CameraFault
from ui.accessibility import LiveLabel, set_invalid
from ui.i18n import Translator
from ui.tasks import TaskRunner
from ui.theme import restyle
from ui.widgets.camera import CaptureView
from ui.widgets.fields import CODE_HINTS, DIGITS_HINTS
from ui.widgets.scrolling import bring_into_view

if TYPE_CHECKING:
    from kiosk.identity.by_mrz import MrzReading
    from kiosk.identity.model import IdentityReading
    from kiosk.ports.devices import Camera
    from kiosk.ports.identity import IdentityReader
    from ui.services import IdentityPhotos

#: The verdict's style (ui/theme.py colours it: green, orange, red, also in high contrast).
_VERDICT_STYLES = {
    Verdict.AUTHENTIQUE: "verdict_authentique",
    Verdict.NON_VERIFIE: "verdict_non_verifie",
    Verdict.FALSIFIE: "verdict_falsifie",
}
_AUTHENTIC = {
    DocumentKind.CNIE: "identity.verdict.card",
    DocumentKind.CNI_ANCIENNE: "identity.verdict.card",
    DocumentKind.PASSEPORT: "identity.verdict.passport",
    DocumentKind.AUTRE: "identity.verdict.document",
}


def verdict_words(reading: IdentityReading) -> tuple[str, str]:
    """The verdict as a person says it, and its plain why (a translation key each; "" for none).

    « Carte authentique ✓ » needs no why; « Authenticité non vérifiée » says what could not be
    checked; a forged document is « Document suspect : ne pas accepter ». The checks' own words
    (protocol, data groups) stay behind « Détails », for the agent.
    """
    if reading.verdict is Verdict.AUTHENTIQUE:
        return _AUTHENTIC[reading.kind], ""
    if reading.verdict is Verdict.FALSIFIE:
        return "identity.verdict.forged", "identity.why.forged"
    if reading.protocol == "MRZ":
        chipless = reading.mrz.format is MrzFormat.FR_CNI
        return "identity.verdict.unverified", (
            "identity.why.no_chip" if chipless else "identity.why.typed"
        )
    return "identity.verdict.unverified", "identity.why.chip"


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
        photos: IdentityPhotos | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("panel")
        self._reader = reader
        self._photos = photos
        #: The camera's view while the CAN or the MRZ is photographed (the panel's body hidden).
        self.capture: CaptureView | None = None
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

        # The panel's body, hidden while the camera's view stands in its place.
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.body)
        self._layout = layout
        self._build_chip_part(body, reader)
        self._build_result_part(body)
        self._build_mrz_part(body)
        self._build_photo_note(body)
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
        self.can_label.setText(tr.t("identity.can"))
        self.can.setAccessibleName(tr.t("identity.can"))
        self.read_button.setText(tr.t("identity.read"))
        self.confirm.setText(tr.t("identity.confirm"))
        self._mrz_label.setText(tr.t("identity.mrz"))
        self.mrz.setAccessibleName(tr.t("identity.mrz"))
        self.progress.setAccessibleName(tr.t("a11y.read_progress"))
        self.photo.setAccessibleName(tr.t("a11y.photo"))
        if self.can.property("invalid"):
            set_invalid(self.can, self.status.text())
        self.mrz_button.setText(tr.t("identity.use_mrz"))
        self.can_photo_button.setText(tr.t("identity.photo_can"))
        self.can_photo_button.setAccessibleName(tr.t("identity.photo_can_a11y"))
        self.mrz_photo_button.setText(tr.t("identity.photo_mrz"))
        self.mrz_photo_button.setAccessibleName(tr.t("identity.photo_mrz_a11y"))
        self._refresh_photo_note()
        if self.capture is not None:
            self.capture.retranslate(self._photo_subject(self._can_capture))
        self.details_button.setText(
            tr.t("identity.details_hide" if self.details_button.isChecked() else "identity.details")
        )
        if self.reading is not None:
            shown = self.details_button.isChecked()
            self._show_verdict(self.reading)
            self.details_button.setChecked(shown)  # the agent's « Détails » stays open
            self.data.setText(self._describe(self.reading))
        if self._status_text is not None:
            self.status.setText(self._status_text())

    def _build_chip_part(self, layout: QVBoxLayout, reader: IdentityReader | None) -> None:
        # The CAN's label stays in sight while it is typed (it said where to find the six
        # digits in a placeholder, gone with the first digit and too pale to read).
        self.can_label = QLabel()
        self.can_label.setWordWrap(True)
        layout.addWidget(self.can_label)
        row = QHBoxLayout()
        self.can = QLineEdit()
        self.can_label.setBuddy(self.can)
        self.can.setMaxLength(6)
        # The digit pad with Western digits, whatever the screen's language (the chip's password).
        self.can.setInputMethodHints(DIGITS_HINTS)
        self.can.returnPressed.connect(self.read_card)
        row.addWidget(self.can, 1)
        self.read_button = QPushButton()
        self.read_button.setObjectName("primary")
        self.read_button.clicked.connect(self.read_card)
        row.addWidget(self.read_button)
        self.can_photo_button = QPushButton()
        self.can_photo_button.clicked.connect(lambda: self.photograph(can=True))
        row.addWidget(self.can_photo_button)
        layout.addLayout(row)
        self.can.setEnabled(reader is not None)
        self.read_button.setEnabled(reader is not None)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = LiveLabel()  # each stage of a read, and its outcome, heard once
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def _build_result_part(self, layout: QVBoxLayout) -> None:
        self.verdict = LiveLabel()  # « Authentique », « Falsifiée »… heard when shown
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.hide()
        layout.addWidget(self.verdict)
        self.verdict_why = QLabel()
        self.verdict_why.setWordWrap(True)
        self.verdict_why.hide()
        layout.addWidget(self.verdict_why)
        result = QHBoxLayout()
        self.photo = QLabel()
        self.photo.setFixedSize(180, 240)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.hide()
        result.addWidget(self.photo)
        self.data = QLabel()
        self.data.setWordWrap(True)
        self.data.setTextFormat(Qt.TextFormat.RichText)
        beside = QVBoxLayout()  # the data, then the actions, beside the photo
        beside.addWidget(self.data, 1)
        result.addLayout(beside, 1)
        layout.addLayout(result)
        # How it was checked, for the agent who asks: protocol, data groups, the checks' words.
        self.details_button = QPushButton()
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle_details)
        self.details_button.hide()
        self.confirm = QPushButton()
        self.confirm.setObjectName("primary")
        self.confirm.hide()
        self.confirm.clicked.connect(self._accept)
        # Beside the photo, under the data: « Détails » (secondary) and « Utiliser ces
        # informations » (primary); a 800-pixel screen shows the verdict, photo and action.
        actions = QHBoxLayout()
        actions.addWidget(self.details_button)
        actions.addStretch(1)
        actions.addWidget(self.confirm)
        beside.addLayout(actions)
        self.details = QLabel()
        self.details.setObjectName("muted")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.hide()
        layout.addWidget(self.details)

    def _build_mrz_part(self, layout: QVBoxLayout) -> None:
        self._mrz_label = QLabel()
        self._mrz_label.setObjectName("muted")
        self._mrz_label.setWordWrap(True)  # a sentence: at twice the text size it wraps
        layout.addWidget(self._mrz_label)
        self.mrz = QPlainTextEdit()
        self.mrz.setFixedHeight(110)
        self.mrz.setStyleSheet('font-family: "DejaVu Sans Mono";')
        self.mrz.setInputMethodHints(CODE_HINTS)
        # Tab leaves the box for the next field (no MRZ has a tab in it): no keyboard trap.
        self.mrz.setTabChangesFocus(True)
        layout.addWidget(self.mrz)
        row = QHBoxLayout()
        self.mrz_button = QPushButton()
        self.mrz_button.clicked.connect(self.read_mrz)
        row.addWidget(self.mrz_button)
        self.mrz_photo_button = QPushButton()
        self.mrz_photo_button.clicked.connect(lambda: self.photograph(can=False))
        row.addWidget(self.mrz_photo_button)
        row.addStretch(1)
        layout.addLayout(row)

    # ------------------------------------------------------------------ photographing
    def _build_photo_note(self, layout: QVBoxLayout) -> None:
        """Why the « Photographier » buttons are off, when they are (typing stays)."""
        self.photo_note = QLabel()
        self.photo_note.setObjectName("muted")
        self.photo_note.setWordWrap(True)
        layout.addWidget(self.photo_note)
        self._can_capture = False
        photos = self._photos
        self.can_photo_button.setVisible(photos is not None)
        self.mrz_photo_button.setVisible(photos is not None)
        self.photo_note.setVisible(False)

    def photo_problem(self, *, can: bool) -> str | None:
        """Why the CAN (or the MRZ) cannot be photographed here (no recogniser, no camera), in
        the current language but for the recogniser's own French reason; None when it can."""
        photos = self._photos
        if photos is None:
            return None
        reader = photos.text if can else photos.glyphs
        reason = reader.unavailable()
        if reason is not None:
            return reason  # the agent's business (a package to install): plain French
        problem = photos.can_camera.problem()
        if problem is not None and problem.fault is CameraFault.ABSENT:
            return self._tr.t("identity.photo_no_camera")
        return None

    def _refresh_photo_note(self) -> None:
        if self._photos is None:
            return
        can_reason, mrz_reason = self.photo_problem(can=True), self.photo_problem(can=False)
        # The CAN opens a chip: no reader, no use photographing it.
        self.can_photo_button.setEnabled(can_reason is None and self._reader is not None)
        self.mrz_photo_button.setEnabled(mrz_reason is None)
        # Each reason is a whole sentence of its own; the same one is said once.
        reasons = list(dict.fromkeys(r for r in (can_reason, mrz_reason) if r is not None))
        self.photo_note.setText("\n".join(reasons))
        self.photo_note.setVisible(bool(reasons))

    def _photo_subject(self, can: bool) -> str:
        return self._tr.t("identity.photo_can_subject" if can else "identity.photo_mrz_subject")

    def photograph(self, *, can: bool) -> None:
        """Show the camera's view in the panel's place, for the CAN or for the MRZ."""
        photos = self._photos
        if photos is None or self.capture is not None or self.photo_problem(can=can) is not None:
            return
        from kiosk.identity.ocr import read_can, read_mrz

        text, glyphs = photos.text, photos.glyphs
        camera: Camera = photos.can_camera if can else photos.mrz_camera

        def read(data: bytes, _mime_type: str) -> object:  # worker thread
            return read_can(text, data) if can else read_mrz(glyphs, data)

        view = CaptureView(
            camera,
            self._runner,
            self._tr,
            document=self._photo_subject(can),
            save=read,
            keep_key="identity.photo_read",
            hint_key="identity.photo_can_hint" if can else "identity.photo_mrz_hint",
            failure=self._tr.error,
        )
        view.finished.connect(lambda kept: self._photo_done(view, can=can, kept=kept))
        self.capture, self._can_capture = view, can
        self.body.hide()
        self._layout.addWidget(view, 1)
        view.start()
        view.heading.setFocus(Qt.FocusReason.OtherFocusReason)

    def _end_capture(self) -> None:
        view, self.capture = self.capture, None
        if view is not None:
            view.close_view()
            self._layout.removeWidget(view)
            view.hide()
            # Parentless, the view lives on only while a job still holds it (it then ignores
            # the answer), instead of being deleted under that job.
            view.setParent(None)
        self.body.show()

    def _photo_done(self, view: CaptureView, *, can: bool, kept: bool) -> None:
        if view is not self.capture:
            return  # a late answer for a view already closed (the kiosk locked)
        self._end_capture()
        button = self.can_photo_button if can else self.mrz_photo_button
        if not kept:
            button.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        restyle(self.status, "")
        if can:
            # In the box, to be checked against the card; sent only by « Lire la carte »,
            # through the same check as a CAN typed.
            self.can.setText(str(view.result))
            set_invalid(self.can, None)
            self._say(lambda: self._tr.t("identity.photo_can_done"))
            self.read_button.setFocus(Qt.FocusReason.OtherFocusReason)
            bring_into_view(self.read_button, self.can_label)  # what was read, where the view was
        else:
            from kiosk.identity.ocr import PhotographedMrz

            read = view.result
            assert isinstance(read, PhotographedMrz)  # what read_mrz returns
            text = "\n".join(read.lines)
            self.mrz.setPlainText(text)
            bring_into_view(self.mrz_button, self._mrz_label)  # what was read, where the view was
            if not read.unsure:
                self._say(lambda: self._tr.t("identity.photo_mrz_done"))
                self.mrz_button.setFocus(Qt.FocusReason.OtherFocusReason)
                return
            # Characters no check digit vouches for and the photo left in doubt (a name's):
            # « ? » in their place, the first one selected, to be typed over from the document.
            self._say(lambda: self._tr.t("identity.photo_mrz_unsure"))
            cursor = self.mrz.textCursor()
            cursor.setPosition(text.index("?"))
            cursor.setPosition(text.index("?") + 1, QTextCursor.MoveMode.KeepAnchor)
            self.mrz.setTextCursor(cursor)
            self.mrz.setFocus(Qt.FocusReason.OtherFocusReason)

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
            # « 6 digits », in the person's language, on the CAN box itself (red border, and its
            # description for a screen reader); the card is not asked: a try not used up.
            self._failed(exc)
            return
        set_invalid(self.can, None)
        emit = self._progress.changed.emit  # safe from the worker thread: the signal is queued
        self._runner.run(
            lambda: reader.read(key, emit),
            on_done=self._show,
            on_error=self._failed,
        )

    def read_mrz(self) -> None:
        """Read the document by its MRZ, typed or photographed (worker thread): a passport on
        the reader from its chip, opened with the MRZ's key (BAC or PACE-MRZ); a document
        without a chip, or none on the reader, from its MRZ alone (never better than non
        vérifié), the status line saying why the chip was not read."""
        from kiosk.identity.by_mrz import read_by_mrz

        text = self.mrz.toPlainText()
        reader = self._reader
        self._start()
        emit = self._progress.changed.emit  # safe from the worker thread: the signal is queued
        self._runner.run(
            lambda: read_by_mrz(text, reader, emit), on_done=self._show_mrz, on_error=self._failed
        )

    def _show_mrz(self, read: MrzReading) -> None:
        self._show(read.reading)
        unread = read.chip_unread
        if isinstance(unread, NoCard):
            self._say(lambda: self._tr.t("identity.mrz_no_card"))
        elif unread is not None:  # no reader service: its own words
            self._say(lambda: self._tr.error(unread))

    def _start(self) -> None:
        self.reading = None
        self.confirm.hide()
        self.photo.hide()
        self.data.clear()
        self._clear_verdict()
        restyle(self.status, "")
        self._say(None)
        self.progress.setValue(0)
        self.progress.show()
        # A focused button that is disabled hands its focus on to the next field (the MRZ box),
        # which would bring the on-screen keyboard back over the photo: the progress bar keeps
        # it meanwhile (no keyboard comes up for it, and a screen reader follows the read).
        for button in (self.read_button, self.mrz_button):
            if button.hasFocus():
                self.progress.setFocus(Qt.FocusReason.OtherFocusReason)
        self.read_button.setEnabled(False)
        self.mrz_button.setEnabled(False)
        self.can_photo_button.setEnabled(False)
        self.mrz_photo_button.setEnabled(False)

    def _say(self, text: Callable[[], str] | None) -> None:
        """Put ``text()`` on the status line, and again after a language switch."""
        self._status_text = text
        self.status.setText(text() if text is not None else "")

    def _on_progress(self, label: str, fraction: float) -> None:
        self.progress.setValue(round(fraction * 100))
        self._say(lambda: translate(label, self._tr.lang))  # the reader's labels are French

    def _done(self) -> None:
        waiting = self.progress.hasFocus()
        self.read_button.setEnabled(self._reader is not None)
        self.mrz_button.setEnabled(True)
        self._refresh_photo_note()
        if waiting:  # back on the status line, which says what came of the read
            self.status.setFocus(Qt.FocusReason.OtherFocusReason)
        self.progress.hide()

    def _failed(self, exc: Exception) -> None:
        self._done()
        restyle(self.status, "error")
        self._say(lambda: self._tr.error(exc))
        # In sight, with the box it asks for: read from the MRZ's button below, the status
        # line was above the page's window.
        bring_into_view(self.status, self.can_label)
        if isinstance(exc, InvalidCan | WrongCan):
            # Said on the CAN box itself (the focus stays on the status line, or in the box
            # when the CAN was sent by the keyboard's Enter: the keyboard stays as it was).
            set_invalid(self.can, self.status.text())

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
        self._show_verdict(reading)
        self.data.setText(self._describe(reading))
        self._say(None)
        self.confirm.setVisible(reading.verdict is not Verdict.FALSIFIE)
        if self.can.hasFocus() or self.mrz.hasFocus() or self.status.hasFocus():
            # Read by the keyboard's Enter: the keyboard goes, the photo gets its room, and the
            # focus waits on « Utiliser ces informations » (the space bar takes it).
            target = self.confirm if self.confirm.isVisibleTo(self) else self
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        self.shown.emit()

    def _describe(self, reading: IdentityReading) -> str:
        """The data read, in the current language (the verdict is above it, in its own words)."""
        lang = self._tr.lang
        birth = format_date(reading.birth_date, lang) if reading.birth_date else "—"
        expiry = format_date(reading.expiry_date, lang) if reading.expiry_date else "—"
        kind = translate(reading.kind.value, lang)
        dates = self._tr.t("identity.born_expires", birth=birth, expiry=expiry)
        return (
            f"<p><b>{reading.surname}</b> {reading.given_names}<br/>"
            f"{kind} n° {self._tr.data(reading.document_number)}<br/>"
            f"{dates}</p>"
            f"<p>{self._tr.t('identity.compare')}</p>"
        )

    def _show_verdict(self, reading: IdentityReading) -> None:
        """The verdict in plain words, its why, and the technical detail behind « Détails »."""
        tr = self._tr
        verdict_key, why_key = verdict_words(reading)
        self.verdict.setObjectName(_VERDICT_STYLES[reading.verdict])
        self.verdict.style().unpolish(self.verdict)
        self.verdict.style().polish(self.verdict)
        self.verdict.setText(tr.t(verdict_key))
        self.verdict.setAccessibleName(tr.t(verdict_key))
        self.verdict.show()
        self.verdict_why.setText(tr.t(why_key) if why_key else "")
        self.verdict_why.setVisible(bool(why_key))
        lines = [tr.t("identity.detail.protocol", protocol=tr.data(reading.protocol or "—"))]
        if reading.file_io:
            groups = ", ".join(reading.file_io)
            lines.append(tr.t("identity.detail.groups", groups=tr.data(groups)))
        if reading.protocol != "MRZ":
            chip = "identity.detail.chip_ok" if reading.chip_verified else "identity.detail.chip_no"
            lines.append(tr.t(chip))
        # The checks' own sentence stays as they wrote it (French): it is for the agent.
        lines.append(tr.t("identity.detail.reason", reason=tr.data(reading.verdict_reason)))
        self.details.setText("\n".join(lines))
        self.details_button.setChecked(False)
        self.details_button.show()

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText(
            self._tr.t("identity.details_hide" if shown else "identity.details")
        )

    def _clear_verdict(self) -> None:
        self.verdict.clear()
        self.verdict.hide()
        self.verdict_why.clear()
        self.verdict_why.hide()
        self.details_button.setChecked(False)
        self.details_button.hide()
        self.details.clear()

    def _accept(self) -> None:
        if self.reading is not None:
            self.accepted.emit(self.reading)

    def clear(self) -> None:
        """Forget the reading (inactivity lock, next person)."""
        self._end_capture()
        self.reading = None
        self.can.clear()
        set_invalid(self.can, None)
        self.mrz.clear()
        self.photo.clear()
        self.photo.hide()
        self.data.clear()
        self._clear_verdict()
        self._say(None)
        self.confirm.hide()
