"""The CAN and the MRZ read off a photo: what the recognisers saw, judged by the documents' rules.

Optical recognition misreads; a CAN sent wrong costs one of the card's tries, and a MRZ read
wrong would fill a dossier with someone else's name or dates. So nothing here guesses:

- **CAN** (Tesseract, ``kiosk.ports.devices.TextReader``): exactly one run of 6 digits must be
  seen (dates are printed with spaces, the document number has letters), and two readings must
  agree. None, or several, is refused: the agent recaptures or types. The CAN has no check
  digit: the agent compares it with the card before « Lire la carte ».
- **MRZ** (OCR-B's glyphs, ``kiosk.ports.devices.GlyphReader``): TD1 (3 × 30), TD2 (2 × 36, and
  the old French card) or TD3 (2 × 44). Each cell is read as the likeliest character among
  those the MRZ's grammar allows at its place (a digit in a date, a letter in a country code,
  F, M, X or a filler for the sex), and the result stands only if every check digit holds
  (``kiosk.identity.mrz.parse_mrz``). A check digit cannot vouch for what it does not cover
  (names, countries, sex), nor tell apart two characters worth the same modulo 10 (K and <,
  8 and S), nor see two misreadings that cancel out: there, a character is taken only when
  its glyph is clearly ahead of every rival; otherwise it is left to the agent, as « ? » in
  the MRZ box (:class:`PhotographedMrz`).

The recognisers run on a worker thread (each reading takes a fraction of a second to a few
seconds).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from kiosk.digits import ascii_digits
from kiosk.identity.errors import IdentityError, MrzError
from kiosk.identity.model import Mrz, MrzFormat
from kiosk.identity.mrz import parse_mrz
from kiosk.identity.text import CellScores, GlyphReader, TextLayout, TextReader
from kiosk.messages import Message

CAN_ALPHABET = "0123456789"
MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

# A run of 6 digits standing alone: not part of a longer number or of a word.
_CAN_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{6}(?![0-9A-Za-z])")


class CanNotRecognised(IdentityError):
    """No single CAN could be read on the photo."""

    def __init__(self) -> None:
        super().__init__(Message("Le CAN n'a pas été reconnu : recadrez la carte ou tapez-le"))


class MrzNotRecognised(IdentityError):
    """No MRZ whose check digits all hold could be read on the photo (or too little of it
    for sure)."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "La bande MRZ n'a pas été reconnue (ou un chiffre de contrôle ne correspond "
                "pas) : reprenez la photo, bande à plat, bien éclairée et droite, ou tapez-la"
            )
        )


def can_runs(text: str) -> list[str]:
    """The distinct runs of exactly 6 digits in ``text``, in order of appearance."""
    found: list[str] = []
    for run in _CAN_RUN.findall(ascii_digits(text)):
        if run not in found:
            found.append(run)
    return found


def can_from_text(text: str) -> str:
    """The CAN in what the recogniser saw: its one run of 6 digits.

    Raises:
        CanNotRecognised: no run of 6 digits, or several different ones.
    """
    runs = can_runs(text)
    if len(runs) != 1:
        raise CanNotRecognised
    return runs[0]


# ------------------------------------------------------------------------------------ MRZ
# Each line's grammar, position by position: "A" a letter or a filler (a country, a document
# code), "N" a digit or a filler (dates, check digits: parse_mrz says where a filler may
# stand), "S" the sex (F, M, X or a filler), "n" a name's letter or filler, "F" (optional
# data) and "X" (a document number) any character.
# Beside it, what each check digit looks after (line, start, end; the digit included): a
# field's, and the composite digit's with what no field's digit covers. The rest (countries,
# document code, sex) and the names no check digit vouches for.
_Span = tuple[int, int, int]


@dataclass(frozen=True)
class _Layout:
    format: MrzFormat
    width: int
    grammar: tuple[str, ...]
    checks: tuple[tuple[_Span, ...], ...]

    @functools.cached_property
    def unchecked(self) -> frozenset[tuple[int, int]]:
        """The places no check digit vouches for, and the names'."""
        checked = {
            (row, col)
            for spans in self.checks
            for row, start, end in spans
            for col in range(start, end)
        }
        return frozenset(
            (row, col)
            for row, grammar in enumerate(self.grammar)
            for col, kind in enumerate(grammar)
            if (row, col) not in checked or kind == "n"
        )


def _spans(width: int, *spans: tuple[int, int, str]) -> str:
    mask = ["X"] * width
    for start, end, kind in spans:
        mask[start:end] = kind * (end - start)
    return "".join(mask)


