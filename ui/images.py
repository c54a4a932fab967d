"""Pictures decoded off the UI thread: by Pillow, into a QImage made of plain pixels.

``QImage.loadFromData`` probes Qt's image plugins, and the SVG one makes a QObject and connects
it, taking one of Qt's signal locks while the worker thread holds Python's lock; the UI thread,
holding that Qt lock to disconnect a signal and asking for Python's, then waited for ever (a
frozen test run, the documents screen's thumbnails). A QImage built from pixels takes no lock.
"""

from __future__ import annotations

import io

from PySide6.QtGui import QImage


def decoded(data: bytes, *, max_side: int | None = None) -> QImage | None:
    """``data`` (JPEG, PNG, …) as a QImage, scaled down to fit ``max_side`` if given; None
    when it is no picture Pillow can read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if max_side is not None:
                opened.thumbnail((max_side, max_side))
            picture = opened.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    pixels = picture.tobytes()
    image = QImage(
        pixels, picture.width, picture.height, picture.width * 4, QImage.Format.Format_RGBA8888
    )
    return image.copy()  # its own pixels: ``pixels`` goes with this function
