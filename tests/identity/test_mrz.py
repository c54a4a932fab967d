"""MRZ parsing: the three layouts, every check digit, forgiving input, French errors."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.identity.errors import MrzError
from kiosk.identity.model import DocumentKind, MrzFormat, Verdict, manual_reading
from kiosk.identity.mrz import check_digit, compose_td1, compose_td3, parse_mrz

CNIE = (
    "IDFRAX4RTBPFW46<<<<<<<<<<<<<<<",
    "9007138F3002119FRA<<<<<<<<<<<6",
    "MARTIN<<MAELYS<GAELLE<MARIE<<<",
)  # CONTEXT §3 specimen
PASSPORT = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)  # ICAO 9303 Part 3 specimen
OLD_CNI = ("IDFRADOUEL<<<<<<<<<<<<<<<<<<<<932013", "0506932020438CHRISTIANE<<NI2906209F3")


def test_check_digit_of_the_icao_example() -> None:
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"


def test_cnie_td1_specimen() -> None:
    mrz = parse_mrz("\n".join(CNIE))
    assert mrz.format is MrzFormat.TD1 and mrz.kind is DocumentKind.CNIE
    assert (mrz.surname, mrz.given_names) == ("MARTIN", "MAELYS GAELLE MARIE")
    assert mrz.document_number == "X4RTBPFW4"
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex) == (date(1990, 7, 13), date(2030, 2, 11), "F")


def test_passport_td3_specimen_and_key_seed() -> None:
    mrz = parse_mrz(list(PASSPORT))
    assert mrz.kind is DocumentKind.PASSEPORT
    assert (mrz.surname, mrz.given_names, mrz.nationality) == ("ERIKSSON", "ANNA MARIA", "UTO")
    assert mrz.key_seed == "L898902C3674081221204159"


def test_old_french_cni_has_no_chip_and_is_never_more_than_unverified() -> None:
    mrz = parse_mrz(list(OLD_CNI))
    assert mrz.format is MrzFormat.FR_CNI and mrz.document_number == "050693202043"
    assert (mrz.surname, mrz.birth_date) == ("DOUEL", date(1929, 6, 20))
    reading = manual_reading(mrz)
    assert reading.verdict is Verdict.NON_VERIFIE
    assert "pièce sans puce" in reading.verdict_reason


def test_lenient_input_lowercase_spaces_guillemets_and_missing_fillers() -> None:
    typed = "idfrax4rtbpfw46\n900713 8 f 300211 9 fra«««««««««««6\nmartin<<maelys gaelle marie"
    assert parse_mrz(typed).document_number == "X4RTBPFW4"


@pytest.mark.parametrize(
    ("line", "index", "field"),
    [
        (0, 14, "ligne 1, numéro du document"),
        (1, 6, "ligne 2, date de naissance"),
        (1, 14, "ligne 2, date d'expiration"),
        (1, 29, "ligne 2, contrôle global"),
    ],
)
def test_a_wrong_check_digit_names_the_line_and_field(line: int, index: int, field: str) -> None:
    lines = list(CNIE)
    wrong = "0" if lines[line][index] != "0" else "1"
    lines[line] = lines[line][:index] + wrong + lines[line][index + 1 :]
    with pytest.raises(MrzError, match=field):
        parse_mrz(lines)


def test_wrong_line_count_is_explained() -> None:
    with pytest.raises(MrzError, match="2 ou 3 lignes"):
        parse_mrz("IDFRA\nX\nY\nZ")


def test_composed_lines_parse_back() -> None:
    td1 = compose_td1(
        document_number="AB1234567", surname="Le Gall", given_names="Anne", birth="010203",
        sex="F", expiry="310405",
    )  # fmt: skip
    assert parse_mrz(td1).surname == "LE GALL"
    td3 = compose_td3(
        document_number="24FR12345", surname="Dupont", given_names="Jean", birth="850315",
        sex="M", expiry="340101",
    )  # fmt: skip
    assert parse_mrz(td3).document_number == "24FR12345"


def _td3_with_personal_number(personal: str, digit: str) -> list[str]:
    l1, l2 = compose_td3(
        document_number="24FR12345", surname="Dupont", given_names="Jean", birth="850315",
        sex="M", expiry="340101",
    )  # fmt: skip
    l2 = l2[:28] + personal.ljust(14, "<") + digit
    return [l1, l2 + check_digit(l2[0:10] + l2[13:20] + l2[21:43])]


def test_a_birth_date_is_never_read_into_the_future() -> None:
    today = date(2026, 12, 4)
    td1 = compose_td1(
        document_number="AB1234567", surname="Doyenne", given_names="Anne", birth="261210",
        sex="F", expiry="300101",
    )  # fmt: skip
    assert parse_mrz(td1, today=today).birth_date == date(1926, 12, 10)
    born_this_year = compose_td1(
        document_number="AB1234567", surname="Bebe", given_names="Anne", birth="261130",
        sex="F", expiry="300101",
    )  # fmt: skip
    assert parse_mrz(born_this_year, today=today).birth_date == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("expiry", "read"),
    [("461204", date(2046, 12, 4)), ("461205", date(1946, 12, 5)), ("990101", date(1999, 1, 1))],
)
def test_expiry_dates_have_their_own_window_up_to_twenty_years_ahead(
    expiry: str, read: date
) -> None:
    td1 = compose_td1(
        document_number="AB1234567", surname="Le Gall", given_names="Anne", birth="010203",
        sex="F", expiry=expiry,
    )  # fmt: skip
    assert parse_mrz(td1, today=date(2026, 12, 4)).expiry_date == read


def test_optional_data_with_a_filler_check_digit_is_refused_when_filled_in() -> None:
    personal = next(f"ZE18422{i:02d}" for i in range(100) if check_digit(f"ZE18422{i:02d}") == "0")
    assert parse_mrz(_td3_with_personal_number(personal, "0")).optional_data == personal
    with pytest.raises(MrzError, match="numéro personnel : le champ est rempli mais son chiffre"):
        parse_mrz(_td3_with_personal_number(personal, "<"))
    assert parse_mrz(_td3_with_personal_number("", "<")).optional_data == ""
    assert parse_mrz(_td3_with_personal_number("", "0")).optional_data == ""
