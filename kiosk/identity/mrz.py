"""Machine Readable Zone: parse and check TD1, TD2, TD3 and the old French CNI (ICAO 9303 Part 3).

Input is forgiving because agents type it or scanners mangle it: lowercase, spaces, « for <,
and missing trailing fillers are accepted. Every check digit is verified; an error names the
line and the field, in French, so the agent knows what to re-read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from kiosk.digits import ascii_digits
from kiosk.identity.errors import MrzError
from kiosk.identity.model import Mrz, MrzFormat
from kiosk.messages import Message

_WEIGHTS = (7, 3, 1)
#: How far ahead an expiry date may be: 15 years is the longest validity (the French CNI of
#: 2014-2021, and some passports' 10 years plus their extension); 20 leaves a margin.
EXPIRY_YEARS_AHEAD = 20
_LENGTHS = {
    MrzFormat.TD1: (3, 30),
    MrzFormat.TD2: (2, 36),
    MrzFormat.TD3: (2, 44),
    MrzFormat.FR_CNI: (2, 36),
}


def _value(char: str) -> int:
    if "0" <= char <= "9":  # not isdigit(): "²" and "٣" are digits to Python, not to ICAO
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise MrzError(Message("caractère « {char} » impossible dans une bande MRZ", char=char))


def check_digit(text: str) -> str:
    """The ICAO 9303 check digit of ``text`` (weights 7, 3, 1; A=10 … Z=35; < = 0)."""
    return str(sum(_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(text)) % 10)


def normalise(text: str | Sequence[str]) -> list[str]:
    """Lines of a MRZ as typed: upper case, no spaces, « read as <, ASCII digits."""
    raw = text.splitlines() if isinstance(text, str) else list(text)
    lines = []
    for line in raw:
        clean = "".join(ascii_digits(line).split()).upper().replace("«", "<")
        if clean:
            lines.append(clean)
    if len(lines) == 1:  # pasted as one line: cut at the length of a known format
        (single,) = lines
        for fmt in (MrzFormat.TD1, MrzFormat.TD3, MrzFormat.FR_CNI):
            count, width = _LENGTHS[fmt]
            if len(single) == count * width:
                return [single[i : i + width] for i in range(0, len(single), width)]
    return lines


def _detect(lines: list[str]) -> MrzFormat:
    if len(lines) == 3:
        return MrzFormat.TD1
    if len(lines) == 2:
        if max(len(x) for x in lines) <= 36:
            return MrzFormat.FR_CNI if lines[0].startswith("IDFRA") else MrzFormat.TD2
        return MrzFormat.TD3
    raise MrzError(
        Message(
            "une bande MRZ a 2 ou 3 lignes, {count} reçue(s) : carte d'identité 3 × 30 "
            "caractères, passeport 2 × 44, ancienne carte française 2 × 36",
            count=len(lines),
        )
    )


def _check(line: int, field: Message, data: str, digit: str) -> None:
    expected = check_digit(data)
    if digit != expected:
        raise MrzError(
            Message(
                "ligne {line}, {field} : le chiffre de contrôle ne correspond pas "
                "(lu « {digit} », attendu « {expected} ») ; relisez ce champ sur le document",
                line=line,
                field=field,
                digit=digit,
                expected=expected,
            )
        )


def _date(line: int, field: Message, text: str, *, future: bool, today: date) -> date | None:
    """YYMMDD to a date, the century chosen by a window around ``today``.

    A birth date is never in the future: its window is the hundred years ending today (a
    person born in 1926 is not read as born in 2026). An expiry date has its own window,
    from 80 years ago up to 20 years ahead (the longest a French or ICAO document is valid
    is 15 years): an expired document still reads with its true date.
    """
    if "<" in text:
        return None  # unknown parts are allowed (e.g. unknown birth day)
    if not text.isdigit():
        raise MrzError(
            Message(
                "ligne {line}, {field} : « {text} » n'est pas une date AAMMJJ",
                line=line,
                field=field,
                text=text,
            )
        )
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    ahead = EXPIRY_YEARS_AHEAD if future else 0
    # Compared as (year, month, day): the text may be no valid date yet (checked below).
    latest = (today.year + ahead, today.month, today.day)
    century = 2000 if (2000 + yy, mm, dd) <= latest else 1900
    try:
        return date(century + yy, mm, dd)
    except ValueError:
        raise MrzError(
            Message(
                "ligne {line}, {field} : « {text} » n'est pas une date valide",
                line=line,
                field=field,
                text=text,
            )
        ) from None


def _names(text: str) -> tuple[str, str]:
    surname, _, given = text.strip("<").partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def parse_mrz(text: str | Sequence[str], *, today: date | None = None) -> Mrz:
    """Parse and check a MRZ; raise ``MrzError`` naming the line and field at fault.

    ``today`` (UTC's by default) places two-digit years in their century.
    """
    today = today or datetime.now(UTC).date()
    lines = normalise(text)
    fmt = _detect(lines)
    width = _LENGTHS[fmt][1]
    for i, line in enumerate(lines, start=1):
        if "?" in line:  # left by a photo's reading for the agent (kiosk/identity/ocr.py)
            raise MrzError(
                Message(
                    "ligne {line} : les caractères « ? » n'ont pas pu être lus sur la photo ; "
                    "tapez-les d'après le document",
                    line=i,
                )
            )
        if len(line) > width:
            raise MrzError(
                Message(
                    "ligne {line} : {length} caractères, {width} attendus ({fmt})",
                    line=i,
                    length=len(line),
                    width=width,
                    fmt=fmt.value,
                )
            )
        for char in line:
            _value(char)
    lines = [line.ljust(width, "<") for line in lines]  # trailing fillers are often left out
    if fmt is MrzFormat.TD1:
        return _parse_td1(lines, today)
    if fmt is MrzFormat.TD3:
        return _parse_td3(lines, today)
    if fmt is MrzFormat.TD2:
        return _parse_td2(lines, today)
    return _parse_fr_cni(lines, today)


def _parse_td1(lines: list[str], today: date) -> Mrz:
    l1, l2, l3 = lines
    number, digit, optional = l1[5:14], l1[14], l1[15:30]
    if digit == "<":  # long document number: the rest and its check digit overflow
        rest = optional.split("<", 1)[0]
        number, digit, optional = number + rest[:-1], rest[-1:], optional[len(rest) :]
    _check(1, Message("numéro du document"), number, digit)
    _check(2, Message("date de naissance"), l2[0:6], l2[6])
    _check(2, Message("date d'expiration"), l2[8:14], l2[14])
    _check(2, Message("contrôle global"), l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    surname, given = _names(l3)
    return Mrz(
        format=MrzFormat.TD1,
        document_code=l1[0:2].strip("<"),
        issuing_state=l1[2:5].strip("<"),
        document_number=number.strip("<"),
        surname=surname,
        given_names=given,
        nationality=l2[15:18].strip("<"),
        birth_date=_date(2, Message("date de naissance"), l2[0:6], future=False, today=today),
        sex=l2[7].replace("<", "X"),
        expiry_date=_date(2, Message("date d'expiration"), l2[8:14], future=True, today=today),
        optional_data=(optional + l2[18:29]).strip("<"),
        lines=tuple(lines),
        key_seed=f"{number}{digit}{l2[0:7]}{l2[8:15]}",
    )


def _parse_td3(lines: list[str], today: date) -> Mrz:
    l1, l2 = lines
    _check(2, Message("numéro du document"), l2[0:9], l2[9])
    _check(2, Message("date de naissance"), l2[13:19], l2[19])
    _check(2, Message("date d'expiration"), l2[21:27], l2[27])
    if l2[28:42].strip("<") and l2[42] == "<":
        # ICAO 9303-4 allows the filler only when the field is empty: a number without its
        # check digit cannot be trusted (and a filler read as 0 let a wrong number through).
        raise MrzError(
            Message(
                "ligne {line}, {field} : le champ est rempli mais son chiffre de contrôle "
                "manque ; relisez ce champ sur le document",
                line=2,
                field=Message("numéro personnel"),
            )
        )
    if l2[42] != "<":
        _check(2, Message("numéro personnel"), l2[28:42], l2[42])
    _check(2, Message("contrôle global"), l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    surname, given = _names(l1[5:44])
    return Mrz(
        format=MrzFormat.TD3,
        document_code=l1[0:2].strip("<"),
        issuing_state=l1[2:5].strip("<"),
        document_number=l2[0:9].strip("<"),
        surname=surname,
        given_names=given,
        nationality=l2[10:13].strip("<"),
        birth_date=_date(2, Message("date de naissance"), l2[13:19], future=False, today=today),
        sex=l2[20].replace("<", "X"),
        expiry_date=_date(2, Message("date d'expiration"), l2[21:27], future=True, today=today),
        optional_data=l2[28:42].strip("<"),
        lines=tuple(lines),
        key_seed=l2[0:10] + l2[13:20] + l2[21:28],
    )


def _parse_td2(lines: list[str], today: date) -> Mrz:
    l1, l2 = lines
    _check(2, Message("numéro du document"), l2[0:9], l2[9])
    _check(2, Message("date de naissance"), l2[13:19], l2[19])
    _check(2, Message("date d'expiration"), l2[21:27], l2[27])
    _check(2, Message("contrôle global"), l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    surname, given = _names(l1[5:36])
    return Mrz(
        format=MrzFormat.TD2,
        document_code=l1[0:2].strip("<"),
        issuing_state=l1[2:5].strip("<"),
        document_number=l2[0:9].strip("<"),
        surname=surname,
        given_names=given,
        nationality=l2[10:13].strip("<"),
        birth_date=_date(2, Message("date de naissance"), l2[13:19], future=False, today=today),
        sex=l2[20].replace("<", "X"),
        expiry_date=_date(2, Message("date d'expiration"), l2[21:27], future=True, today=today),
        optional_data=l2[28:35].strip("<"),
        lines=tuple(lines),
        key_seed=l2[0:10] + l2[13:20] + l2[21:28],
    )


def _parse_fr_cni(lines: list[str], today: date) -> Mrz:
    l1, l2 = lines
    if not l1.startswith("IDFRA"):
        raise MrzError(
            Message("ligne 1 : une carte française de l'ancien modèle commence par IDFRA")
        )
    _check(2, Message("numéro de la carte"), l2[0:12], l2[12])
    _check(2, Message("date de naissance"), l2[27:33], l2[33])
    _check(2, Message("contrôle global"), l1 + l2[0:35], l2[35])
    given = l2[13:27].strip("<").replace("<<", ", ").replace("<", " ")
    return Mrz(
        format=MrzFormat.FR_CNI,
        document_code="ID",
        issuing_state="FRA",
        document_number=l2[0:12],
        surname=l1[5:30].strip("<").replace("<", " "),
        given_names=given,
        nationality="FRA",
        birth_date=_date(2, Message("date de naissance"), l2[27:33], future=False, today=today),
        sex=l2[34].replace("<", "X"),
        expiry_date=None,  # not in this MRZ: 10 or 15 years after issue, printed on the back
        optional_data=l1[30:36],
        lines=tuple(lines),
    )


def _field(text: str, width: int) -> str:
    return text.upper().replace(" ", "<").replace("-", "<").ljust(width, "<")[:width]


def compose_td1(
    *,
    document_number: str,
    surname: str,
    given_names: str,
    birth: str,
    sex: str,
    expiry: str,
    issuing_state: str = "FRA",
    nationality: str = "FRA",
    document_code: str = "ID",
) -> tuple[str, str, str]:
    """The three TD1 lines for these fields, check digits included (for simulators and tests)."""
    number = _field(document_number, 9)
    l1 = _field(document_code, 2) + issuing_state + number + check_digit(number)
    l1 = l1.ljust(30, "<")
    l2 = birth + check_digit(birth) + sex + expiry + check_digit(expiry) + nationality
    l2 = l2.ljust(29, "<")
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    l3 = _field(f"{surname}<<{given_names}", 30)
    return l1, l2, l3


def compose_td3(
    *,
    document_number: str,
    surname: str,
    given_names: str,
    birth: str,
    sex: str,
    expiry: str,
    issuing_state: str = "FRA",
    nationality: str = "FRA",
) -> tuple[str, str]:
    """The two TD3 lines for these fields, check digits included (for simulators and tests)."""
    l1 = "P<" + issuing_state + _field(f"{surname}<<{given_names}", 39)
    number = _field(document_number, 9)
    l2 = number + check_digit(number) + nationality + birth + check_digit(birth) + sex
    l2 += expiry + check_digit(expiry) + "<" * 14 + "<"
    l2 += check_digit(l2[0:10] + l2[13:20] + l2[21:43])
    return l1, l2
