"""Reading a document by its MRZ, typed or photographed: « Lire la bande MRZ ».

The MRZ's document number, birth and expiry dates (all under check digits) are the key of the
chip's BAC and PACE-MRZ: a passport lying on the reader is read from its chip with them, and is
then worth what its chip proves (« authentique » at best). A document without a chip (the old
French CNI), or one the reader does not find (nothing on the reader, no PC/SC service), is read
from its MRZ alone: never better than « non vérifié ». Any other answer of the chip (a MRZ that
does not open it, a card opened by its CAN only) is the agent's to see, not hidden behind a
reading of the MRZ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.identity.errors import IdentityError, NoCard, NoReader
from kiosk.identity.model import IdentityReading, MrzFormat, MrzKey, manual_reading
from kiosk.identity.mrz import parse_mrz

if TYPE_CHECKING:
    from kiosk.ports.identity import IdentityReader, ProgressCallback


@dataclass(frozen=True)
class MrzReading:
    """What « Lire la bande MRZ » gave."""

    reading: IdentityReading
    #: Why a chip that could have been read was not (``NoCard``, ``NoReader``); the reading is
    #: then the MRZ's alone. None when the chip was read, or when the document has none.
    chip_unread: IdentityError | None = None


def read_by_mrz(
    text: str, reader: IdentityReader | None, progress: ProgressCallback | None = None
) -> MrzReading:
    """Read the document whose MRZ is ``text`` (blocking when a chip is read: worker thread).

    Raises:
        MrzError: the MRZ does not parse or a check digit fails (nothing is asked of a card).
        IdentityError: the chip's own answer (``WrongMrz``, ``UnsupportedCard``…).
    """
    mrz = parse_mrz(text)
    if reader is None or mrz.format is MrzFormat.FR_CNI:  # no chip to read
        return MrzReading(manual_reading(mrz))
    try:
        return MrzReading(reader.read(MrzKey.of(mrz), progress))
    except (NoCard, NoReader) as exc:  # a document without a chip, or none on the reader
        return MrzReading(manual_reading(mrz), exc)
