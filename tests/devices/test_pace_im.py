"""PACE ECDH Integrated Mapping: the worked example of ICAO Doc 9303 Part 11, and both ends.

Vectors copied from ICAO Doc 9303 Part 11 (8th ed., 2021), Appendix H.1 "Worked example: PACE –
Integrated Mapping, ECDH based example" (brainpoolP256r1, AES-128, CAN 123456), the same values
zienit/icao-examples checks in PACE_IMTest.java.
"""

from __future__ import annotations

import os

import pytest
from ecdsa.ellipticcurve import INFINITY

from devices.cardsim.chip import Faults, SimulatedChip
from devices.cardsim.profiles import CNIE, CNIE_IM, PACE_GM_AES256, PACE_IM_AES256
from devices.nfc import ec, pace, pace_im, tlv
from devices.nfc.apdu import CommandApdu, split
from devices.nfc.crypto import Cipher, decrypt, encrypt, kdf
from devices.nfc.reader import EMRTD_AID, _choose
from devices.nfc.securityinfo import PaceInfo, pace_infos
from devices.nfc.sm import SecureTransport
from kiosk.identity.errors import HostileAnswer, WrongCan
from kiosk.identity.model import CanKey
from tests.devices.test_icao_vectors import Script, fixed

H = bytes.fromhex
OK = b"\x90\x00"
IM_AES128 = "0.4.0.127.0.7.2.2.4.4.2"  # id-PACE-ECDH-IM-AES-CBC-CMAC-128
# EF.CardAccess offering only that option on brainpoolP256r1 (parameter id 13).
CARD_ACCESS = H("31143012060A04007F0007020204040202010202010D")

