"""The CAN and the MRZ out of what a recogniser saw: noisy text, the usual misreadings undone
only where the MRZ's rules leave one reading, and every doubt refused with a French message."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.identity.model import MrzFormat
from kiosk.identity.mrz import check_digit, compose_td3
from kiosk.identity.ocr import (
    CanNotRecognised,
    MrzNotRecognised,
    can_from_text,
    mrz_from_text,
    read_can,
)
from kiosk.ports.devices import TextLayout
from tests.identity.ocr_samples import TD1, TD3

TODAY = date(2026, 12, 4)


def test_the_can_is_the_one_run_of_six_digits_among_the_cards_other_text() -> None:
    text = "REPUBLIQUE FRANCAISE\nNOM MARTIN\n13 07 1990\nX4RTBPFW4\nFRA\n123456\n"
    assert can_from_text(text) == "123456"


def test_arabic_digits_read_by_the_recogniser_are_the_can_digits() -> None:
    assert can_from_text("CAN ١٢٣٤٥٦") == "123456"


@pytest.mark.parametrize(
    "text",
    [
        "12345¢",  # a digit misread: five digits only
        "1234567",  # seven digits: not a CAN
        "X123456",  # inside a word (a document number)
        "",
        "123456\n654321",  # two candidates: which one is not guessed
    ],
)
def test_no_can_or_two_cans_are_refused_with_the_french_message(text: str) -> None:
    with pytest.raises(CanNotRecognised) as caught:
        can_from_text(text)
    assert str(caught.value) == "Le CAN n'a pas été reconnu : recadrez la carte ou tapez-le"


def test_the_same_can_read_twice_is_one_can() -> None:
    assert can_from_text("123456 ... 123456") == "123456"


class _Reader:
    """A recogniser that answers each reading in turn."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str | None, TextLayout]] = []

    def unavailable(self) -> str | None:
        return None

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        self.calls.append((alphabet, layout))
        return self.answers.pop(0)


def test_a_can_is_taken_only_when_two_readings_agree() -> None:
    reader = _Reader("FRA 12345¢", "44\n13071990\n123456", "123456")
    assert read_can(reader, b"photo") == "123456"
    assert [alphabet for alphabet, _ in reader.calls] == [None, "0123456789", "0123456789"]


def test_two_readings_that_disagree_are_refused() -> None:
    """A digit misread (3 for 5) would cost one of the card's tries: no reading is chosen."""
    with pytest.raises(CanNotRecognised):
        read_can(_Reader("123456", "125456", "ABC"), b"photo")


def test_two_cans_on_a_reading_are_refused_without_trying_another() -> None:
    reader = _Reader("123456 654321", "123456", "123456")
    with pytest.raises(CanNotRecognised):
        read_can(reader, b"photo")
    assert len(reader.calls) == 1


def test_a_clean_td1_is_read_whole() -> None:
    mrz = mrz_from_text("SPECIMEN\n" + "\n".join(TD1) + "\n", today=TODAY)
    assert mrz.format is MrzFormat.TD1 and mrz.lines == TD1
    assert (mrz.surname, mrz.given_names) == ("MARTIN", "MAELYS GAELLE MARIE")


def test_fillers_read_as_k_spaces_and_guillemets_and_miscounted_are_fillers_again() -> None:
    noisy = (
        "IDFRAX4RTBPFW46<<K<K<<<<<<<<<<<\n"  # a K amid fillers, one filler too many
        "9007138F 3002119 FRA««<<<<<<<<<6\n"  # spaces, « for <, two fillers short
        "MARTIN<<MAELYS<GAELLE<MARIE<<<KKKK\n"  # fillers after the name read as K
    )
    assert mrz_from_text(noisy, today=TODAY).lines == TD1


def test_letters_in_dates_and_check_digits_are_the_digits_they_look_like() -> None:
    line2 = TD3[1]
    # Birth 850315 → 85O3I5, its check digit 0 → O, expiry 340101 → 34OIOI.
    noisy = line2[:13] + "85O3I5" + "O" + line2[20] + "34OIOI" + line2[27:]
    assert mrz_from_text(f"{TD3[0]}\n{noisy}", today=TODAY).lines == TD3


def test_a_digit_in_a_country_code_or_document_code_is_the_letter_it_looks_like() -> None:
    lines = compose_td3(
        document_number="L898902C3",
        surname="ERIKSSON",
        given_names="ANNA MARIA",
        birth="740812",
        sex="F",
        expiry="340415",
        issuing_state="UTO",
        nationality="UTO",
    )
    noisy = lines[0].replace("P<UTO", "P<UT0") + "\n" + lines[1].replace("UTO", "UT0")
    mrz = mrz_from_text(noisy, today=TODAY)
    assert mrz.lines == lines and mrz.issuing_state == mrz.nationality == "UTO"
    noisy = TD1[0].replace("IDFRA", "1DFRA") + "\n" + TD1[1] + "\n" + TD1[2]
    assert mrz_from_text(noisy, today=TODAY).lines == TD1


def test_a_wrong_check_digit_is_refused_with_the_french_message() -> None:
    line2 = TD1[1]
    wrong = str((int(line2[6]) + 1) % 10)
    noisy = "\n".join((TD1[0], line2[:6] + wrong + line2[7:], TD1[2]))
    with pytest.raises(MrzNotRecognised) as caught:
        mrz_from_text(noisy, today=TODAY)
    assert "reprenez la photo" in str(caught.value) and "tapez-la" in str(caught.value)


def test_a_date_misread_as_another_digit_is_refused_not_guessed() -> None:
    line2 = TD3[1]
    noisy = line2[:13] + "850316" + line2[19:]  # the birth date's check digit no longer holds
    assert check_digit("850316") != line2[19]
    with pytest.raises(MrzNotRecognised):
        mrz_from_text(f"{TD3[0]}\n{noisy}", today=TODAY)


def test_a_letter_in_a_name_is_never_changed() -> None:
    """« JEAN<KPIERRE » may be a misread filler, or a name: the check digits cannot tell, so it
    stays as read, for the agent to compare with the document."""
    line1 = TD3[0].replace("JEAN<PIERRE<", "JEAN<KPIERRE")
    mrz = mrz_from_text(f"{line1}\n{TD3[1]}", today=TODAY)
    assert mrz.given_names == "JEAN KPIERRE"
    line1 = TD3[0].replace("DUPONT", "DUP0NT")  # a zero in a name is not made an O either
    assert mrz_from_text(f"{line1}\n{TD3[1]}", today=TODAY).surname == "DUP0NT"


def test_a_td2_is_read() -> None:
    number, birth, expiry = "D23145890", "740812", "120415"
    line2 = number + check_digit(number) + "UTO" + birth + check_digit(birth) + "F"
    line2 += expiry + check_digit(expiry) + "<<<<<<<"
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:35])
    line1 = "I<UTOERIKSSON<<ANNA<MARIA".ljust(36, "<")
    mrz = mrz_from_text(f"{line1}\n{line2.replace('<<<<<<<', '<<K<<<<<')}", today=TODAY)
    assert mrz.format is MrzFormat.TD2 and mrz.document_number == number
    assert mrz.surname == "ERIKSSON"


@pytest.mark.parametrize("text", ["", "SPECIMEN\nRÉPUBLIQUE FRANÇAISE", "\n".join(TD1[:2])])
def test_garbage_or_a_line_short_is_refused(text: str) -> None:
    with pytest.raises(MrzNotRecognised):
        mrz_from_text(text, today=TODAY)
