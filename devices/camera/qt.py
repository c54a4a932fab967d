"""A real camera through Qt Multimedia (V4L2 or PipeWire cameras on Linux, via its FFmpeg backend).

Qt Multimedia objects must live on a thread that runs an event loop, so nothing is built in the
constructor (the composition root runs on a worker thread): :meth:`QtCamera.start`, called by
the screen on the UI thread, builds the camera, the capture session, a video sink for the
preview and an image capture for the photo.

Frames and photos reach us on Qt's own threads (``DirectConnection``): a preview frame is
scaled down and turned into packed RGB there, at most ``PREVIEW_FPS`` times a second, and kept
under a lock for the screen's timer to pick up; the UI thread never converts a full frame. The
photo is kept as a ``QImage`` and encoded to JPEG by :meth:`QtStill.encode`, off the UI thread.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage, QImageWriter
from PySide6.QtMultimedia import (
    QCamera,
    QCameraDevice,
    QCameraFormat,
    QImageCapture,
    QMediaCaptureSession,
    QMediaDevices,
    QVideoFrame,
    QVideoSink,
)

from kiosk.ports.devices import CameraError, CameraFault, PreviewFrame

log = logging.getLogger(__name__)

PREVIEW_MAX = 960  # px, the longest side of a preview frame
PREVIEW_FPS = 15
MAX_PIXELS = 3840 * 2160  # larger formats run too slowly to aim at a page
MIN_FPS = 10.0
JPEG_QUALITY = 90

NO_CAMERA = "Aucune caméra n'est branchée sur la borne : joignez les documents depuis le scanner."


class QtStill:
    """A photo from the camera, as Qt delivered it."""

    mime_type = "image/jpeg"

    def __init__(self, image: QImage) -> None:
        self._image = image

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return self._image.width(), self._image.height()

    def encode(self) -> bytes:
        """JPEG bytes (worker thread: ``QImage`` and ``QBuffer`` are reentrant).

        Raises:
            CameraError: the image could not be encoded (fault ``CAPTURE``).
        """
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QImageWriter(buffer, QByteArray(b"jpeg"))
        writer.setQuality(JPEG_QUALITY)
        written = writer.write(self._image)
        buffer.close()
        if not written or data.isEmpty():
            log.warning("JPEG encoding failed: %s", writer.errorString())
            raise CameraError(
                CameraFault.CAPTURE, "La photo n'a pas pu être convertie en JPEG : reprenez-la."
            )
        return bytes(data.data())


def preview_frame(image: QImage) -> PreviewFrame | None:
    """``image`` scaled to the preview's size, as packed RGB (any thread)."""
    if image.isNull():
        return None
    if max(image.width(), image.height()) > PREVIEW_MAX:
        image = image.scaled(
            PREVIEW_MAX,
            PREVIEW_MAX,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    bits = bytes(rgb.constBits())
    if stride != width * 3:  # rows padded to 4 bytes: pack them
        bits = b"".join(bits[y * stride : y * stride + width * 3] for y in range(height))
    return PreviewFrame(width, height, bits[: width * height * 3])


def best_format(formats: list[QCameraFormat]) -> QCameraFormat | None:
    """The largest resolution that still moves smoothly enough to aim at a page."""
    usable = [
        f
        for f in formats
        if f.maxFrameRate() >= MIN_FPS
        and 0 < f.resolution().width() * f.resolution().height() <= MAX_PIXELS
    ]
    if not usable:
        return None
    return max(
        usable,
        key=lambda f: (f.resolution().width() * f.resolution().height(), f.maxFrameRate()),
    )


class QtCamera:
    """The counter's camera (``kiosk.ports.devices.Camera``)."""

    def __init__(self, device: str | None = None) -> None:
        """Args:
        device: the id or (part of) the description of the camera to use
            (``PN_KIOSK_CAMERA``); None for the system's default camera.
        """
        self._wanted = device
        self._lock = threading.Lock()
        self._name = ""
        self._camera: QCamera | None = None
        self._session: QMediaCaptureSession | None = None
        self._capture: QImageCapture | None = None
        self._sink: QVideoSink | None = None
        self._devices: QMediaDevices | None = None
        self._device_id = b""
        self._frame: PreviewFrame | None = None
        self._last_frame_at = 0.0
        self._still: QtStill | None = None
        self._capture_error: CameraError | None = None
        self._error: CameraError | None = None

    @property
    def name(self) -> str:
        """The camera's description, once looked up."""
        return self._name or "Caméra"

    def _device(self) -> QCameraDevice | None:
        """The camera to use, if plugged in (UI thread)."""
        inputs = QMediaDevices.videoInputs()
        if self._wanted:
            wanted = self._wanted.casefold()
            for device in inputs:
                if (
                    bytes(device.id().data()).decode(errors="replace").casefold() == wanted
                    or wanted in device.description().casefold()
                ):
                    return device
            return None
        if not inputs:
            return None
        default = QMediaDevices.defaultVideoInput()
        return inputs[0] if default.isNull() else default

    def _absent(self) -> CameraError:
        if self._wanted:
            return CameraError(
                CameraFault.ABSENT,
                f"La caméra « {self._wanted} » (PN_KIOSK_CAMERA) n'est pas branchée sur la"
                " borne : joignez les documents depuis le scanner.",
            )
        return CameraError(CameraFault.ABSENT, NO_CAMERA)

    def problem(self) -> CameraError | None:
        """A failure since :meth:`start`, or ``ABSENT`` when no camera is plugged in."""
        with self._lock:
            if self._error is not None:
                return self._error
        if self._camera is None:
            device = self._device()
            if device is None:
                return self._absent()
            self._name = device.description()
        return None

    def start(self) -> None:
        """Switch the camera on (UI thread). Failures are reported by :meth:`problem`."""
        self.stop()
        with self._lock:
            self._error = None
            self._frame = None
            self._still = None
            self._capture_error = None
        device = self._device()
        if device is None:
            with self._lock:
                self._error = self._absent()
            return
        self._name = device.description()
        self._device_id = bytes(device.id().data())
        camera = QCamera(device)
        chosen = best_format(device.videoFormats())
        if chosen is not None:
            camera.setCameraFormat(chosen)
        for mode in (QCamera.FocusMode.FocusModeAutoNear, QCamera.FocusMode.FocusModeAuto):
            if camera.isFocusModeSupported(mode):
                camera.setFocusMode(mode)  # a page a few tens of centimetres away
                break
        session = QMediaCaptureSession()
        session.setCamera(camera)
        capture = QImageCapture()
        capture.setQuality(QImageCapture.Quality.VeryHighQuality)
        session.setImageCapture(capture)
        sink = QVideoSink()
        session.setVideoSink(sink)
        direct = Qt.ConnectionType.DirectConnection
        sink.videoFrameChanged.connect(self._on_frame, direct)
        capture.imageCaptured.connect(self._on_captured, direct)
        capture.errorOccurred.connect(self._on_capture_error, direct)
        camera.errorOccurred.connect(self._on_camera_error, direct)
        devices = QMediaDevices()
        devices.videoInputsChanged.connect(self._on_inputs_changed)
        self._camera, self._session, self._capture = camera, session, capture
        self._sink, self._devices = sink, devices
        log.info("camera %s starting (%s)", self._name, _describe(chosen))
        camera.start()

    # Qt's threads -----------------------------------------------------------------------------
    def _on_frame(self, frame: QVideoFrame) -> None:  # a Qt Multimedia thread (or the UI thread)
        now = time.monotonic()
        if now - self._last_frame_at < 1.0 / PREVIEW_FPS:
            return
        self._last_frame_at = now
        preview = preview_frame(frame.toImage())
        if preview is not None:
            with self._lock:
                self._frame = preview

    def _on_captured(self, _request: int, image: QImage) -> None:  # Qt thread
        with self._lock:
            if image.isNull():
                self._capture_error = CameraError(
                    CameraFault.CAPTURE, "La caméra a rendu une image vide : reprenez la photo."
                )
            else:
                self._still = QtStill(image)

    def _on_capture_error(self, _request: int, error: QImageCapture.Error, text: str) -> None:
        log.warning("camera capture failed: %s (%s)", error, text)
        with self._lock:
            self._capture_error = CameraError(
                CameraFault.CAPTURE,
                f"La photo n'a pas pu être prise ({text or error.name}) : reprenez-la.",
            )

    def _on_camera_error(self, error: QCamera.Error, text: str) -> None:
        log.warning("camera %s failed: %s (%s)", self._name, error, text)
        with self._lock:
            self._error = CameraError(
                CameraFault.BUSY,
                f"La caméra « {self.name} » ne répond pas ({text or error.name}) : elle est"
                " peut-être utilisée par une autre application, ou mal branchée.",
            )

    def _on_inputs_changed(self) -> None:  # UI thread
        present = {bytes(d.id().data()) for d in QMediaDevices.videoInputs()}
        if self._camera is not None and self._device_id not in present:
            with self._lock:
                self._error = CameraError(
                    CameraFault.BUSY, f"La caméra « {self.name} » a été débranchée."
                )

    # -----------------------------------------------------------------------------------------
    def frame(self) -> PreviewFrame | None:
        """The newest preview frame."""
        with self._lock:
            return self._frame

    def capture(self) -> None:
        """Ask Qt for a photo (UI thread); it arrives on :meth:`photo`."""
        capture = self._capture
        if capture is None or not capture.isReadyForCapture():
            with self._lock:
                self._capture_error = CameraError(
                    CameraFault.CAPTURE,
                    "La caméra n'est pas prête : attendez que l'image s'affiche, puis reprenez"
                    " la photo.",
                )
            return
        if capture.capture() < 0:
            with self._lock:
                self._capture_error = CameraError(
                    CameraFault.CAPTURE,
                    f"La photo n'a pas pu être prise ({capture.errorString()}) : reprenez-la.",
                )

    def photo(self) -> QtStill | None:
        """The photo once Qt delivered it; raises if it failed."""
        with self._lock:
            still, self._still = self._still, None
            error, self._capture_error = self._capture_error, None
        if error is not None:
            raise error
        return still

    def stop(self) -> None:
        """Switch the camera off and release it (UI thread)."""
        camera, sink = self._camera, self._sink
        if sink is not None:
            sink.videoFrameChanged.disconnect(self._on_frame)
        if camera is not None:
            camera.stop()
        # Dropped session first (it points at the others); Python owns these parentless
        # objects, so each is deleted as its last reference goes.
        self._session = None
        self._capture = None
        self._sink = None
        self._camera = None
        self._devices = None
        with self._lock:
            self._frame = None


def _describe(chosen: QCameraFormat | None) -> str:
    if chosen is None:
        return "format par défaut"
    size = chosen.resolution()
    return f"{size.width()}×{size.height()} à {chosen.maxFrameRate():.0f} i/s"
