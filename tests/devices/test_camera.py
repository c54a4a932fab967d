"""The cameras behind ``kiosk.ports.devices.Camera``: Qt Multimedia's (as far as a machine without a
camera allows) and training mode's simulated one.

The Qt camera is exercised for real: Qt Multimedia is loaded, the system's video inputs are
listed, a camera is asked for; preview frames and photos go through the same conversion and JPEG
encoding as a camera's would (``QVideoFrame`` built from an image, fed through a ``QVideoSink``).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtMultimedia import QMediaDevices, QVideoFrame, QVideoSink
from PySide6.QtWidgets import QApplication

from devices.camera.qt import PREVIEW_MAX, QtCamera, preview_frame
from devices.camera.simulated import STILL_SIZE, SimulatedCamera
from devices.capture import write_sample_scans
from kiosk.ports.devices import Camera, CameraError, CameraFault, Still


def _page(width: int, height: int) -> QImage:
    """A white page with a blue block in its top-left corner."""
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    for y in range(min(height, 40)):
        for x in range(min(width, 40)):
            image.setPixelColor(x, y, QColor("#000091"))
    return image


def test_without_a_camera_the_qt_camera_says_so_in_french_and_nothing_breaks(
    qapp: QApplication,
) -> None:
    camera: Camera = QtCamera()
    if QMediaDevices.videoInputs():
        pytest.skip("a camera is plugged in: the « no camera » path cannot be shown here")
    problem = camera.problem()
    assert problem is not None
    assert problem.fault is CameraFault.ABSENT
    assert "Aucune caméra n'est branchée" in str(problem)
    # Everything the screen may call still answers, calmly.
    camera.start()
    problem = camera.problem()
    assert problem is not None and problem.fault is CameraFault.ABSENT
    assert camera.frame() is None
    camera.capture()
    with pytest.raises(CameraError) as failed:
        camera.photo()
    assert failed.value.fault is CameraFault.CAPTURE
    assert "pas prête" in str(failed.value)
    assert camera.photo() is None  # the failure is reported once
    camera.stop()
    camera.stop()


def test_a_camera_named_but_not_plugged_in_is_named_in_the_message(qapp: QApplication) -> None:
    camera = QtCamera("Caméra de document inexistante")
    problem = camera.problem()
    assert problem is not None and problem.fault is CameraFault.ABSENT
    assert "« Caméra de document inexistante » (PN_KIOSK_CAMERA)" in str(problem)


def test_qt_preview_frames_are_scaled_down_packed_rgb(qapp: QApplication) -> None:
    camera = QtCamera()
    sink = QVideoSink()
    # The camera's own connection: the sink's frames go to the camera, on Qt's thread.
    sink.videoFrameChanged.connect(camera._on_frame, Qt.ConnectionType.DirectConnection)
    sink.setVideoFrame(QVideoFrame(_page(1920, 1080)))
    frame = camera.frame()
    assert frame is not None
    assert (frame.width, frame.height) == (PREVIEW_MAX, PREVIEW_MAX * 1080 // 1920)
    assert len(frame.rgb) == frame.width * frame.height * 3
    assert frame.rgb[:3] == b"\x00\x00\x91"  # the top-left pixel, in RGB order
    assert frame.rgb[-3:] == b"\xff\xff\xff"


def test_a_small_odd_frame_is_packed_without_qts_row_padding(qapp: QApplication) -> None:
    frame = preview_frame(_page(41, 3))  # 123 bytes a row: Qt pads rows to 124
    assert frame is not None
    assert len(frame.rgb) == 41 * 3 * 3
    rows = [frame.rgb[y * 123 : (y + 1) * 123] for y in range(3)]
    assert all(row[:3] == b"\x00\x00\x91" and row[-3:] == b"\xff\xff\xff" for row in rows)


def test_a_qt_photo_is_encoded_as_a_full_resolution_jpeg(qapp: QApplication) -> None:
    camera = QtCamera()
    camera._on_captured(1, _page(2592, 1944))  # as QImageCapture delivers it
    still = camera.photo()
    assert still is not None
    assert camera.photo() is None  # delivered once
    data = still.encode()
    assert still.mime_type == "image/jpeg"
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == "JPEG"
        assert decoded.size == (2592, 1944)


def test_a_failed_qt_capture_is_reported_once_and_the_camera_goes_on(
    qapp: QApplication,
) -> None:
    from PySide6.QtMultimedia import QImageCapture

    camera = QtCamera()
    camera._on_capture_error(3, QImageCapture.Error.ResourceError, "device busy")
    with pytest.raises(CameraError) as failed:
        camera.photo()
    assert failed.value.fault is CameraFault.CAPTURE
    assert "n'a pas pu être prise (device busy)" in str(failed.value)
    assert camera.photo() is None


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _photo(camera: Camera) -> Still:
    """Poll for the photo, as the screen's timer does."""
    deadline = time.monotonic() + 5.0
    while (still := camera.photo()) is None:
        assert time.monotonic() < deadline, "no photo"
        time.sleep(0.02)
    return still


def test_the_simulated_camera_films_the_training_pages_and_takes_a_jpeg(tmp_path: Path) -> None:
    camera: Camera = SimulatedCamera(write_sample_scans(tmp_path))
    assert camera.problem() is None
    camera.start()
    try:
        _wait(lambda: camera.frame() is not None)
        frame = camera.frame()
        assert frame is not None
        assert len(frame.rgb) == frame.width * frame.height * 3
        # A white page on a darker desk: both are in the picture.
        pixels = Image.frombytes("RGB", (frame.width, frame.height), frame.rgb)
        assert pixels.getpixel((frame.width // 2, frame.height // 2)) == (255, 255, 255)
        assert pixels.getpixel((2, 2)) != (255, 255, 255)
        camera.capture()
        data = _photo(camera).encode()
        with Image.open(io.BytesIO(data)) as decoded:
            assert decoded.format == "JPEG"
            assert decoded.size == STILL_SIZE
    finally:
        camera.stop()
    assert camera.frame() is None


def test_the_simulated_camera_rehearses_each_problem(tmp_path: Path) -> None:
    camera = SimulatedCamera(write_sample_scans(tmp_path))
    camera.absent = True
    problem = camera.problem()
    assert problem is not None and problem.fault is CameraFault.ABSENT
    camera.absent = False
    camera.busy = True
    camera.start()
    problem = camera.problem()
    assert problem is not None and problem.fault is CameraFault.BUSY
    assert not camera.running
    camera.busy = False
    camera.fail_next_capture = True
    camera.start()
    try:
        assert camera.problem() is None
        camera.capture()
        errors: list[CameraError] = []

        def failed() -> bool:
            try:
                camera.photo()
            except CameraError as exc:
                errors.append(exc)
            return bool(errors)

        _wait(failed)
        assert errors[0].fault is CameraFault.CAPTURE
        camera.capture()  # the next one works
        assert _photo(camera).mime_type == "image/jpeg"
    finally:
        camera.stop()
    assert not camera.running
