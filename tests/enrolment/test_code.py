"""The enrolment code as an agent types it and a QR code carries it: forgiving of case and
dashes, and every typo of one character told before anything is sent."""

from __future__ import annotations

import random

import pytest

from kiosk.dossiers.reference import ALPHABET
from kiosk.enrolment.code import (
    CODE_SYMBOLS,
    EnrolmentCode,
    InvalidCode,
    Ticket,
    new_code,
    parse_code,
    read_ticket,
)

PIN = "sha256/" + "A" * 43 + "="


def test_a_code_is_six_groups_of_five_and_its_secret_holds_over_100_bits() -> None:
    code = new_code()
    groups = code.text.split("-")
    assert [len(g) for g in groups] == [5] * 6
    assert len(code.secret) * 5 >= 100  # 32 symbols: 5 bits each
    assert set(code.id + code.secret) <= set(ALPHABET)
    assert code.secret not in repr(code)  # never in a log line or a failed test's output


def test_typing_is_forgiving_of_case_spaces_and_look_alike_letters() -> None:
    code = EnrolmentCode("7K3MQ9T0", "1ABCDEFGHJKMNPQRSTVWX")
    typed = code.text.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert parse_code(typed) == code
    assert parse_code(code.text.replace("-", "")) == code


def test_every_single_character_typo_is_caught_by_the_check_symbol() -> None:
    rng = random.Random(3)
    for _ in range(20):
        text = new_code(rng.randrange).text.replace("-", "")
        for place in range(CODE_SYMBOLS):
            for other in ALPHABET:
                if other == text[place]:
                    continue
                typo = text[:place] + other + text[place + 1 :]
                with pytest.raises(InvalidCode, match="faute de frappe"):
                    parse_code(typo)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Tapez le code"),
        ("ABCDE-FGHJK", "il manque 20 caractère"),
        ("ABCDE-FGHJK-ABCDE-FGHJK-ABCDE-FGHJK-A", "1 caractère(s) de trop"),
        ("ABCDE-FGHJK-ABCDE-FGHJK-ABCDE-FGHJU", "ne contient pas « U »"),
        ("ABCDE-FGHJK-ABCDE-FGHJK-ABCDE-FGHJ#", "ne contient pas « # »"),
    ],
)
def test_a_code_of_the_wrong_shape_is_explained(typed: str, said: str) -> None:
    with pytest.raises(InvalidCode, match=said.replace("(", r"\(").replace(")", r"\)")):
        parse_code(typed)


def test_the_qr_code_carries_the_code_the_address_and_the_pins() -> None:
    ticket = Ticket(new_code(), "https://api.exemple.gouv.fr", (PIN, PIN.replace("A", "B")))
    assert ticket.text.startswith("PNE1 ")
    assert read_ticket(ticket.text) == ticket
    assert read_ticket(ticket.code.text) == Ticket(ticket.code)  # typed: no address


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("PNE1", "incomplet"),
        ("PNE1 {code} ftp://x", "Adresse du service national illisible"),
        ("PNE1 {code} https://x sha256/court=", "Empreinte de certificat illisible"),
        ("PNE2 {code} https://x", "version plus récente"),
    ],
)
def test_a_qr_code_of_another_kind_is_refused_plainly(text: str, said: str) -> None:
    with pytest.raises(InvalidCode, match=said):
        read_ticket(text.format(code=new_code().text))
