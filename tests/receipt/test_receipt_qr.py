"""The QR payload survives what a counter's handheld scanner does to it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.receipt import decode_qr_payload, encode_qr_payload
from kiosk.receipt.qr import qr_matrix

# Key positions of the four rows that matter (digits, top, home, bottom), unshifted then shifted.
# Scanners emulate a keyboard: they send *key positions* chosen for their configured layout, and the
# PC turns them into characters with its own layout.
US = (
    ("1234567890-", "qwertyuiop", "asdfghjkl;", "zxcvbnm"),
    ("!@#$%^&*()_", "QWERTYUIOP", "ASDFGHJKL:", "ZXCVBNM"),
)
AZERTY = (
    ("&é\"'(-è_çà)", "azertyuiop", "qsdfghjklm", "wxcvbn,"),
    ("1234567890°", "AZERTYUIOP", "QSDFGHJKLM", "WXCVBN?"),
)

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
groups = st.text(alphabet=ALNUM, min_size=4, max_size=4)
codes = st.text(alphabet=ALNUM, min_size=4, max_size=12)


Layout = tuple[tuple[str, ...], tuple[str, ...]]


def scanner_types(text: str, scanner: Layout, host: Layout, caps_lock: bool = False) -> str:
    """What appears on the PC when a scanner configured for `scanner` types text on `host`."""
    out = []
    for char in text:
        shift, row, col = next(
            (s, r, line.index(char))
            for s, rows in enumerate(scanner)
            for r, line in enumerate(rows)
            if char in line
        )
        typed = host[shift][row][col]
        if caps_lock and typed.isascii() and typed.isalpha():
            typed = typed.swapcase()
        out.append(typed)
    return "".join(out)


def test_payload_format() -> None:
    assert encode_qr_payload("PN-7K3M-Q9TX", "K4D9F2") == "PN1-7K3M-Q9TX-K4D9F2"


def test_payload_uses_only_characters_safe_on_every_layout() -> None:
    payload = encode_qr_payload("PN-7K3M-Q9TX", "ABCDEFGHIJKL")
    assert set(payload) <= set(ALNUM + "-")


@given(g1=groups, g2=groups, code=codes)
def test_round_trip(g1: str, g2: str, code: str) -> None:
    reference = f"PN-{g1}-{g2}"
    assert decode_qr_payload(encode_qr_payload(reference, code)) == (reference, code)


@given(g1=groups, g2=groups, code=codes, caps_lock=st.booleans())
def test_us_scanner_on_french_pc_is_repaired(g1: str, g2: str, code: str, caps_lock: bool) -> None:
    reference = f"PN-{g1}-{g2}"
    typed = scanner_types(encode_qr_payload(reference, code), US, AZERTY, caps_lock)
    assert decode_qr_payload(typed) == (reference, code)


@given(g1=groups, g2=groups, code=codes, caps_lock=st.booleans())
def test_azerty_scanner_on_us_pc_is_repaired(g1: str, g2: str, code: str, caps_lock: bool) -> None:
    reference = f"PN-{g1}-{g2}"
    typed = scanner_types(encode_qr_payload(reference, code), AZERTY, US, caps_lock)
    assert decode_qr_payload(typed) == (reference, code)


def test_the_simulated_scanner_really_mangles() -> None:
    # Guards the simulation: if it typed the payload unchanged, the repair tests would be empty.
    payload = encode_qr_payload("PN-7K3M-Q9TX", "AZ12")
    assert scanner_types(payload, US, AZERTY) == 'PN&)èK"?)AçTX)QW&é'
    assert scanner_types(payload, AZERTY, US) == "PN!6&K#:6A(TX6QW!@"


def test_whitespace_and_lowercase_are_tolerated() -> None:
    assert decode_qr_payload("  pn1-7k3m-q9tx-k4d9f2\r\n") == ("PN-7K3M-Q9TX", "K4D9F2")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "PN-7K3M-Q9TX",  # a bare reference, no code
        "PN1-7K3M-Q9TX",
        "PN1-7K3M-Q9TX-ABC",  # code too short
        "PN1-7K3M-Q9TX-ABCDEFGHIJKLM",  # code too long
        "PN2-7K3M-Q9TX-K4D9F2",  # unknown format version
        "PN1-7K3M|Q9TX-K4D9F2",
        "https://example.org/?q=PN1-7K3M-Q9TX-K4D9F2",
        "PN1-7K3M-Q9TX-K4D9F2-EXTRA",
    ],
)
def test_malformed_payload_is_refused_in_french(text: str) -> None:
    with pytest.raises(ValueError, match=r"reçu|scannez"):
        decode_qr_payload(text)


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        ("PN-7K3M", "K4D9F2"),
        ("pn-7k3m-q9tx", "K4D9F2"),
        ("PN-7K3M-Q9TX", "k4d9"),
        ("PN-7K3M-Q9TX", "K4:9"),
    ],
)
def test_encode_refuses_what_it_could_not_decode(reference: str, code: str) -> None:
    with pytest.raises(ValueError, match=r"invalide|vérification"):
        encode_qr_payload(reference, code)


def test_qr_is_small_with_high_error_correction() -> None:
    # 12-character code, the longest: still version 2 (25 modules), so modules print ~1 mm wide.
    matrix = qr_matrix(encode_qr_payload("PN-7K3M-Q9TX", "ABCDEFGHJKLM"))
    assert len(matrix) == 25
