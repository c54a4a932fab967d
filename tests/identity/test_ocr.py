"""The CAN and the MRZ out of what the recognisers saw: for the CAN, noisy text; for the MRZ,
each cell's likeness to each glyph (made up here: the devices' tests read real photos). Each
place is read among the characters the MRZ allows there, the check digits must hold, what
no check digit vouches for is taken only when clear, and every doubt is refused or left to
the agent as « ? », with a French message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from kiosk.identity.errors import MrzError
from kiosk.identity.model import MrzFormat
from kiosk.identity.mrz import check_digit, compose_td3, parse_mrz
from kiosk.identity.ocr import (
    CanNotRecognised,
    MrzNotRecognised,
    can_from_text,
    mrz_from_glyphs,
    read_can,
    read_mrz,
)
from kiosk.ports.devices import CellScores, TextLayout
from tests.identity.ocr_samples import TD1, TD3, glyph_scores

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


# ------------------------------------------------------------------------------------ MRZ
Cells = list[list[dict[str, float]]]
cells = glyph_scores


def test_a_clean_td1_is_read_whole() -> None:
    photo = mrz_from_glyphs(cells(TD1), today=TODAY)
    assert photo.mrz.format is MrzFormat.TD1 and photo.mrz.lines == TD1
    assert photo.unsure == frozenset() and photo.lines == TD1
    assert (photo.mrz.surname, photo.mrz.given_names) == ("MARTIN", "MAELYS GAELLE MARIE")


def test_a_clean_passport_mrz_is_read_whole() -> None:
    photo = mrz_from_glyphs(cells(TD3), today=TODAY)
    assert photo.mrz.format is MrzFormat.TD3 and photo.lines == TD3
    assert photo.mrz.key_seed == "24FR12345385031503401011"


def test_each_place_is_read_among_the_characters_the_mrz_allows_there() -> None:
    """The glyphs of O and 0, I and 1 are close: a date holds digits, a country letters, the
    sex F, M, X or a filler; what the glyphs prefer elsewhere does not matter there."""
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
    scored = cells(lines)
    scored[0][4].update({"0": 0.99, "O": 0.95})  # the issuing state's O
    scored[1][12].update({"0": 0.99, "O": 0.95})  # the nationality's O
    scored[1][15].update({"O": 0.99, "0": 0.95})  # the birth date's 0
    scored[1][20].update({"E": 0.99, "F": 0.95})  # the sex
    photo = mrz_from_glyphs(scored, today=TODAY)
    assert photo.lines == lines and photo.unsure == frozenset()
    assert photo.mrz.issuing_state == photo.mrz.nationality == "UTO"
    assert photo.mrz.sex == "F"


def test_a_name_letter_not_clearly_read_is_left_to_the_agent_as_a_question_mark() -> None:
    """Names have no check digit: E and F close on a name's cell make it the agent's to type;
    the number and dates, which the check digits vouch for, are kept."""
    scored = cells(TD3)
    col = TD3[0].index("JEAN") + 1  # the E
    scored[0][col].update({"E": 0.90, "F": 0.88})
    photo = mrz_from_glyphs(scored, today=TODAY)
    assert photo.unsure == {(0, col)}
    assert photo.lines[0] == TD3[0][:col] + "?" + TD3[0][col + 1 :]
    assert photo.lines[1] == TD3[1]
    assert photo.mrz.key_seed == "24FR12345385031503401011"


def test_a_question_mark_left_in_the_mrz_box_is_refused_until_typed() -> None:
    photo_lines = (TD3[0].replace("JEAN", "J?AN"), TD3[1])
    with pytest.raises(MrzError) as caught:
        parse_mrz("\n".join(photo_lines), today=TODAY)
    assert str(caught.value) == (
        "ligne 1 : les caractères « ? » n'ont pas pu être lus sur la photo ; tapez-les "
        "d'après le document"
    )


def test_a_country_not_clearly_read_is_left_to_the_agent_too() -> None:
    scored = cells(TD3)
    scored[1][11].update({"R": 0.90, "A": 0.88})  # the nationality's R: no check digit
    assert mrz_from_glyphs(scored, today=TODAY).unsure == {(1, 11)}


def test_a_filler_close_to_a_k_is_not_vouched_for_by_the_check_digit() -> None:
    """K is worth 20, a filler 0: the same modulo 10, so the composite digit holds either
    way; but 8 and B (8 and 11) it tells apart, so a close B beside an 8 does not matter."""
    scored = cells(TD1)
    scored[0][20].update({"<": 0.90, "K": 0.88})  # optional data, under the composite only
    col = TD1[0].index("4", 5)  # a 4 in the document number: E (14) is its twin
    scored[0][col].update({"4": 0.90, "A": 0.88})  # A (10): another digit's twin
    photo = mrz_from_glyphs(scored, today=TODAY)
    assert photo.unsure == {(0, 20)}
    assert photo.mrz.lines == TD1


def test_two_doubtful_characters_in_one_field_leave_the_whole_field_to_the_agent() -> None:
    """Two misreadings in one field can cancel out in its check digit (D→0 and 1→I did, on
    a photo of another typeface, the I read with certainty): with two doubtful characters,
    the digit vouches for none of the field, and the whole document number is the agent's."""
    scored = cells(TD3)
    scored[1][0].update({"2": 0.90, "Z": 0.88})
    scored[1][5].update({"2": 0.90, "7": 0.88})
    photo = mrz_from_glyphs(scored, today=TODAY)
    assert photo.unsure == {(1, col) for col in range(10)}  # the number and its digit
    assert photo.lines[1] == "?" * 10 + TD3[1][10:]