_NAME_LINE_36 = _spans(36, (0, 2, "A"), (2, 5, "A"), (5, 36, "n"))
_LAYOUTS = (
    _Layout(
        MrzFormat.TD1,
        30,
        (
            _spans(30, (0, 5, "A"), (14, 15, "N"), (15, 30, "F")),
            _spans(
                30,
                (0, 7, "N"),
                (7, 8, "S"),
                (8, 15, "N"),
                (15, 18, "A"),
                (18, 29, "F"),
                (29, 30, "N"),
            ),
            _spans(30, (0, 30, "n")),
        ),
        (((0, 5, 15),), ((1, 0, 7),), ((1, 8, 15),), ((0, 15, 30), (1, 18, 30))),
    ),
    _Layout(
        MrzFormat.TD2,
        36,
        (
            _NAME_LINE_36,
            _spans(
                36,
                (9, 10, "N"),
                (10, 13, "A"),
                (13, 20, "N"),
                (20, 21, "S"),
                (21, 28, "N"),
                (28, 35, "F"),
                (35, 36, "N"),
            ),
        ),
        (((1, 0, 10),), ((1, 13, 20),), ((1, 21, 28),), ((1, 28, 36),)),
    ),
    _Layout(
        MrzFormat.FR_CNI,
        36,
        (
            _spans(36, (0, 5, "A"), (5, 30, "n")),
            _spans(36, (12, 13, "N"), (13, 27, "n"), (27, 34, "N"), (34, 35, "S"), (35, 36, "N")),
        ),
        # The composite digit covers both lines, names included; the names are still held to
        # the same certainty as elsewhere (one digit over 72 characters misses two errors that
        # cancel).
        (((1, 0, 13),), ((1, 27, 34),), ((0, 0, 36), (1, 13, 27), (1, 34, 36))),
    ),
    _Layout(
        MrzFormat.TD3,
        44,
        (
            _spans(44, (0, 5, "A"), (5, 44, "n")),
            _spans(
                44,
                (9, 10, "N"),
                (10, 13, "A"),
                (13, 20, "N"),
                (20, 21, "S"),
                (21, 28, "N"),
                (28, 42, "F"),
                (42, 44, "N"),
            ),
        ),
        (((1, 0, 10),), ((1, 13, 20),), ((1, 21, 28),), ((1, 28, 43),), ((1, 43, 44),)),
    ),
)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The characters each kind of place may hold (see the grammar above), for the glyph reader.
_ALLOWED = {
    "A": _LETTERS + "<",
    "n": _LETTERS + "<",
    "N": "0123456789<",
    "S": "FMX<",
    "F": MRZ_ALPHABET,
    "X": MRZ_ALPHABET,
}
#: How many times farther from the cell (1 − likeness) a rival must be than the character read
#: for the glyph reading alone to vouch for it. Tuned on bench/ocr_bench.py's seeds 1000 and up:
#: no character misread there was more than 1.2 times ahead of the truth, and 1 in 200 read
#: right is less than 2 times ahead of its runner-up.
SURE_RATIO = 2.0
#: How alike, on average, the glyphs read and OCR-B's must be for the glyph reading to be
#: taken at all: 0.93 and over on the bench's photos, hard ones included; 0.78–0.89 for a MRZ
#: printed in another monospace typeface (DejaVu Sans Mono), whose 1 reads as I with
#: certainty, and 0.88–0.92 in OCR-B's slanted cut.
FIT_MIN = 0.9
#: How alike a cell and the glyph read there must be, at least, for the reading to vouch for
#: it on its own: a cell that is like no glyph is no reading.
CELL_FLOOR = 0.8
#: The line widths a MRZ may have: TD1, TD2 and the old French card, TD3.
MRZ_WIDTHS = (30, 36, 44)


@dataclass(frozen=True)
class PhotographedMrz:
    """A MRZ read off a photo: every check digit holds; ``unsure`` lists the places (line,
    column, from 0) of the characters the reading cannot vouch for (a name's letter, a
    country: no check digit covers them), for the agent to type from the document."""

    mrz: Mrz
    unsure: frozenset[tuple[int, int]] = frozenset()

    @property
    def lines(self) -> tuple[str, ...]:
        """The lines for the MRZ box: « ? » in place of each character not sure (``parse_mrz``
        refuses a « ? »: the agent types it before « Lire la bande MRZ »)."""
        return tuple(
            "".join("?" if (row, col) in self.unsure else c for col, c in enumerate(line))
            for row, line in enumerate(self.mrz.lines)
        )


def _value(char: str) -> int:
    """A character's weight in a check digit, modulo 10 (A = 10 … Z = 35, < = 0)."""
    if char.isdigit():
        return int(char)
    return 0 if char == "<" else (ord(char) - ord("A") + 10) % 10


def _likeness(cell: CellScores, char: str) -> float:
    return cell.get(char, -1.0)


def _sure(cell: CellScores, char: str, rivals: Iterable[str]) -> bool:
    """Whether ``char``'s glyph is like enough ``cell``, and far enough ahead of each of
    ``rivals``'."""
    likeness = _likeness(cell, char)
    distance = max(1e-6, 1.0 - likeness)
    return likeness >= CELL_FLOOR and all(
        1.0 - _likeness(cell, r) >= SURE_RATIO * distance for r in rivals if r != char
    )


def _shape(layout: _Layout) -> tuple[int, ...]:
    return (layout.width,) * len(layout.grammar)


def _likeliest(cell: CellScores, allowed: str) -> str:
    return max(allowed, key=lambda c: _likeness(cell, c))


