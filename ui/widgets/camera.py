"""Photographing one page of a document: live preview, « Prendre la photo », then keep or retake.

The camera (``kiosk.ports.devices.Camera``) works on threads of its own; this view polls it on a
timer (preview frames, the photo, problems), so nothing crosses threads but plain data. Encoding the
photo and saving it (encryption, disk) run on the task runner; the UI thread only paints.

A page is saved the moment the agent presses « Garder »: a camera that fails afterwards, or a
failed photo, never loses the pages already kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QImage,
    QPainter,
    QPaintEvent,
    QShowEvent,
    QTextOption,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.ports.devices import Camera, CameraError, CameraFault, PreviewFrame, Still
from ui.i18n import Translator
from ui.images import decoded
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

TICK_MS = 66  # ~15 preview frames a second
START_TIMEOUT_S = 10.0  # no image by then: the camera is taken to be busy or broken
CAPTURE_TIMEOUT_S = 10.0
REVIEW_MAX = 1400  # px, the longest side of the photo shown for review


class Phase(Enum):
    """Where the view is."""

    STARTING = "starting"  # camera switched on, no image yet
    LIVE = "live"  # live preview, « Prendre la photo »
    TAKING = "taking"  # photo asked for, not delivered yet
    ENCODING = "encoding"  # photo being encoded (worker thread)
    REVIEW = "review"  # the photo as it will be stored: « Reprendre » or « Garder »
    SAVING = "saving"  # being encrypted and written (worker thread)
    FAILED = "failed"  # camera absent or busy: « Réessayer » or « Annuler »
    CLOSED = "closed"  # left (kept, cancelled, kiosk locked): late answers are ignored


@dataclass(frozen=True)
class Taken:
    """A photo encoded, and the image shown for review (decoded back from the same bytes)."""

    data: bytes
    mime_type: str
    image: QImage


def frame_image(frame: PreviewFrame) -> QImage:
    """A preview frame as an image (a copy: the frame's bytes are not kept alive by Qt)."""
    return QImage(
        frame.rgb, frame.width, frame.height, frame.width * 3, QImage.Format.Format_RGB888
    ).copy()


def encode(still: Still) -> Taken:
    """The photo's file, and an image of it for the review (worker thread)."""
    data = still.encode()
    # Decoded by Pillow, not QImage.loadFromData (worker thread: see ui/images.py).
    image = decoded(data, max_side=REVIEW_MAX)
    if image is None:
        raise CameraError(CameraFault.CAPTURE, "La photo prise est illisible : reprenez-la.")
    return Taken(data, still.mime_type, image)


class PreviewPane(QWidget):
    """The camera's image, fitted and centred on a dark background (never mirrored: the page
    reads the same in Arabic), or a short message when there is no image."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._image = QImage()
        self._text = ""

    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    @property
    def image(self) -> QImage:
        """What is shown (a null image when a message is shown instead)."""
        return self._image

    def show_image(self, image: QImage) -> None:
        """Show ``image`` (a frame, or the photo)."""
        self._image = image
        self._text = ""
        self.update()

    def show_text(self, text: str) -> None:
        """Show a message instead of an image."""
        self._image = QImage()
        self._text = text
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1E1E28"))
        if not self._image.isNull():
            size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(
                (self.width() - size.width()) // 2,
                (self.height() - size.height()) // 2,
                size.width(),
                size.height(),
            )
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        elif self._text:
            painter.setPen(QColor("#FFFFFF"))
            option = QTextOption(Qt.AlignmentFlag.AlignCenter)
            option.setWrapMode(QTextOption.WrapMode.WordWrap)
            option.setTextDirection(self.layoutDirection())  # Arabic punctuation at its end
            painter.drawText(QRectF(self.rect().adjusted(24, 24, -24, -24)), self._text, option)
        painter.end()


class CaptureView(QWidget):
    """One document's photo, from the live preview to the page saved."""

    #: The view is done: ``True`` when a page was kept (saved), ``False`` when cancelled.
    finished = Signal(bool)

    def __init__(
        self,
        camera: Camera,
        runner: TaskRunner,
        tr: Translator,
        *,
        document: str,
        save: Callable[[bytes, str], object],
        keep_key: str = "camera.keep",
        hint_key: str = "camera.hint",
        failure: Callable[[Exception], str] | None = None,
    ) -> None:
        """Args:
        document: the document's label, in the current language.
        save: stores a kept page (``data``, ``mime_type``); runs on a worker thread. What it
            returns is :attr:`result` once :attr:`finished` says ``True``.
        keep_key: the keep button's text (« Garder »; « Lire » when the photo is read).
        hint_key: how to hold what is photographed.
        failure: what the status line says when ``save`` fails (in the current language);
            by default « could not be saved » and the error's French text.
        """
        super().__init__()
        self.setObjectName("capture")
        self.camera = camera
        self.runner = runner
        self.tr_ = tr
        self.document = document
        self._save = save
        self._keep_key = keep_key
        self._hint_key = hint_key
        self._failure = failure
        #: What ``save`` returned for the photo kept (set before ``finished(True)``).
        self.result: object = None
        self._failed: Exception | None = None
        self.phase = Phase.STARTING
        self._since = time.monotonic()
        #: Seconds without a first image, or without the photo asked for, before giving up.
        self.start_timeout = START_TIMEOUT_S
        self.capture_timeout = CAPTURE_TIMEOUT_S
        self._taken: Taken | None = None
        self._status_key = ""
        self._detail = ""
        self._paused = False
        self._frame: PreviewFrame | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel()
        self.heading.setObjectName("subtitle")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.preview = PreviewPane()
        layout.addWidget(self.preview, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("muted")
        layout.addWidget(self.status)
        layout.addLayout(self._buttons())

        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.retranslate(document)

    def _buttons(self) -> QHBoxLayout:
        """« Annuler » on one side; « Prendre la photo », or « Reprendre » and « Garder »."""
        row = QHBoxLayout()
        self.cancel_button = QPushButton()
        self.cancel_button.setObjectName("camera-cancel")
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        self.retake_button = QPushButton()
        self.retake_button.setObjectName("camera-retake")
        self.retake_button.clicked.connect(self._retake)
        row.addWidget(self.retake_button)
        self.take_button = QPushButton()
        self.take_button.setObjectName("primary")
        self.take_button.clicked.connect(self._take)
        row.addWidget(self.take_button)
        self.keep_button = QPushButton()
        self.keep_button.setObjectName("primary")
        self.keep_button.clicked.connect(self._keep)
        row.addWidget(self.keep_button)
        return row

    # ----------------------------------------------------------------------------- life cycle
    def start(self) -> None:
        """Switch the camera on and show its preview."""
        self._taken = None
        self._set_phase(Phase.STARTING, "")
        self._since = time.monotonic()  # also when already STARTING (the first start)
        self.preview.show_text(self.tr_.t("camera.starting"))
        self.camera.start()
        self._timer.start()

    def stop(self) -> None:
        """Switch the camera off (leaving the view, the screen hidden, the kiosk locked)."""
        self._timer.stop()
        self.camera.stop()

    def hideEvent(self, event: QHideEvent) -> None:
        """The camera is never left on behind another screen (or a minimised window)."""
        if self._timer.isActive():
            self.stop()
            self._paused = True
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        """Back on screen after :meth:`hideEvent`: the camera again (a photo under review is
        kept)."""
        super().showEvent(event)
        if self._paused:
            self._paused = False
            if self.phase is Phase.CLOSED:
                return
            if self.phase in (Phase.REVIEW, Phase.SAVING):
                self.camera.start()
                self._timer.start()
            elif self.phase is not Phase.FAILED:
                self.start()

    def cancel(self) -> None:
        """Back to the checklist without keeping anything (pages kept before stay)."""
        self.close_view()
        self.finished.emit(False)

    def close_view(self) -> None:
        """Camera off for good; a photo being encoded or saved is no longer this view's."""
        self.stop()
        self.phase = Phase.CLOSED
        self._taken = None

    # ----------------------------------------------------------------------------- the timer
    def _tick(self) -> None:
        if self.phase not in (Phase.STARTING, Phase.LIVE, Phase.TAKING):
            return  # the review shows the photo; a camera failing now loses nothing
        problem = self.camera.problem()
        if problem is not None:
            self._fail(problem.fault, str(problem))
            return
        frame = self.camera.frame()
        if frame is not None and frame is not self._frame:  # a camera slower than the timer
            self._frame = frame
            self.preview.show_image(frame_image(frame))
            if self.phase is Phase.STARTING:
                self._set_phase(Phase.LIVE, "")
        elapsed = time.monotonic() - self._since
        if self.phase is Phase.STARTING and elapsed > self.start_timeout:
            self._fail(CameraFault.BUSY, "no image from the camera after start")
        elif self.phase is Phase.TAKING:
            self._poll_photo(elapsed)

    def _poll_photo(self, elapsed: float) -> None:
        try:
            still = self.camera.photo()
        except CameraError as exc:
            log.warning("photo failed: %s", exc)
            self._set_phase(Phase.LIVE, "camera.capture", error=True)
            return
        if still is None:
            if elapsed > self.capture_timeout:
                log.warning("photo not delivered after %.0f s", elapsed)
                self._set_phase(Phase.LIVE, "camera.capture", error=True)
            return
        self._set_phase(Phase.ENCODING, "camera.taking")
        self.runner.run(lambda: encode(still), on_done=self._review, on_error=self._encode_failed)

    def _fail(self, fault: CameraFault, detail: str) -> None:
        log.warning("camera problem (%s): %s", fault.value, detail)
        self.stop()
        self._detail = detail
        self._set_phase(Phase.FAILED, f"camera.{fault.value}", error=True)
        self.preview.show_text(self.tr_.t("camera.no_image"))

    # ----------------------------------------------------------------------------- buttons
    def _take(self) -> None:
        self._set_phase(Phase.TAKING, "camera.taking")
        self.camera.capture()

    def _review(self, taken: Taken) -> None:
        if self.phase is not Phase.ENCODING:
            return  # cancelled meanwhile
        self._taken = taken
        self.preview.show_image(taken.image)
        self._set_phase(Phase.REVIEW, "camera.review")

    def _encode_failed(self, exc: Exception) -> None:
        log.warning("photo could not be encoded: %s", exc)
        if self.phase is Phase.ENCODING:
            self._set_phase(Phase.LIVE, "camera.capture", error=True)

    def _retake(self) -> None:
        if self.phase is Phase.FAILED:
            self.start()
            return
        self._taken = None
        self._set_phase(Phase.LIVE, "")

    def _keep(self) -> None:
        taken = self._taken
        if taken is None:
            return
        self._set_phase(Phase.SAVING, "camera.saving")
        self.runner.run(
            lambda: self._save(taken.data, taken.mime_type),
            on_done=self._kept,
            on_error=self._save_failed,
        )

    def _kept(self, result: object = None) -> None:
        if self.phase is not Phase.SAVING:
            return  # closed meanwhile (the page is saved all the same)
        self.result = result
        self.close_view()
        self.finished.emit(True)

    def _save_failed(self, exc: Exception) -> None:
        log.warning("photo could not be saved: %s", exc)
        if self.phase is not Phase.SAVING:
            return
        if self._failure is not None:
            self._set_phase(Phase.REVIEW, "", error=True)
            self._failed = exc  # said again in another language (retranslate)
            self._refresh()
            return
        self._detail = str(exc)
        self._set_phase(Phase.REVIEW, "camera.save_failed", error=True)

    # ----------------------------------------------------------------------------- display
    def _set_phase(self, phase: Phase, status_key: str, *, error: bool = False) -> None:
        if phase is not self.phase:
            self._since = time.monotonic()
        self.phase = phase
        self._status_key = status_key
        self._failed = None
        self.status.setObjectName("error" if error else "muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        # A button the agent pressed (tapped or with the keyboard) hides or greys itself out:
        # Qt would hand the focus to the next control of the window (« Accueil »), and a
        # keyboard user would have to come back. It goes to the next step's button instead.
        focused = QApplication.focusWidget()
        inside = focused is not None and (focused is self or self.isAncestorOf(focused))
        self._refresh()
        if inside:
            self._focus_next_step()

    def _focus_next_step(self) -> None:
        button = {
            Phase.LIVE: self.take_button,
            Phase.REVIEW: self.keep_button,
            Phase.FAILED: self.retake_button,
        }.get(self.phase, self.cancel_button)
        if button.isVisible() and button.isEnabled():
            button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refresh(self) -> None:
        phase = self.phase
        self.status.setText(self.tr_.t(self._status_key) if self._status_key else "")
        if self._failed is not None and self._failure is not None:
            self.status.setText(self._failure(self._failed))
        if self._status_key == "camera.save_failed" and self._detail:
            self.status.setText(f"{self.status.text()}\n{self._detail}")
        self.take_button.setVisible(phase in (Phase.STARTING, Phase.LIVE, Phase.TAKING))
        self.take_button.setEnabled(phase is Phase.LIVE)
        reviewing = phase in (Phase.REVIEW, Phase.SAVING)
        self.keep_button.setVisible(reviewing)
        self.keep_button.setEnabled(phase is Phase.REVIEW)
        self.retake_button.setVisible(reviewing or phase is Phase.FAILED)
        self.retake_button.setEnabled(phase is not Phase.SAVING)
        self.retake_button.setText(
            self.tr_.t("camera.retry" if phase is Phase.FAILED else "camera.retake")
        )
        self.cancel_button.setEnabled(phase is not Phase.SAVING)

    def retranslate(self, document: str) -> None:
        """Texts in the current language (the camera goes on)."""
        self.document = document
        self.heading.setText(self.tr_.t("camera.title", document=document))
        self.hint.setText(
            self.tr_.t(self._hint_key)
            + "\n"
            # Isolated: a Latin name ending in « ) » keeps its order in an Arabic sentence.
            + self.tr_.t("camera.name", name=f"\u2068{self.camera.name}\u2069")
        )
        self.take_button.setText(self.tr_.t("camera.take"))
        self.keep_button.setText(self.tr_.t(self._keep_key))
        self.cancel_button.setText(self.tr_.t("documents.cancel"))
        self.preview.setAccessibleName(self.tr_.t("camera.preview", document=document))
        self.take_button.setAccessibleName(self.tr_.t("camera.take_for", document=document))
        self.keep_button.setAccessibleName(self.tr_.t("camera.keep_for", document=document))
        if self.phase is Phase.STARTING and self.preview.image.isNull():
            self.preview.show_text(self.tr_.t("camera.starting"))
        elif self.phase is Phase.FAILED:
            self.preview.show_text(self.tr_.t("camera.no_image"))
        self._refresh()
