"""The CAN and the MRZ read off a photo: what the recogniser saw, judged by the documents' rules.

Optical recognition misreads; a CAN sent wrong costs one of the card's tries, and a MRZ read
wrong would fill a dossier with someone else's dates. So nothing here guesses:

- **CAN**: exactly one run of 6 digits must be seen (dates are printed with spaces, the
  document number has letters). None, or several, is refused: the agent recaptures or types.
  The CAN has no check digit: the agent compares it with the card before « Lire la carte ».
- **MRZ**: TD1 (3 × 30), TD2 (2 × 36, and the old French card) or TD3 (2 × 44). The usual
  misreadings are undone only where the MRZ's grammar leaves one reading: a letter in a date or a
  check digit is the digit it looks like (O → 0, I → 1, S → 5…), a digit in a country code the
  letter (0 → O), « « » and spaces are fillers, and a run of fillers is brought to the line's
  width. A K amid fillers is a filler only outside the names (Tesseract reads « < » as K, and
  the check digits cannot tell: K is worth 20, a filler 0, the same modulo 10). A name is never
  changed: the agent reads it on screen. The result stands only if every check digit holds
  (``kiosk.identity.mrz.parse_mrz``).

The recogniser is a port (``kiosk.ports.devices.TextReader``); these functions run on a worker
thread (each reading takes a fraction of a second to a few seconds).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from kiosk.digits import ascii_digits
from kiosk.identity.errors import IdentityError, MrzError
from kiosk.identity.model import Mrz, MrzFormat
from kiosk.identity.mrz import parse_mrz
from kiosk.identity.text import TextLayout, TextReader
from kiosk.messages import Message

CAN_ALPHABET = "0123456789"
MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

# A run of 6 digits standing alone: not part of a longer number or of a word.
_CAN_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{6}(?![0-9A-Za-z])")
#: Letters Tesseract gives for a digit, in a field where only a digit may stand.
_AS_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1",
                           "Z": "2", "S": "5", "B": "8", "G": "6", "T": "7"})  # fmt: skip
#: Digits Tesseract gives for a letter, in a field of letters only (country, document code).
_AS_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"})
# A K (or a few) between fillers, or after the last filler of a line: a misread filler.
_K_AMID_FILLERS = re.compile(r"(?<=<)K+(?=<|$)")


class CanNotRecognised(IdentityError):
    """No single CAN could be read on the photo."""

    def __init__(self) -> None:
        super().__init__(Message("Le CAN n'a pas été reconnu : recadrez la carte ou tapez-le"))


class MrzNotRecognised(IdentityError):
    """No MRZ whose check digits all hold could be read on the photo."""

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
# Each line's grammar, position by position: "A" letters (a country, a document code), "N" a
# digit (dates, check digits; a filler allowed where the MRZ allows it, parse_mrz checks),
# "F" optional data (its fillers may be read as K), "X" letters or digits left as read, and
# "n" a name (never changed).
@dataclass(frozen=True)
class _Layout:
    format: MrzFormat
    width: int
    grammar: tuple[str, ...]


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
            _spans(30, (0, 7, "N"), (8, 15, "N"), (15, 18, "A"), (18, 29, "F"), (29, 30, "N")),
            _spans(30, (0, 30, "n")),
        ),
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
                (21, 28, "N"),
                (28, 35, "F"),
                (35, 36, "N"),
            ),
        ),
    ),
    _Layout(
        MrzFormat.FR_CNI,
        36,
        (
            _spans(36, (0, 5, "A"), (5, 30, "n")),
            _spans(36, (12, 13, "N"), (13, 27, "n"), (27, 34, "N"), (35, 36, "N")),
        ),
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
                (21, 28, "N"),
                (28, 42, "F"),
                (42, 44, "N"),
            ),
        ),
    ),
)
#: How far a line read may be from its format's width and still be tried (fillers miscounted).
_SLACK = 4


def _clean(line: str) -> str:
    """Upper case, no spaces, « and ‹ read as fillers, only the MRZ's characters kept."""
    text = ascii_digits(line).upper().replace("«", "<").replace("‹", "<")
    return "".join(c for c in text if c in MRZ_ALPHABET)


def _fit_fillers(line: str, width: int) -> str | None:
    """``line`` brought to ``width`` by lengthening or shortening its longest run of fillers
    (Tesseract miscounts a run of identical narrow signs); None when no run can absorb it."""
    if len(line) == width:
        return line
    runs = list(re.finditer(r"<{2,}", line))
    if not runs:
        return None
    run = max(runs, key=lambda m: (m.end() - m.start(), m.start()))
    length = run.end() - run.start() + width - len(line)
    if length < 1:
        return None
    return line[: run.start()] + "<" * length + line[run.end() :]