ENCRYPTED_S = H("143DC40C08C8E891FBED7DEDB92B64AD")
S = H("2923BE84E16CD6AE529049F1F1BBE9EB")
T = H("5DD4CBFC96F5453B130D890A1CDBAE32")
R = H(
    "E4447E2DFB3586BAC05DDB00156B57FBB2179A3949294C97254189800C517BAA"
    "8DA0FF397ED8C445D3E421E4FEB57322"
)
R_MOD_P = H("A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E")
MAPPED = H(
    "048E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427"
    "4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD"
)
SK_IC = H("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
PK_IC = H(
    "0467F78E5F7F7686082B293E8D087E056916D0F74BC01A5F8957D0DE45691E51E8"
    "932B69A962B52A0985AD2C0A271EE6A13A8ADDDCD1A3A994B9DED257F4D22753"
)
SK_IFD = H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
PK_IFD = H(
    "0489CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4"
    "6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37"
)
K_ENC = H("0D3FEB33251A6370893D62AE8DAAF51B")
K_MAC = H("B01E89E3D9E8719E586B50B4A7506E0B")
T_IC = H("75D4D96E8D5B0308")  # the chip's token, over the terminal's key
T_IFD = H("450F02B86F6A0909")  # the terminal's token, over the chip's key


def _info() -> PaceInfo:
    (info,) = pace_infos(CARD_ACCESS)
    return info


def test_the_card_access_offers_integrated_mapping() -> None:
    info = _info()
    assert (info.oid, info.mapping, info.cipher) == (IM_AES128, "IM", Cipher.AES128)
    assert info.curve.name == "brainpoolP256r1" and pace_im.supported(info)


def test_nonce_s_is_decrypted_with_the_can_key() -> None:
    k_pi = kdf(pace.password(CanKey("123456")), 3, Cipher.AES128)
    assert k_pi == H("591468CDA83D65219CCCB8560233600F")
    assert decrypt(Cipher.AES128, k_pi, ENCRYPTED_S) == S


def test_pseudo_random_function() -> None:
    p = int(_info().curve.ecdsa_curve.curve.p())
    out = pace_im.pseudo_random(Cipher.AES128, S, T, p.bit_length())
    assert out == R  # n = ⌈(256 + 64) / 128⌉ = 3 blocks
    assert int.from_bytes(out, "big") % p == int.from_bytes(R_MOD_P, "big")


def test_point_encoding_and_mapped_generator() -> None:
    info = _info()
    encoded = pace_im.point_encoding(info.curve, int.from_bytes(R_MOD_P, "big"))
    assert ec.encode(info.curve, encoded) == MAPPED
    assert ec.encode(info.curve, pace_im.generator(info, S, T)) == MAPPED


def test_key_agreement_and_tokens_on_the_mapped_generator() -> None:
    info = _info()
    curve = info.curve
    generator = ec.decode(curve, MAPPED)
    assert ec.encode(curve, ec.public(curve, int.from_bytes(SK_IFD, "big"), generator)) == PK_IFD
    assert ec.encode(curve, ec.public(curve, int.from_bytes(SK_IC, "big"), generator)) == PK_IC
    shared = ec.public(curve, int.from_bytes(SK_IFD, "big"), ec.decode(curve, PK_IC))
    assert ec.x_bytes(curve, shared) == H(
        "4F150FDE1D4F0E38E95017B891BAE17133A0DF45B0D3E18B60BA7BEAFDC2C713"
    )
    assert pace.session_keys(Cipher.AES128, ec.x_bytes(curve, shared)) == (K_ENC, K_MAC)
    assert pace.token(Cipher.AES128, K_MAC, info.oid, PK_IFD) == T_IC
    assert pace.token(Cipher.AES128, K_MAC, info.oid, PK_IC) == T_IFD


def test_the_whole_im_exchange_replays_the_worked_example() -> None:
    card = Script(
        [
            OK,
            tlv.encode(0x7C, tlv.encode(0x80, ENCRYPTED_S)) + OK,
            tlv.encode(0x7C, tlv.encode(0x82, b"")) + OK,
            tlv.encode(0x7C, tlv.encode(0x84, PK_IC)) + OK,
            tlv.encode(0x7C, tlv.encode(0x86, T_IC)) + OK,
        ]
    )
    sm = pace.authenticate(card, _info(), CanKey("123456"), fixed(T, SK_IFD))
    # MSE:Set AT: the IM OID, the CAN as password (0x02), parameter id 13.
    assert card.sent[0] == H("0022C1A412800A04007F000702020404028301028401") + b"\x0d"
    # Mapping: t in clear under tag 0x81, chained.
    assert card.sent[2] == H("1086000014") + tlv.encode(0x7C, tlv.encode(0x81, T)) + b"\x00"
    assert card.sent[3][5:] == tlv.encode(0x7C, tlv.encode(0x83, PK_IFD)) + b"\x00"
    assert card.sent[4][5:] == tlv.encode(0x7C, tlv.encode(0x85, T_IFD)) + b"\x00"
    assert (sm.k_enc, sm.k_mac, sm.ssc) == (K_ENC, K_MAC, 0)


def test_a_wrong_chip_token_is_refused() -> None:
    card = Script(
        [
            OK,
            tlv.encode(0x7C, tlv.encode(0x80, ENCRYPTED_S)) + OK,
            tlv.encode(0x7C, tlv.encode(0x82, b"")) + OK,
            tlv.encode(0x7C, tlv.encode(0x84, PK_IC)) + OK,
            tlv.encode(0x7C, tlv.encode(0x86, T_IFD)) + OK,  # our own token sent back
        ]
    )
    with pytest.raises(HostileAnswer, match="jeton"):
        pace.authenticate(card, _info(), CanKey("123456"), fixed(T, SK_IFD))


def test_a_nonce_shorter_than_the_key_is_refused_before_t_is_sent() -> None:
    info = PaceInfo(PACE_IM_AES256, "IM", Cipher.AES256, 13)
    k_pi = kdf(b"123456", 3, Cipher.AES256)
    card = Script([OK, tlv.encode(0x7C, tlv.encode(0x80, encrypt(Cipher.AES256, k_pi, S))) + OK])
    with pytest.raises(HostileAnswer, match="nonce"):
        pace.authenticate(card, info, CanKey("123456"), os.urandom)
    assert len(card.sent) == 2  # MSE:Set AT and the nonce request only


def test_pseudo_random_function_sizes_for_aes_256_and_192() -> None:
    # No published vector for these suites: the structure of §4.4.3.3 is what we can check.
    assert pace_im.nonce_lengths(Cipher.AES256) == (32, 32)
    assert pace_im.nonce_lengths(Cipher.AES192) == (32, 24)
    assert pace_im.nonce_lengths(Cipher.AES128) == (16, 16)
    assert len(pace_im.pseudo_random(Cipher.AES256, S * 2, T * 2, 256)) == 64  # n = 2, l = 256
    assert len(pace_im.pseudo_random(Cipher.AES192, S * 2, T[:8] + T, 384)) == 64  # n = 2
    with pytest.raises(HostileAnswer):
        pace_im.pseudo_random(Cipher.AES256, S, T * 2, 256)


def test_point_encoding_takes_both_branches_and_stays_on_the_curve() -> None:
    curve = ec.CURVES[13]
    fp = curve.ecdsa_curve.curve
    p, a, b = int(fp.p()), int(fp.a()), int(fp.b())
    branches = set()
    points = set()
    for r in range(2, 80):
        point = pace_im.point_encoding(curve, r)
        assert fp.contains_point(point.x(), point.y()) and point * curve.order == INFINITY
        # Which branch: X2 when h2 = f(X2) is a square (Euler's criterion), X3 otherwise.
        alpha = -r * r % p
        x2 = -b * (1 + alpha + alpha * alpha) * pow(a * (alpha + alpha * alpha), -1, p) % p
        h2 = (x2**3 + a * x2 + b) % p
        square = pow(h2, (p - 1) // 2, p) == 1
        assert point.x() == (x2 if square else alpha * x2 % p)
        branches.add(square)
        points.add(ec.encode(curve, point))
    assert branches == {True, False}
    assert len(points) == 78


def test_degenerate_inputs_are_refused() -> None:
    curve = ec.CURVES[13]
    for r in (0, 1, int(curve.ecdsa_curve.curve.p()) - 1):
        with pytest.raises(HostileAnswer):
            pace_im.point_encoding(curve, r)


# -- the reader's choice -------------------------------------------------------------------
def test_generic_mapping_is_preferred_when_both_are_offered() -> None:
    gm = PaceInfo(PACE_GM_AES256, "GM", Cipher.AES256, 13)
    im = PaceInfo(PACE_IM_AES256, "IM", Cipher.AES256, 13)
    assert _choose([im, gm], CanKey("123456")) == gm
    assert _choose([im], CanKey("123456")) == im


def test_integrated_mapping_the_terminal_cannot_run_is_not_chosen() -> None:
    im_3des = PaceInfo("0.4.0.127.0.7.2.2.4.4.1", "IM", Cipher.DES3, 13)
    im_p224 = PaceInfo(PACE_IM_AES256, "IM", Cipher.AES256, 10)  # secp224r1: p ≡ 1 mod 4
    assert _choose([im_3des, im_p224], CanKey("123456")) is None


# -- both ends in process: reader code against the simulated chip ---------------------------
class ChipTransport:
    """The simulated chip as a ``Transport``, without pcscd."""

    def __init__(self, chip: SimulatedChip) -> None:
        self.chip = chip

    def transmit(self, apdu: bytes) -> bytes:
        return self.chip.process(apdu)


def _im_info() -> PaceInfo:
    (info,) = pace_infos(SimulatedChip(CNIE_IM).card_access)
    return info


def test_simulated_im_chip_opens_a_secure_channel() -> None:
    info = _im_info()
    assert (info.mapping, info.cipher, info.param_id) == ("IM", Cipher.AES256, 13)
    transport = ChipTransport(SimulatedChip(CNIE_IM))
    sm = pace.authenticate(transport, info, CanKey("123456"), os.urandom)
    channel = SecureTransport(transport, sm)
    assert channel.send(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))[1] == 0x9000


def test_simulated_im_chip_counts_wrong_cans() -> None:
    transport = ChipTransport(SimulatedChip(CNIE_IM, Faults(wrong_can=True)))
    with pytest.raises(WrongCan) as refused:
        pace.authenticate(transport, _im_info(), CanKey("123456"), os.urandom)
    assert refused.value.tries_left == 2


def test_simulated_chip_refuses_a_terminal_nonce_of_the_wrong_size() -> None:
    chip = SimulatedChip(CNIE_IM)
    info = _im_info()
    assert split(chip.process(pace.mse_set_at(info, 0x02).encode()))[1] == 0x9000
    assert split(chip.process(pace.general_authenticate(b"").encode()))[1] == 0x9000
    short_t = pace.general_authenticate(tlv.encode(0x81, b"\x01" * 16))
    assert split(chip.process(short_t.encode()))[1] == 0x6A80


def test_simulated_chip_refuses_key_agreement_before_mapping() -> None:
    chip = SimulatedChip(CNIE)
    (gm, _) = pace_infos(chip.card_access)
    curve = gm.curve
    assert split(chip.process(pace.mse_set_at(gm, 0x02).encode()))[1] == 0x9000
    assert split(chip.process(pace.general_authenticate(b"").encode()))[1] == 0x9000
    pk = ec.encode(curve, ec.public(curve, 12345))
    step3 = pace.general_authenticate(tlv.encode(0x83, pk))
    assert split(chip.process(step3.encode()))[1] == 0x6985


def test_integrated_mapping_on_secp256r1_with_the_mrz_key() -> None:
    # The issue asks for IM on secp256r1 too (param id 12): a passport keyed by its MRZ.
    import dataclasses

    from devices.cardsim.profiles import PASSPORT
    from kiosk.identity.model import MrzKey

    bsi_im_aes128 = PACE_IM_AES256.rsplit(".", 1)[0] + ".2"
    profile = dataclasses.replace(PASSPORT, pace=((bsi_im_aes128, 12),))
    chip = SimulatedChip(profile)
    (info,) = pace_infos(chip.card_access)
    assert (info.mapping, info.cipher, info.param_id) == ("IM", Cipher.AES128, 12)
    holder = profile.holder
    key = MrzKey(holder.document_number, holder.birth, holder.expiry)
    transport = ChipTransport(chip)
    sm = pace.authenticate(transport, info, key, os.urandom)
    channel = SecureTransport(transport, sm)
    assert channel.send(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))[1] == 0x9000
