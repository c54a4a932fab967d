"""The port of the text reader that reads a photo (optical character recognition).

Declared here, beside its one user (``kiosk/identity/ocr.py``), because the identity package
may not import ``kiosk.ports`` (which imports it); ``kiosk.ports.devices`` lists it with the
other devices' ports. Implementations live in ``devices/ocr/``.
"""

from __future__ import annotations

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
