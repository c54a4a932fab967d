"""Devices built at their first use, not at start (issue 18): the counter's camera (Qt
Multimedia, ~5 MB and its libraries), the text reader (Tesseract's module), the MRZ's glyph
reader (OCR-B's drawings, Pillow) and training mode's
simulated cameras of the identity step (the training card's front and MRZ, drawn with Pillow).

Each is the port it stands for, built by the factory the composition root gives it the first
time one of its methods is called (on the thread that calls it: the UI thread for a camera, as
the port asks, a worker for a reading), once. A camera that was never built has nothing to
stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from kiosk.ports.devices import (
    Camera,
    CameraError,
    CellScores,
    GlyphReader,
    PreviewFrame,
    Still,
    TextLayout,
    TextReader,
)

_Device = TypeVar("_Device")


class Once(Generic[_Device]):
    """``make()``'s result, made on the first call, once (any thread)."""

    def __init__(self, make: Callable[[], _Device]) -> None:
        self._make = make
        self._made: _Device | None = None
        self._lock = threading.Lock()

    def __call__(self) -> _Device:
        with self._lock:
            if self._made is None:
                self._made = self._make()
            return self._made

    @property
    def made(self) -> _Device | None:
        """The device if it was built, else None."""
        return self._made


class LazyCamera:
    """A ``Camera`` built at its first use."""

    def __init__(self, make: Callable[[], Camera]) -> None:
        self._camera = Once(make)

    @property
    def built(self) -> bool:
        """Whether the camera was built (something asked it for anything)."""
        return self._camera.made is not None

    @property
    def name(self) -> str:
        """See ``Camera.name``."""
        return self._camera().name

    def problem(self) -> CameraError | None:
        """See ``Camera.problem``."""
        return self._camera().problem()

    def start(self) -> None:
        """See ``Camera.start``."""
        self._camera().start()

    def frame(self) -> PreviewFrame | None:
        """See ``Camera.frame``."""
        return self._camera().frame()

    def capture(self) -> None:
        """See ``Camera.capture``."""
        self._camera().capture()

    def photo(self) -> Still | None:
        """See ``Camera.photo``."""
        return self._camera().photo()

    def stop(self) -> None:
        """See ``Camera.stop``; nothing to stop if it was never built."""
        camera = self._camera.made
        if camera is not None:
            camera.stop()


class LazyTextReader:
    """A ``TextReader`` built at its first use."""

    def __init__(self, make: Callable[[], TextReader]) -> None:
        self._reader = Once(make)

    @property
    def built(self) -> bool:
        """Whether the reader was built."""
        return self._reader.made is not None

    def unavailable(self) -> str | None:
        """See ``TextReader.unavailable``."""
        return self._reader().unavailable()

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        """See ``TextReader.read_text``."""
        return self._reader().read_text(image, alphabet=alphabet, layout=layout)


class LazyGlyphReader:
    """A ``GlyphReader`` built at its first use."""

    def __init__(self, make: Callable[[], GlyphReader]) -> None:
        self._reader = Once(make)

    @property
    def built(self) -> bool:
        """Whether the reader was built."""
        return self._reader.made is not None

    def unavailable(self) -> str | None:
        """See ``GlyphReader.unavailable``."""
        return self._reader().unavailable()

    def read_glyphs(self, image: bytes, *, widths: Sequence[int]) -> list[list[CellScores]]:
        """See ``GlyphReader.read_glyphs``."""
        return self._reader().read_glyphs(image, widths=widths)
