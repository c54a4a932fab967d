"""The capture view against cameras that misbehave in ways the simulator does not rehearse: one
that never sends an image, one that never delivers the photo, one whose photo is unreadable.

No kiosk window here (no card reader needed): the view alone, with a camera double.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from kiosk.ports.devices import CameraError, CameraFault, PreviewFrame
from ui.i18n import Translator
from ui.tasks import TaskRunner
from ui.widgets.camera import CaptureView, Phase

GREY = PreviewFrame(4, 2, bytes([128] * 4 * 2 * 3))


class Still:
    mime_type = "image/jpeg"

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self) -> bytes:
        return self.data


class StubbornCamera:
    """Starts, then sends images only if told to, and photos only if given one."""

    name = "Caméra de test"

    def __init__(self) -> None:
        self.frames: list[PreviewFrame] = []
        self.still: Still | None = None
        self.on = False
        self.saved: list[bytes] = []

    def problem(self) -> CameraError | None:
        return None

    def start(self) -> None:
        self.on = True

    def frame(self) -> PreviewFrame | None:
        return self.frames[-1] if self.frames else None

    def capture(self) -> None:
        """The test hands the photo over itself through ``still``, or never does."""

    def photo(self) -> Still | None:
        still, self.still = self.still, None
        return still

    def stop(self) -> None:
        self.on = False


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    tasks.wait()


def _phase(view: CaptureView) -> Phase:
    """The view's phase, read afresh (it changes under the event loop)."""
    return view.phase


def _view(qtbot: QtBot, camera: StubbornCamera, runner: TaskRunner) -> CaptureView:
    view = CaptureView(
        camera,
        runner,
        Translator("fr"),
        document="Carte grise",
        save=lambda data, _mime: camera.saved.append(data),
    )
    qtbot.addWidget(view)
    view.show()
    return view


def test_a_camera_that_sends_no_image_is_reported_busy(qtbot: QtBot, runner: TaskRunner) -> None:
    camera = StubbornCamera()
    view = _view(qtbot, camera, runner)
    view.start()
    qtbot.wait(300)  # a few ticks: a camera may take seconds to send its first image
    assert view.phase is Phase.STARTING
    assert not view.take_button.isEnabled()  # nothing to photograph yet
    view.start_timeout = 0.3
    qtbot.waitUntil(lambda: view.phase is Phase.FAILED, timeout=3_000)
    assert "La caméra ne répond pas" in view.status.text()
    assert not camera.on  # switched off, « Réessayer » switches it on again
    camera.frames.append(GREY)
    view.retake_button.click()
    qtbot.waitUntil(lambda: view.phase is Phase.LIVE, timeout=3_000)
    assert camera.on


def test_a_photo_that_never_comes_or_is_unreadable_is_said_and_the_preview_goes_on(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    camera = StubbornCamera()
    camera.frames.append(GREY)
    view = _view(qtbot, camera, runner)
    view.capture_timeout = 0.3
    view.start()
    qtbot.waitUntil(lambda: view.phase is Phase.LIVE, timeout=3_000)

    view.take_button.click()  # the camera never delivers it
    assert _phase(view) is Phase.TAKING
    qtbot.waitUntil(lambda: "n'a pas pu être prise" in view.status.text(), timeout=3_000)
    assert _phase(view) is Phase.LIVE
    assert camera.on

    camera.still = Still(b"not a picture")  # delivered, but not an image
    view.take_button.click()
    qtbot.waitUntil(lambda: "n'a pas pu être prise" in view.status.text(), timeout=3_000)
    qtbot.waitUntil(lambda: runner.idle, timeout=3_000)
    assert view.phase is Phase.LIVE
    assert camera.saved == []  # nothing unreadable is ever stored


def test_a_page_that_cannot_be_saved_stays_on_screen_to_try_again(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "JPEG")
    page = out.getvalue()
    camera = StubbornCamera()
    camera.frames.append(GREY)
    failures = [OSError("Disque plein.")]

    def save(data: bytes, _mime: str) -> None:
        if failures:
            raise failures.pop()
        camera.saved.append(data)

    view = CaptureView(camera, runner, Translator("fr"), document="Carte grise", save=save)
    qtbot.addWidget(view)
    view.show()
    view.start()
    qtbot.waitUntil(lambda: view.phase is Phase.LIVE, timeout=3_000)
    camera.still = Still(page)
    view.take_button.click()
    qtbot.waitUntil(lambda: view.phase is Phase.REVIEW, timeout=3_000)

    view.keep_button.click()
    qtbot.waitUntil(lambda: "n'a pas pu être enregistrée" in view.status.text(), timeout=3_000)
    assert "Disque plein." in view.status.text()
    assert view.phase is Phase.REVIEW and view.keep_button.isEnabled()
    with qtbot.waitSignal(view.finished, timeout=3_000) as kept:
        view.keep_button.click()
    assert kept.args == [True]
    assert camera.saved == [page]
    assert not camera.on


def test_fault_keys_have_translations() -> None:
    tr = Translator("ar")
    for fault in CameraFault:
        assert tr.t(f"camera.{fault.value}") != Translator("fr").t(f"camera.{fault.value}")


def test_the_keyboard_goes_from_one_step_to_the_next_without_leaving_the_view(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    # The Xvfb walk of 2026-12-05: after « Prendre la photo » with the keyboard, the focus went
    # to the window's « Accueil »; a keyboard user had to Tab all the way back to « Lire ».
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "JPEG")
    camera = StubbornCamera()
    camera.frames.append(GREY)
    window = QWidget()
    home = QPushButton("Accueil", window)
    view = CaptureView(
        camera,
        runner,
        Translator("fr"),
        document="Carte grise",
        save=lambda data, _mime: camera.saved.append(data),
    )
    layout = QVBoxLayout(window)
    layout.addWidget(home)
    layout.addWidget(view)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    view.start()
    qtbot.waitUntil(lambda: view.phase is Phase.LIVE, timeout=3_000)
    view.take_button.setFocus()
    camera.still = Still(out.getvalue())

    QTest.keyClick(view.take_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: view.phase is Phase.REVIEW, timeout=3_000)
    assert view.keep_button.hasFocus()  # « Lire » / « Garder », not « Accueil »

    QTest.keyClick(view.retake_button, Qt.Key.Key_Space)
    assert view.phase is Phase.LIVE
    assert view.take_button.hasFocus()
    assert not home.hasFocus()
