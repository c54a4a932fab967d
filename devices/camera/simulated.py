"""Training mode's camera: it films the made-up sample pages of training mode (or the training
card's front and MRZ, drawn by ``devices/cardsim/printed.py``, for the identity step).

A newcomer without a camera can rehearse the whole « Photographier » step: a live preview of a
sample page lying on a desk, moving slightly as if held by hand, then a photo at a document
camera's resolution. It implements the same ``kiosk.ports.devices.Camera`` port as the real
camera, with no Qt: frames are drawn with Pillow on a thread of its own, the screen polls them.

``busy``, ``absent`` and ``fail_next_capture`` rehearse the problems the agent may meet (and
let the tests check what the screen says).
"""

from __future__ import annotations

import io
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, UnidentifiedImageError

from kiosk.ports.devices import CameraError, CameraFault, PreviewFrame

log = logging.getLogger(__name__)

PREVIEW_SIZE = (640, 480)
STILL_SIZE = (1600, 1200)
FPS = 12
DESK = (92, 84, 76)
JPEG_QUALITY = 90


class SimulatedStill:
    """A photo drawn by the simulated camera."""

    mime_type = "image/jpeg"

    def __init__(self, image: Image.Image) -> None:
        self._image = image

    def encode(self) -> bytes:
        """JPEG bytes (worker thread)."""
        out = io.BytesIO()
        self._image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        return out.getvalue()


def _blank_page(name: str) -> Image.Image:
    """A stand-in page when a sample is missing or unreadable (the camera never fails for it)."""
    image = Image.new("RGB", (620, 877), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 600, 857), outline="#000091", width=4)
    draw.text((50, 60), f"EXEMPLE — FORMATION ({name})", fill="black")
    return image


def draw_scene(page: Image.Image, size: tuple[int, int], t: float) -> Image.Image:
    """``page`` lying on a desk as a camera above it sees it at time ``t`` (seconds): a little
    tilted and off-centre, moving as a hand holding a page would."""
    width, height = size
    scale = 0.86 * min(width / page.width, height / page.height)
    sheet = page.resize(
        (max(1, round(page.width * scale)), max(1, round(page.height * scale))),
        Image.Resampling.BILINEAR,
    )
    angle = 2.0 * math.sin(t * 0.9) - 1.0
    sheet = sheet.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=DESK)
    scene = Image.new("RGB", size, DESK)
    dx = round(width * 0.012 * math.sin(t * 1.3))
    dy = round(height * 0.01 * math.cos(t * 1.1))
    scene.paste(sheet, ((width - sheet.width) // 2 + dx, (height - sheet.height) // 2 + dy))
    return scene


class SimulatedCamera:
    """The ``Camera`` of training mode; one sample page per session, in turn."""

    name = "Caméra simulée (formation)"

    def __init__(
        self,
        pages: Sequence[Path | Image.Image],
        *,
        fps: float = FPS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pages = list(pages)
        self._next_page = 0
        self._interval = 1.0 / fps
        self._clock = clock
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame: PreviewFrame | None = None
        self._still: SimulatedStill | None = None
        self._capture_error: CameraError | None = None
        self._wants_photo = False
        self._error: CameraError | None = None
        #: Rehearse « no camera »: :meth:`problem` says so and :meth:`start` does nothing.
        self.absent = False
        #: Rehearse a camera held by another program: :meth:`start` fails.
        self.busy = False
        #: Rehearse a failed photo: the next :meth:`capture` fails, the preview goes on.
        self.fail_next_capture = False

    def problem(self) -> CameraError | None:
        """``ABSENT`` when rehearsing it, the start failure if any, else None."""
        if self.absent:
            return CameraError(
                CameraFault.ABSENT,
                "Aucune caméra n'est branchée sur la borne (caméra simulée absente).",
            )
        return self._error

    def start(self) -> None:
        """Start filming the next sample page (UI thread; the drawing runs on a thread)."""
        self.stop()
        self._error = None
        if self.absent:
            return
        if self.busy:
            self._error = CameraError(
                CameraFault.BUSY,
                "La caméra simulée ne démarre pas : elle est utilisée par une autre"
                " application (exercice de formation).",
            )
            return
        page = self._pages[self._next_page % len(self._pages)] if self._pages else None
        self._next_page += 1
        with self._lock:
            self._frame = None
            self._still = None
            self._capture_error = None
            self._wants_photo = False
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._film, args=(page,), name="simulated-camera", daemon=True
        )
        self._thread.start()

    def _film(self, path: Path | Image.Image | None) -> None:  # camera thread
        page = self._load(path)
        started = self._clock()
        while not self._stopping.is_set():
            t = self._clock() - started
            preview = draw_scene(page, PREVIEW_SIZE, t)
            frame = PreviewFrame(preview.width, preview.height, preview.tobytes())
            with self._lock:
                self._frame = frame
                wants_photo, self._wants_photo = self._wants_photo, False
                failing = wants_photo and self.fail_next_capture
                if failing:
                    self.fail_next_capture = False
            if wants_photo:
                if failing:
                    error = CameraError(
                        CameraFault.CAPTURE,
                        "La photo n'a pas pu être prise (exercice de formation).",
                    )
                    with self._lock:
                        self._capture_error = error
                else:
                    still = SimulatedStill(draw_scene(page, STILL_SIZE, t))
                    with self._lock:
                        self._still = still
            self._stopping.wait(self._interval)

    @staticmethod
    def _load(path: Path | Image.Image | None) -> Image.Image:
        if path is None:
            return _blank_page("page")
        if isinstance(path, Image.Image):  # drawn by the caller (the training card's front)
            return path.convert("RGB")
        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except (OSError, UnidentifiedImageError):
            log.info("sample page %s unreadable: a blank page is filmed instead", path.name)
            return _blank_page(path.stem)

    def frame(self) -> PreviewFrame | None:
        """The newest preview frame."""
        with self._lock:
            return self._frame

    def capture(self) -> None:
        """The photo is drawn with the next frame."""
        with self._lock:
            if self._thread is None:
                self._capture_error = CameraError(
                    CameraFault.CAPTURE, "La caméra est éteinte : la photo n'a pas été prise."
                )
            else:
                self._wants_photo = True

    def photo(self) -> SimulatedStill | None:
        """The photo once drawn; raises the rehearsed capture failure."""
        with self._lock:
            still, self._still = self._still, None
            error, self._capture_error = self._capture_error, None
        if error is not None:
            raise error
        return still

    def stop(self) -> None:
        """Stop filming (waits for the frame being drawn, a few milliseconds)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(timeout=5)
        with self._lock:
            self._frame = None
            self._wants_photo = False

    @property
    def running(self) -> bool:
        """Whether the camera is filming (for tests)."""
        return self._thread is not None
