"""TLV parsing must refuse hostile lengths quickly and clearly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.nfc import tlv
from kiosk.identity.errors import HostileAnswer


def test_round_trip_of_short_and_long_lengths() -> None:
    for size in (0, 5, 127, 128, 255, 256, 20_000):
        encoded = tlv.encode(0x5F1F, b"x" * size)
        assert tlv.parse(encoded) == [(0x5F1F, b"x" * size)]
        assert tlv.header(encoded)[1] == size


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (bytes.fromhex("7584FFFFFFFF00"), "4 octets"),
        (bytes.fromhex("7580"), "indéfinie"),
        (bytes.fromhex("7583FFFFFF"), "annoncée"),
        (bytes.fromhex("610A5F1F"), "dépassant"),
        (bytes.fromhex("5F"), "tronquée"),
    ],
)
def test_hostile_lengths_are_refused_with_a_reason(data: bytes, why: str) -> None:
    with pytest.raises(HostileAnswer, match=why):
        tlv.parse(data)


@given(st.binary(max_size=64))
def test_any_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    try:
        items = tlv.parse(data)
    except HostileAnswer:
        return
    assert sum(len(v) for _, v in items) <= len(data)
