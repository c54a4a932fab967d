"""A timbre fiscal électronique number as typed: 16 digits, spaces and dashes and other scripts'
digits accepted, anything else refused in plain French."""

from __future__ import annotations

import pytest

from kiosk.dossiers.payment import InvalidTimbre, grouped, parse_timbre


@pytest.mark.parametrize(
    "typed",
    ["1234567890123456", "1234 5678 9012 3456", "1234-5678-9012-3456", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦"],
)
def test_a_timbre_is_read_however_it_is_typed(typed: str) -> None:
    assert parse_timbre(typed) == "1234567890123456"
    assert grouped(parse_timbre(typed)) == "1234 5678 9012 3456"


def test_a_short_or_lettered_number_is_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidTimbre, match="16 chiffres attendus, 15 saisis"):
        parse_timbre("123456789012345")
    with pytest.raises(InvalidTimbre, match="seuls des chiffres sont attendus") as caught:
        parse_timbre("1234 5678 ABCD 3456")
    assert "digits" in caught.value.localized("en")


@pytest.mark.parametrize(
    "scanned",
    [
        "https://timbres.impots.gouv.fr/verif?t=1234567890123456&v=1",
        "TFE;1234567890123456;25,00",
    ],
)
def test_a_scanned_flashcode_carrying_the_16_digits_gives_them(scanned: str) -> None:
    assert parse_timbre(scanned) == "1234567890123456"


def test_a_scan_with_two_candidate_numbers_is_refused_rather_than_guessed() -> None:
    with pytest.raises(InvalidTimbre):
        parse_timbre("1234567890123456 6543210987654321 x")