def _fit_name(line: str, width: int) -> str | None:
    """A line ending in a name: only its trailing fillers may be added or cut (a K read after
    the last run of 3 fillers or more is a filler: no name goes on after three)."""
    head, sep, tail = line.partition("<<<")
    if sep and set(tail) <= {"<", "K"}:
        line = head + "<" * (len(line) - len(head))
    if len(line) > width:
        if set(line[width:]) != {"<"}:
            return None
        line = line[:width]
    return line.ljust(width, "<")


def _repair(line: str, grammar: str, width: int) -> str | None:
    """``line`` read by the grammar of its place in the MRZ (see the module's docstring)."""
    names = "n" in grammar
    if names:
        fitted = _fit_name(line, width)
    else:
        fitted = _fit_fillers(_K_AMID_FILLERS.sub(lambda m: "<" * len(m.group()), line), width)
    if fitted is None:
        return None
    out = []
    for char, kind in zip(fitted, grammar, strict=True):
        if kind == "N":
            out.append(char.translate(_AS_DIGIT))
        elif kind == "A":
            out.append(char.translate(_AS_LETTER))
        else:
            out.append(char)
    return "".join(out)


def _fits(line: str, grammar: str, width: int) -> bool:
    """Whether ``line`` may be read at a place of ``grammar``: a line ending in a name may have
    lost its trailing fillers, any other is within a few characters of its width."""
    if grammar.endswith("n"):
        return len(line) <= width + _SLACK
    return abs(len(line) - width) <= _SLACK


def _candidates(lines: list[str]) -> Iterator[tuple[_Layout, list[str]]]:
    """Every window of consecutive lines that could be a MRZ of some layout, repaired; the
    layouts whose width is nearest to the lines read first (a TD3 whose fillers were half
    eaten can pass for a TD2 with the same data)."""
    found: list[tuple[int, int, _Layout, list[str]]] = []
    for order, layout in enumerate(_LAYOUTS):
        count = len(layout.grammar)
        for start in range(len(lines) - count + 1):
            window = lines[start : start + count]
            pairs = list(zip(window, layout.grammar, strict=True))
            if not all(_fits(line, grammar, layout.width) for line, grammar in pairs):
                continue
            repaired = [_repair(line, grammar, layout.width) for line, grammar in pairs]
            if all(line is not None for line in repaired):
                distance = sum(
                    abs(len(line) - layout.width) for line, g in pairs if not g.endswith("n")
                )
                found.append(
                    (distance, order, layout, [line for line in repaired if line is not None])
                )
    for _distance, _order, layout, candidate in sorted(found, key=lambda f: f[:2]):
        yield layout, candidate


def mrz_from_text(text: str, *, today: date | None = None) -> Mrz:
    """The MRZ in what the recogniser saw, every check digit verified.

    Raises:
        MrzNotRecognised: no 2 or 3 lines that make a MRZ whose check digits all hold.
    """
    lines = [clean for clean in (_clean(raw) for raw in text.splitlines()) if len(clean) >= 20]
    for layout, candidate in _candidates(lines):
        if layout.format is MrzFormat.FR_CNI and not candidate[0].startswith("IDFRA"):
            continue
        try:
            return parse_mrz(candidate, today=today)
        except MrzError:
            continue
    raise MrzNotRecognised


# ------------------------------------------------------------------------------ the readings
#: The ways a photo is read, in turn, until one gives an answer: most photos read on the first.
_CAN_PASSES = (
    (TextLayout.SPARSE, None),
    (TextLayout.SPARSE, CAN_ALPHABET),
    (TextLayout.BLOCK, CAN_ALPHABET),
)
_MRZ_PASSES = ((TextLayout.BLOCK, MRZ_ALPHABET), (TextLayout.SPARSE, MRZ_ALPHABET))


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


def read_mrz(reader: TextReader, image: bytes, *, today: date | None = None) -> Mrz:
    """The MRZ on a photo of the band (worker thread); see :func:`mrz_from_text`.

    Raises:
        MrzNotRecognised: no MRZ whose check digits all hold.
        TextReadError: the photo could not be read at all.
    """
    for layout, alphabet in _MRZ_PASSES:
        try:
            return mrz_from_text(
                reader.read_text(image, alphabet=alphabet, layout=layout), today=today
            )
        except MrzNotRecognised:
            continue
    raise MrzNotRecognised
