"""The ports of the readers that read a photo (optical character recognition): free text, and
a MRZ's glyphs one cell at a time.

Declared here, beside their one user (``kiosk/identity/ocr.py``), because the identity package
may not import ``kiosk.ports`` (which imports it); ``kiosk.ports.devices`` lists them with the
other devices' ports. Implementations live in ``devices/ocr/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Protocol


class TextLayout(Enum):
    """How the text lies on a photo, for the recogniser to look for it the right way."""

    LINE = "line"  # one line (a number framed closely)
    BLOCK = "block"  # a block of lines of the same size (a MRZ)
    SPARSE = "sparse"  # a few words scattered on the image (a card's front)


class TextReadError(Exception):
    """The photo could not be read at all (the recogniser failed or took too long); ``str()``
    is a French message for the agent."""


class TextReader(Protocol):
    """Reads the printed text of a photo (optical character recognition), offline.

    Implementations live in ``devices/ocr/``. :meth:`read_text` takes up to a few seconds:
    call it on a worker thread. What the text means (a CAN, a MRZ) is the domain's business
    (``kiosk.identity.ocr``): the reader only returns what it saw.
    """

    def unavailable(self) -> str | None:
        """Why no text can be read on this kiosk (the recogniser is not installed), in plain
        French for the agent; None when it can. Cheap: called before showing a button."""
        ...

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        """The text seen on ``image`` (an encoded photo: JPEG, PNG), one line per line seen.

        Args:
            alphabet: the only characters to look for (e.g. ``"0123456789"``); None for any.
            layout: how the text lies on the photo.

        Raises:
            TextReadError: the photo could not be read (not a picture, recogniser failed).
        """
        ...


#: One character cell of a MRZ: every MRZ character (A–Z, 0–9, <) and how alike the cell and
#: that character's glyph are (normalised correlation: 1 the same, 0 unrelated).
CellScores = Mapping[str, float]


class GlyphReader(Protocol):
    """Reads a MRZ off a photo one character cell at a time, against the glyphs of its
    typeface (OCR-B), offline.

    Implementations live in ``devices/ocr/``. :meth:`read_glyphs` takes up to a second or so:
    call it on a worker thread. Which character may stand where, and whether a reading is sure
    enough, is the domain's business (``kiosk.identity.ocr``).
    """

    def unavailable(self) -> str | None:
        """Why no MRZ can be read this way on this kiosk (its typeface is not installed), in
        plain French; None when it can. Cheap."""
        ...

    def read_glyphs(self, image: bytes, *, widths: Sequence[int]) -> list[list[CellScores]]:
        """The MRZ's lines on ``image``, top to bottom, each cut into as many cells as one of
        ``widths`` (30, 36, 44), each cell scored against every MRZ character; [] when no
        band of 2 or 3 such lines is seen.

        Raises:
            TextReadError: the photo could not be read (not a picture).
        """
        ...
