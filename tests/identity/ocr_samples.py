"""The documents the camera-OCR tests and bench read: the training CNIe's MRZ (TD1, CAN 123456)
and a passport's (TD3), written once."""

from __future__ import annotations

from kiosk.identity.mrz import compose_td1, compose_td3

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