def _best_lines(cells: Sequence[Sequence[CellScores]], layout: _Layout) -> list[str]:
    """Each cell's likeliest character among those its place may hold."""
    return [
        "".join(_likeliest(cell, _ALLOWED[kind]) for cell, kind in zip(line, grammar, strict=True))
        for line, grammar in zip(cells, layout.grammar, strict=True)
    ]


def _unsure(
    cells: Sequence[Sequence[CellScores]], layout: _Layout, lines: Sequence[str]
) -> frozenset[tuple[int, int]]:
    """The places the glyph reading cannot vouch for.

    Where no check digit looks (and in the names), a character not far enough ahead of every
    other its place allows. Where one does, a single misreading is caught by it, unless it
    swaps two characters it cannot tell apart (the same modulo 10: K and <, 8 and S): a
    character not far enough ahead of those; and two misreadings may cancel out: where a check
    digit's field has two characters or more not far ahead of every other, the whole field
    (the digit no longer vouches for any of it: on glyphs unlike OCR-B's, a 1 read as I with
    certainty beside two doubtful characters passed its field's check digit).
    """

    def doubtful(row: int, col: int, *, twins: bool) -> bool:
        char, allowed = lines[row][col], _ALLOWED[layout.grammar[row][col]]
        if twins:
            allowed = "".join(c for c in allowed if _value(c) == _value(char))
        return not _sure(cells[row][col], char, allowed)

    unsure = {place for place in layout.unchecked if doubtful(*place, twins=False)}
    for spans in layout.checks:
        field = [
            (row, col)
            for row, start, end in spans
            for col in range(start, end)
            if (row, col) not in layout.unchecked
        ]
        unsure.update(place for place in field if doubtful(*place, twins=True))
        if sum(doubtful(*place, twins=False) for place in field) >= 2:
            unsure.update(field)
    return frozenset(unsure)


def mrz_from_glyphs(
    cells: Sequence[Sequence[CellScores]], *, today: date | None = None
) -> PhotographedMrz:
    """The MRZ in the cells a ``GlyphReader`` scored: each place's likeliest character among
    those the MRZ's grammar allows there, every check digit verified, and the places that
    reading cannot vouch for (:class:`PhotographedMrz`).

    Raises:
        MrzNotRecognised: the cells make no MRZ whose check digits all hold, or their glyphs,
            on the whole, are unlike OCR-B's (another typeface, a photo too poor: a glyph that
            is not OCR-B's can look more like another of its glyphs than like its own, and
            no character can be vouched for).
    """
    shape = tuple(len(line) for line in cells)
    for layout in _LAYOUTS:
        if shape != _shape(layout):
            continue
        lines = _best_lines(cells, layout)
        fit = [
            _likeness(cell, char)
            for row, line in zip(cells, lines, strict=True)
            for cell, char in zip(row, line, strict=True)
        ]
        if sum(fit) / len(fit) < FIT_MIN:  # (or not this layout's grammar: a TD2's for an
            continue  # old French card, whose names stand where a TD2 has dates)
        try:
            mrz = parse_mrz(lines, today=today)
        except MrzError:
            continue
        if mrz.format is layout.format:  # a TD2's cells read as the old French card's: not it
            return PhotographedMrz(mrz, _unsure(cells, layout, lines))
    raise MrzNotRecognised


# ------------------------------------------------------------------------------ the readings
#: The ways a photo of the CAN is read, in turn, until two agree.
_CAN_PASSES = (
    (TextLayout.SPARSE, None),
    (TextLayout.SPARSE, CAN_ALPHABET),
    (TextLayout.BLOCK, CAN_ALPHABET),
)


def read_can(reader: TextReader, image: bytes) -> str:
    """The CAN on a photo of the card's front (worker thread).

    The CAN has no check digit, so it is read in two ways (any character, then digits only;
    a third if they differ or one sees nothing) and taken only when two readings agree: one
    digit misread (3 for 5) would cost a try of the card. A reading that sees several 6-digit
    runs refuses the photo at once (which one is the CAN is not guessed).

    Raises:
        CanNotRecognised: no CAN seen twice alike.
        TextReadError: the photo could not be read at all.
    """
    seen: list[str] = []
    for layout, alphabet in _CAN_PASSES:
        runs = can_runs(reader.read_text(image, alphabet=alphabet, layout=layout))
        if len(runs) > 1:
            break
        if runs:
            if runs[0] in seen:
                return runs[0]
            seen.append(runs[0])
    raise CanNotRecognised


def read_mrz(glyphs: GlyphReader, image: bytes, *, today: date | None = None) -> PhotographedMrz:
    """The MRZ on a photo of the band (worker thread); see :func:`mrz_from_glyphs`. A reading
    that leaves more than a quarter of the characters to type is no help: refused.

    Raises:
        MrzNotRecognised: no MRZ whose check digits all hold, or too little of it sure.
        TextReadError: the photo could not be read at all.
    """
    cells = glyphs.read_glyphs(image, widths=MRZ_WIDTHS)
    photo = mrz_from_glyphs(cells, today=today)
    if len(photo.unsure) * 4 > sum(len(line) for line in cells):
        raise MrzNotRecognised
    return photo
