"""« Lire la bande MRZ »: the chip opened with the MRZ's key where there is one on the reader,
the MRZ alone otherwise; a photographed MRZ whose « ? » lie outside the key opens the chip too."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kiosk.identity.by_mrz import key_despite_doubts, read_by_mrz
from kiosk.identity.errors import IdentityError, MrzError, NoCard, NoReader
from kiosk.identity.model import AccessKey, IdentityReading, MrzKey, Verdict, manual_reading
from kiosk.identity.mrz import parse_mrz
from kiosk.ports.identity import CardEvent, ProgressCallback
from tests.identity.ocr_samples import TD1, TD3

KEY = MrzKey("24FR12345", "850315", "340101")
OLD_CNI = ("IDFRADOUEL<<<<<<<<<<<<<<<<<<<<932013", "0506932020438CHRISTIANE<<NI2906209F3")


class _Reader:
    """A reader whose chip gives the TD3 passport's reading, or raises ``error``."""

    def __init__(self, error: IdentityError | None = None) -> None:
        self.error = error
        self.keys: list[AccessKey] = []

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        self.keys.append(access)
        if self.error is not None:
            raise self.error
        chip = manual_reading(parse_mrz(TD3))
        return IdentityReading(chip.kind, chip.mrz, Verdict.AUTHENTIQUE, "", protocol="BAC-3DES")

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        return lambda: None


def _doubt(lines: tuple[str, ...], row: int, column: int) -> str:
    line = lines[row]
    changed = [*lines[:row], line[:column] + "?" + line[column + 1 :], *lines[row + 1 :]]
    return "\n".join(changed)


def test_a_passport_mrz_opens_its_chip() -> None:
    reader = _Reader()
    read = read_by_mrz("\n".join(TD3), reader)
    assert reader.keys == [KEY] and read.reading.protocol == "BAC-3DES"
    assert read.chip_unread is None


@pytest.mark.parametrize(
    "error", [NoCard("Lecteur de test"), NoReader()], ids=["sans-carte", "sans-pcscd"]
)
def test_without_a_chip_to_read_the_mrz_is_read_alone_and_says_why(error: IdentityError) -> None:
    read = read_by_mrz("\n".join(TD3), _Reader(error))
    assert read.reading.protocol == "MRZ" and read.reading.verdict is Verdict.NON_VERIFIE
    assert read.chip_unread is error


def test_the_old_french_card_has_no_chip_to_ask() -> None:
    reader = _Reader()
    assert read_by_mrz("\n".join(OLD_CNI), reader).reading.protocol == "MRZ"
    assert reader.keys == []


def test_a_name_letter_in_doubt_still_opens_the_chip_which_gives_the_names() -> None:
    reader = _Reader()
    text = _doubt(TD3, 0, TD3[0].index("JEAN") + 1)
    read = read_by_mrz(text, reader)
    assert reader.keys == [KEY]
    assert read.reading.given_names == "JEAN PIERRE"  # the chip's, not « J AN »


def test_a_name_letter_in_doubt_without_the_chip_is_the_agents_to_type() -> None:
    text = _doubt(TD3, 0, TD3[0].index("JEAN") + 1)
    with pytest.raises(MrzError, match="les caractères « \\? » n'ont pas pu être lus"):
        read_by_mrz(text, _Reader(NoCard()))


@pytest.mark.parametrize(
    ("lines", "row", "column"),
    [(TD3, 1, 3), (TD3, 1, 9), (TD3, 1, 15), (TD3, 1, 25), (TD1, 0, 7), (TD1, 1, 2), (TD1, 1, 10)],
    ids=[
        "numéro",
        "son-chiffre",
        "naissance",
        "expiration",
        "td1-numéro",
        "td1-naissance",
        "td1-expiration",
    ],
)
def test_a_doubt_in_the_number_or_a_date_asks_nothing_of_the_chip(
    lines: tuple[str, ...], row: int, column: int
) -> None:
    reader = _Reader()
    text = _doubt(lines, row, column)
    assert key_despite_doubts(text) is None
    with pytest.raises(MrzError):
        read_by_mrz(text, reader)
    assert reader.keys == []


@pytest.mark.parametrize(
    ("lines", "row", "column"),
    [(TD3, 1, 11), (TD3, 1, 20), (TD1, 1, 7), (TD1, 2, 3)],
    ids=["nationalité", "sexe", "td1-sexe", "td1-nom"],
)
def test_doubts_outside_the_key_leave_the_key_whole(
    lines: tuple[str, ...], row: int, column: int
) -> None:
    whole = MrzKey.of(parse_mrz(lines))
    assert key_despite_doubts(_doubt(lines, row, column)) == whole
