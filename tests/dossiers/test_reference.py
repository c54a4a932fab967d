"""References read aloud and typed back: forgiving input, typos caught, codes bound to dossiers."""

from __future__ import annotations

import random

import pytest

from kiosk.dossiers.reference import (
    ALPHABET,
    InvalidReference,
    check_verification_code,
    format_reference,
    new_reference,
    parse_reference,
    verification_code,
)


def test_a_new_reference_has_the_printed_shape_and_parses_back() -> None:
    rng = random.Random(7)
    for _ in range(200):
        ref = new_reference(rng.randrange)
        assert len(ref) == 12 and ref.startswith("PN-") and ref[7] == "-"
        assert parse_reference(ref) == ref


def test_typed_variants_are_accepted() -> None:
    ref = format_reference("7K3M0Q1")
    body = ref[3:].replace("-", "")
    assert parse_reference(body.lower()) == ref
    assert parse_reference(f" pn {body[:4]} {body[4:]} ") == ref
    # O for 0 and I or L for 1, as people type them.
    assert parse_reference(ref.replace("0", "O").replace("1", "I")) == ref
    assert parse_reference(ref.replace("1", "l")) == ref


def test_every_single_symbol_typo_is_caught() -> None:
    ref = format_reference("7K3MQ9T")
    compact = ref[3:].replace("-", "")
    for position in range(8):
        for symbol in ALPHABET:
            if symbol == compact[position]:
                continue
            typo = compact[:position] + symbol + compact[position + 1 :]
            with pytest.raises(InvalidReference, match="faute de frappe"):
                parse_reference(typo)


def test_malformed_input_says_what_is_expected() -> None:
    with pytest.raises(InvalidReference, match="forme attendue"):
        parse_reference("PN-12")


def test_verification_code_binds_reference_dossier_and_key() -> None:
    ref = format_reference("7K3MQ9T")
    code = verification_code(b"k" * 32, "uuid-1", ref)
    assert len(code) == 8 and set(code) <= set(ALPHABET)
    assert check_verification_code(b"k" * 32, "uuid-1", ref, code.lower())
    assert not check_verification_code(b"k" * 32, "uuid-2", ref, code)
    assert not check_verification_code(b"x" * 32, "uuid-1", ref, code)
