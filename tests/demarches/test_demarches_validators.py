"""Validators: what an agent types at the counter is accepted, normalised, or refused in French."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.demarches.validators import (
    FieldError,
    is_mobile_number,
    is_provisional_siv_plate,
    normalise_email,
    normalise_ephoto_code,
    normalise_fni_plate,
    normalise_identity_number,
    normalise_phone,
    normalise_plate,
    normalise_postcode,
    normalise_siv_plate,
    normalise_vin,
    parse_date,
    plate_system,
    resolve_date_bound,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AB-123-CD", "AB-123-CD"),
        ("ab123cd", "AB-123-CD"),
        (" ab 123 cd ", "AB-123-CD"),
        ("AA-001-AA", "AA-001-AA"),  # the lowest number ever issued
        ("ZZ-999-ZZ", "ZZ-999-ZZ"),
        ("WW-123-AB", "WW-123-AB"),  # provisional, kept
        ("AB-123-WW", "AB-123-WW"),  # WW on the right is an ordinary combination
    ],
)
def test_siv_plate_accepts_and_normalises(raw: str, expected: str) -> None:
    assert normalise_siv_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("AI-123-CD", "I, O et U"),
        ("AB-123-OC", "I, O et U"),
        ("UB-123-CD", "I, O et U"),
        ("SS-123-AB", "SS"),
        ("AB-123-SS", "SS"),
        ("AB-000-CD", "000"),
        ("AB-12-CD", "2 lettres, 3 chiffres"),
        ("1234 AB 56", "2 lettres, 3 chiffres"),
        ("", "2 lettres, 3 chiffres"),
    ],
)
def test_siv_plate_refuses_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        normalise_siv_plate(raw)
    assert reason in caught.value.message


def test_ww_plate_is_reported_as_provisional_only_on_the_left() -> None:
    assert is_provisional_siv_plate(normalise_siv_plate("ww123ab"))
    assert not is_provisional_siv_plate(normalise_siv_plate("AB-123-WW"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234 AB 56", "1234 AB 56"),
        ("1234ab56", "1234 AB 56"),
        ("1 A 01", "1 A 01"),
        ("123 ABC 2A", "123 ABC 2A"),
        ("45-xy-2b", "45 XY 2B"),
        ("12 AB 971", "12 AB 971"),
        ("9999 ZZZ 976", "9999 ZZZ 976"),
        ("567 BC 95", "567 BC 95"),
    ],
)
def test_fni_plate_accepts_and_normalises(raw: str, expected: str) -> None:
    assert normalise_fni_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1234 AB 20", "2A ou 2B"),
        ("1234 AB 96", "n'existe pas"),
        ("1234 AB 99", "n'existe pas"),
        ("1234 AB 00", "n'existe pas"),
        ("12 AB 977", "971 à 976"),
        ("12 AB 970", "971 à 976"),
        ("12345 AB 56", "1 à 4 chiffres"),
        ("12 ABCD 56", "1 à 4 chiffres"),
        ("0 AB 75", "commence à 1"),
        ("0123 AB 75", "commence à 1"),
    ],
)
def test_fni_plate_refuses_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        normalise_fni_plate(raw)
    assert reason in caught.value.message


def test_plate_accepts_either_format_for_people_who_do_not_know() -> None:
    assert normalise_plate("ab123cd") == "AB-123-CD"
    assert normalise_plate("1234ab56") == "1234 AB 56"
    assert plate_system("AB-123-CD") == "siv"
    assert plate_system("1234 AB 2A") == "fni"
    with pytest.raises(FieldError, match="AB-123-CD"):
        normalise_plate("hello")
    with pytest.raises(FieldError, match="SS"):
        normalise_plate("SS-123-AB")  # recognised as SIV, then refused for the right reason


def test_vin_is_normalised_and_never_contains_i_o_q() -> None:
    assert normalise_vin(" vf1 abc12345678901 ") == "VF1ABC12345678901"
    with pytest.raises(FieldError, match="I, O ou Q"):
        normalise_vin("VF1ABC1234567890O")
    with pytest.raises(FieldError, match="I, O ou Q"):
        normalise_vin("VF1QBC12345678901")
    with pytest.raises(FieldError, match="17 caractères ; ici il y en a 16"):
        normalise_vin("VF1ABC1234567890")
    with pytest.raises(FieldError, match="lettres et des chiffres"):
        normalise_vin("VF1ABC12345678_01")


@pytest.mark.parametrize("code", ["31000", "75001", "20000", "20200", "97400", "97133", "98800"])
def test_postcode_accepts_real_departements(code: str) -> None:
    assert normalise_postcode(code) == code


@pytest.mark.parametrize("code", ["00100", "96000", "99000", "97900", "98500", "3100", "31 0000"])
def test_postcode_refuses_unknown_prefixes_and_lengths(code: str) -> None:
    with pytest.raises(FieldError):
        normalise_postcode(code)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("0712345678", "+33712345678"),
        ("01 23 45 67 89", "+33123456789"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),  # Réunion mobile dialled the French way
        ("0590 12 34 56", "+590590123456"),  # Guadeloupe landline
        ("+262 692 12 34 56", "+262692123456"),
        ("+596 696 12 34 56", "+596696123456"),
        ("+594 694 12 34 56", "+594694123456"),
        ("+687 75 12 34", "+687751234"),
        ("+689 87 12 34 56", "+68987123456"),
        ("+269 321 23 45", "+2693212345"),
    ],
)
def test_phone_is_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56",
        "08 00 12 34 56",
        "+44 7911 123456",
        "+262 692 12 34",
        "06 12 34 56 7A",
        "0012",
    ],
)
def test_phone_refuses_bad_numbers(raw: str) -> None:
    with pytest.raises(FieldError):
        normalise_phone(raw)


def test_text_messages_need_a_mobile_number() -> None:
    assert normalise_phone("06 12 34 56 78", mobile_only=True) == "+33612345678"
    assert normalise_phone("0693 12 34 56", mobile_only=True) == "+262693123456"
    with pytest.raises(FieldError, match="portable"):
        normalise_phone("01 23 45 67 89", mobile_only=True)
    with pytest.raises(FieldError, match="portable"):
        normalise_phone("0262 12 34 56", mobile_only=True)
    assert is_mobile_number("+68987123456")
    assert not is_mobile_number("+68940123456")


TODAY = date(2024, 5, 15)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03/11/1957", date(1957, 11, 3)),
        ("3/11/1957", date(1957, 11, 3)),
        ("03-11-1957", date(1957, 11, 3)),
        ("03111957", date(1957, 11, 3)),
        ("1957-11-03", date(1957, 11, 3)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_dates_in_french_and_iso_forms(raw: str, expected: date) -> None:
    assert parse_date(raw) == expected


def test_dates_that_do_not_exist_or_break_bounds_are_refused() -> None:
    with pytest.raises(FieldError, match="n'existe pas"):
        parse_date("31/02/2020")
    with pytest.raises(FieldError, match="JJ/MM/AAAA"):
        parse_date("le 3 novembre")
    with pytest.raises(FieldError, match="dans le futur"):
        parse_date("16/05/2024", maximum=TODAY, today=TODAY)
    with pytest.raises(FieldError, match="antérieure au 01/01/1900"):
        parse_date("31/12/1899", minimum=date(1900, 1, 1))
    assert parse_date("15/05/2024", maximum=TODAY, today=TODAY) == TODAY


def test_date_bounds_resolve_relative_to_today() -> None:
    assert resolve_date_bound("aujourd'hui", TODAY) == TODAY
    assert resolve_date_bound("aujourdhui", TODAY) == TODAY
    assert resolve_date_bound("aujourd'hui - 2 mois", TODAY) == date(2024, 3, 15)
    assert resolve_date_bound("aujourd'hui - 15 jours", TODAY) == date(2024, 4, 30)
    assert resolve_date_bound("aujourd'hui + 1 an", TODAY) == date(2025, 5, 15)
    assert resolve_date_bound("aujourd'hui - 1 mois", date(2024, 3, 31)) == date(2024, 2, 29)
    assert resolve_date_bound("1900-01-01", TODAY) == date(1900, 1, 1)
    with pytest.raises(ValueError, match="isoformat"):
        resolve_date_bound("hier", TODAY)


def test_ephoto_code_has_22_characters() -> None:
    assert normalise_ephoto_code("ab12 cd34 ef56 gh78 ij90 kl") == "AB12CD34EF56GH78IJ90KL"
    with pytest.raises(FieldError, match="22 caractères ; ici il y en a 21"):
        normalise_ephoto_code("AB12CD34EF56GH78IJ90K")
    with pytest.raises(FieldError, match="lettres et des chiffres"):
        normalise_ephoto_code("AB12CD34EF56GH78IJ90K*")


def test_identity_numbers_follow_their_document_kind() -> None:
    assert normalise_identity_number("cni", "x4rtbpfw4") == "X4RTBPFW4"  # CNIe specimen
    assert normalise_identity_number("cni", "8806 9231 0285") == "880692310285"  # old card
    assert normalise_identity_number("passeport", "12ab34567") == "12AB34567"
    with pytest.raises(FieldError, match="2 chiffres, 2 lettres"):
        normalise_identity_number("passeport", "AB1234567")
    with pytest.raises(FieldError, match="9 caractères"):
        normalise_identity_number("cni", "X4RTB")
    with pytest.raises(FieldError, match="Type de pièce"):
        normalise_identity_number("carte_vitale", "123456789")


def test_email_is_lowercased_and_checked() -> None:
    assert normalise_email(" Marie.Martin@Exemple.FR ") == "marie.martin@exemple.fr"
    with pytest.raises(FieldError):
        normalise_email("marie.martin@")