def test_a_cell_like_no_glyph_is_left_to_the_agent() -> None:
    """Far ahead of the others, but little like any glyph (a smudge, a reflection)."""
    scored = cells(TD3)
    col = TD3[0].index("DUPONT") + 2
    scored[0][col] = {c: 0.75 if c == "P" else 0.1 for c in scored[0][col]}
    assert mrz_from_glyphs(scored, today=TODAY).unsure == {(0, col)}


def test_a_misread_digit_that_breaks_a_check_digit_is_refused() -> None:
    scored = cells(TD3)
    scored[1][18].update({"6": 0.99})  # birth 850315 read 850316
    with pytest.raises(MrzNotRecognised) as caught:
        mrz_from_glyphs(scored, today=TODAY)
    assert "reprenez la photo" in str(caught.value) and "tapez-la" in str(caught.value)


def test_glyphs_unlike_ocr_b_are_refused_even_when_the_check_digits_hold() -> None:
    """Another typeface's glyphs are each a little like several of OCR-B's: no reading of
    them is vouched for, however the check digits come out."""
    with pytest.raises(MrzNotRecognised):
        mrz_from_glyphs(cells(TD3, like=0.8, other=0.2), today=TODAY)


def test_lines_of_no_mrz_shape_are_refused() -> None:
    for shape in ([], cells(TD1[:2]), cells((TD3[0], TD3[1][:40]))):
        with pytest.raises(MrzNotRecognised):
            mrz_from_glyphs(shape, today=TODAY)


def test_a_td2_and_an_old_french_card_are_read() -> None:
    number, birth, expiry = "D23145890", "740812", "120415"
    line2 = number + check_digit(number) + "UTO" + birth + check_digit(birth) + "F"
    line2 += expiry + check_digit(expiry) + "<<<<<<<"
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:35])
    td2 = ("I<UTOERIKSSON<<ANNA<MARIA".ljust(36, "<"), line2)
    photo = mrz_from_glyphs(cells(td2), today=TODAY)
    assert photo.mrz.format is MrzFormat.TD2 and photo.lines == td2
    old_card = ("IDFRADOUEL<<<<<<<<<<<<<<<<<<<<932013", "0506932020438CHRISTIANE<<NI2906209F3")
    photo = mrz_from_glyphs(cells(old_card), today=TODAY)
    assert photo.mrz.format is MrzFormat.FR_CNI and photo.mrz.surname == "DOUEL"


class _Glyphs:
    """A glyph reader that answers what it is given."""

    def __init__(self, answer: Cells) -> None:
        self.answer = answer
        self.widths: Sequence[int] = ()

    def unavailable(self) -> str | None:
        return None

    def read_glyphs(self, image: bytes, *, widths: Sequence[int]) -> list[list[CellScores]]:
        self.widths = widths
        return [list(line) for line in self.answer]


def test_read_mrz_asks_for_the_mrz_widths_and_keeps_what_is_sure() -> None:
    scored = cells(TD3)
    scored[0][7].update({"P": 0.90, "R": 0.88})
    glyphs = _Glyphs(scored)
    photo = read_mrz(glyphs, b"photo", today=TODAY)
    assert tuple(glyphs.widths) == (30, 36, 44)
    assert photo.unsure == {(0, 7)} and photo.mrz.lines == TD3


def test_a_reading_leaving_more_than_a_quarter_to_type_is_refused() -> None:
    """88 characters: 22 « ? » still help (the agent types a quarter), 23 do not."""
    names = [col for col, char in enumerate(TD3[0]) if col >= 5]
    for count, refused in ((22, False), (23, True)):
        scored = cells(TD3)
        for col in names[:count]:
            printed = TD3[0][col]
            rival = "B" if printed != "B" else "C"
            scored[0][col].update({printed: 0.95, rival: 0.94})
        if refused:
            with pytest.raises(MrzNotRecognised):
                read_mrz(_Glyphs(scored), b"photo", today=TODAY)
        else:
            assert len(read_mrz(_Glyphs(scored), b"photo", today=TODAY).unsure) == count
