"""Reading a document by its MRZ, typed or photographed: « Lire la bande MRZ ».

The MRZ's document number, birth and expiry dates (all under check digits) are the key of the
chip's BAC and PACE-MRZ: a passport lying on the reader is read from its chip with them, and is
then worth what its chip proves (« authentique » at best). A document without a chip (the old
French CNI), or one the reader does not find (nothing on the reader, no PC/SC service), is read
from its MRZ alone: never better than « non vérifié ». Any other answer of the chip (a MRZ that
does not open it, a card opened by its CAN only) is the agent's to see, not hidden behind a
reading of the MRZ.

A MRZ photographed with characters left in doubt (« ? ») is not a MRZ yet, but it is already
the chip's key when every « ? » lies outside the number and the dates (a name's letter, which
no check digit covers): the chip is read with it, and the names come from the chip. Without
the chip, the « ? » are the agent's to type, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.identity.errors import IdentityError, MrzError, NoCard, NoReader
from kiosk.identity.model import IdentityReading, MrzFormat, MrzKey, manual_reading
from kiosk.identity.mrz import normalise, parse_mrz

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
        MrzError: the MRZ does not parse or a check digit fails (nothing is asked of a card),
            or has « ? » left and no chip gives what they hide.
        IdentityError: the chip's own answer (``WrongMrz``, ``UnsupportedCard``…).
    """
    try:
        mrz = parse_mrz(text)
    except MrzError as doubt:
        key = key_despite_doubts(text) if reader is not None else None
        if reader is None or key is None:
            raise
        try:
            return MrzReading(reader.read(key, progress))
        except (NoCard, NoReader):
            raise doubt from None  # the characters in doubt are the agent's to type
    if reader is None or mrz.format is MrzFormat.FR_CNI:  # no chip to read
        return MrzReading(manual_reading(mrz))
    try:
        return MrzReading(reader.read(MrzKey.of(mrz), progress))
    except (NoCard, NoReader) as exc:  # a document without a chip, or none on the reader
        return MrzReading(manual_reading(mrz), exc)


#: Where the chip's key lies in a MRZ, by its width: (line, first column, end column) of the
#: document number and its check digit (on an ID card, with the optional data that may carry
#: the end of a long number), the birth and expiry dates and theirs.
_KEY_SPANS = {
    30: ((0, 5, 30), (1, 0, 7), (1, 8, 15)),  # sex (line 2, column 8) is not in the key
    36: ((1, 0, 10), (1, 13, 20), (1, 21, 28)),  # nor nationality and sex, between
    44: ((1, 0, 10), (1, 13, 20), (1, 21, 28)),
}


def key_despite_doubts(text: str) -> MrzKey | None:
    """The chip's key of a photographed MRZ whose « ? » all lie outside it; None otherwise (no
    « ? », one in the number or a date, a document without a chip, a check digit failing)."""
    lines = normalise(text)
    if not any("?" in line for line in lines) or len(lines) not in (2, 3):
        return None
    width = 30 if len(lines) == 3 else (44 if max(map(len, lines)) > 36 else 36)
    if width == 36 and lines[0].startswith("IDFRA"):  # the old French CNI: no chip
        return None
    for row, start, end in _KEY_SPANS[width]:
        if "?" in lines[row][start:end]:
            return None
    try:  # a filler in each place in doubt: what no check digit covers is then left aside
        return MrzKey.of(parse_mrz([line.replace("?", "<") for line in lines]))
    except MrzError:
        return None
