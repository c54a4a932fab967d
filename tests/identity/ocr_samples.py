"""The documents the camera-OCR tests and bench read: the training CNIe's MRZ (TD1, CAN 123456)
and a passport's (TD3), written once; and made-up glyph scores for a MRZ's cells."""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.identity.mrz import compose_td1, compose_td3
from kiosk.identity.ocr import MRZ_ALPHABET

#: The training card's holder and CAN (the simulated CNIe's).
CAN = "123456"
TD1 = compose_td1(
    document_number="X4RTBPFW4",
    surname="MARTIN",
    given_names="MAELYS GAELLE MARIE",
    birth="900713",
    sex="F",
    expiry="300211",
)
TD3 = compose_td3(
    document_number="24FR12345",
    surname="DUPONT",
    given_names="JEAN PIERRE",
    birth="850315",
    sex="M",
    expiry="340101",
)


def glyph_scores(
    lines: Sequence[str], *, like: float = 0.96, other: float = 0.4
) -> list[list[dict[str, float]]]:
    """What a ``GlyphReader`` would say of ``lines`` printed clearly: each cell as alike as
    ``like`` to the glyph printed there, ``other`` to every other one."""
    return [
        [{c: like if c == printed else other for c in MRZ_ALPHABET} for printed in line]
        for line in lines
    ]
