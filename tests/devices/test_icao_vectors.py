"""Known-answer tests with the worked examples of ICAO Doc 9303 Part 11.

Vectors copied from ICAO Doc 9303 Part 11 (8th ed.), Appendix D (BAC, secure messaging) and
Appendix G.1 (PACE ECDH Generic Mapping on brainpoolP256r1), as also used by gmrtd and JMRTD.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devices.nfc import bac, ec, pace, tlv
from devices.nfc.apdu import CommandApdu
from devices.nfc.crypto import Cipher, decrypt, kdf
from devices.nfc.securityinfo import pace_infos
from devices.nfc.sm import SecureMessaging
from kiosk.identity.errors import HostileAnswer
from kiosk.identity.model import MrzKey

H = bytes.fromhex


class Script:
    """A transport replaying the card's answers and recording our commands."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.answers.pop(0)


def fixed(*chunks: bytes) -> Callable[[int], bytes]:
    queue = list(chunks)

    def rng(n: int) -> bytes:
        value = queue.pop(0)
        assert len(value) <= n
        return value.rjust(n, b"\x00")

    return rng


# -- Appendix D: BAC ---------------------------------------------------------------------
def test_bac_keys_from_the_mrz_information() -> None:
    assert MrzKey("L898902C", "690806", "940623").key_seed() == "L898902C<369080619406236"
    k_enc, k_mac = bac.keys("L898902C<369080619406236")
    assert k_enc == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert k_mac == H("7962D9ECE03D1ACD4C76089DCE131543")


def test_bac_mutual_authentication_and_session_keys() -> None:
    card = Script(
        [
            H("4608F91988702212") + b"\x90\x00",
            H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449")
            + b"\x90\x00",
        ]
    )
    rng = fixed(H("781723860C06C226"), H("0B795240CB7049B01C19B33E32804F0B"))
    sm = bac.authenticate(card, "L898902C<369080619406236", rng)
    assert card.sent[1] == H(
        "0082000028"
        "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
        "5F1448EEA8AD90A7"
        "28"
    )
    assert sm.k_enc == H("979EC13B1CBFE9DCD01AB0FED307EAE5")
    assert sm.k_mac == H("F1CB1F1FB5ADF208806B89DC579DC1F8")
    assert sm.ssc == 0x887022120C06C226


def test_secure_messaging_select_and_read_binary() -> None:
    sm = SecureMessaging(
        Cipher.DES3,
        H("979EC13B1CBFE9DCD01AB0FED307EAE5"),
        H("F1CB1F1FB5ADF208806B89DC579DC1F8"),
        0x887022120C06C226,
    )
    select = sm.wrap(CommandApdu(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    assert select == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
    assert sm.unwrap(H("990290008E08FA855A5D4C50A8ED9000")) == (b"", 0x9000)
    assert sm.wrap(CommandApdu(0x00, 0xB0, 0, 0, ne=4)) == H(
        "0CB000000D9701048E08ED6705417E96BA5500"
    )
    data, sw = sm.unwrap(H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"))
    assert (data, sw) == (H("60145F01"), 0x9000)
    assert sm.wrap(CommandApdu(0x00, 0xB0, 0, 4, ne=0x12)) == H(
        "0CB000040D9701128E082EA28A70F3C7B53500"
    )
    data, _ = sm.unwrap(
        H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000")
    )
    assert data == H("04303130365F36063034303030305C026175")
    assert sm.ssc == 0x887022120C06C22C


def test_a_response_with_a_wrong_mac_is_refused() -> None:
    sm = SecureMessaging(
        Cipher.DES3,
        H("979EC13B1CBFE9DCD01AB0FED307EAE5"),
        H("F1CB1F1FB5ADF208806B89DC579DC1F8"),
        0x887022120C06C227,
    )
    with pytest.raises(HostileAnswer, match="MAC"):
        sm.unwrap(H("990290008E08FA855A5D4C50A8EE9000"))


# -- Appendix G.1: PACE ECDH-GM, brainpoolP256r1, AES-128 ---------------------------------
CARD_ACCESS = H("31143012060A04007F0007020204020202010202010D")
NONCE = H("3F00C4D39D153F2B2A214A078D899B22")
SK_MAP = H("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
PK_MAP_PICC = H(
    "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
)
MAPPED = H(
    "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
    "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
)
SK_PCD = H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
PK_PCD = H(
    "042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
    "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
)
PK_PICC = H(
    "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
)


def test_pace_password_key_and_nonce() -> None:
    access = MrzKey("T22000129", "640812", "101031")
    assert access.key_seed() == "T22000129364081251010318"
    k_pi = kdf(pace.password(access), 3, Cipher.AES128)
    assert k_pi == H("89DED1B26624EC1E634C1989302849DD")
    assert decrypt(Cipher.AES128, k_pi, H("95A3A016522EE98D01E76CB6B98B42C3")) == NONCE


def test_pace_generic_mapping_and_key_agreement() -> None:
    (info,) = pace_infos(CARD_ACCESS)
    curve = info.curve
    assert (curve.name, info.mapping, info.cipher) == ("brainpoolP256r1", "GM", Cipher.AES128)
    generator = pace.gm_generator(
        curve, NONCE, int.from_bytes(SK_MAP, "big"), ec.decode(curve, PK_MAP_PICC)
    )
    assert ec.encode(curve, generator) == MAPPED
    assert ec.encode(curve, ec.public(curve, int.from_bytes(SK_PCD, "big"), generator)) == PK_PCD
    shared = ec.public(curve, int.from_bytes(SK_PCD, "big"), ec.decode(curve, PK_PICC))
    assert ec.x_bytes(curve, shared) == H(
        "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"
    )
    k_enc, k_mac = pace.session_keys(Cipher.AES128, ec.x_bytes(curve, shared))
    assert k_enc == H("F5F0E35C0D7161EE6724EE513A0D9A7F")
    assert k_mac == H("FE251C7858B356B24514B3BD5F4297D1")
    assert pace.token(Cipher.AES128, k_mac, info.oid, PK_PICC) == H("C2B0BD78D94BA866")
    assert pace.token(Cipher.AES128, k_mac, info.oid, PK_PCD) == H("3ABB9674BCE93C08")


def test_the_whole_pace_exchange_replays_the_worked_example() -> None:
    (info,) = pace_infos(CARD_ACCESS)
    ok = b"\x90\x00"
    card = Script(
        [
            ok,
            tlv.encode(0x7C, tlv.encode(0x80, H("95A3A016522EE98D01E76CB6B98B42C3"))) + ok,
            tlv.encode(0x7C, tlv.encode(0x82, PK_MAP_PICC)) + ok,
            tlv.encode(0x7C, tlv.encode(0x84, PK_PICC)) + ok,
            tlv.encode(0x7C, tlv.encode(0x86, H("3ABB9674BCE93C08"))) + ok,
        ]
    )
    sm = pace.authenticate(
        card, info, MrzKey("T22000129", "640812", "101031"), fixed(SK_MAP, SK_PCD)
    )
    # MSE:Set AT carries the OID, the MRZ password reference and the parameter id 0x84 = 13.
    assert card.sent[0] == H("0022C1A412800A04007F000702020402028301018401") + b"\x0d"
    assert card.sent[4][5:] == tlv.encode(0x7C, tlv.encode(0x85, H("C2B0BD78D94BA866"))) + b"\x00"
    assert (sm.k_enc, sm.ssc) == (H("F5F0E35C0D7161EE6724EE513A0D9A7F"), 0)


def test_points_are_padded_to_the_field_size() -> None:
    curve = ec.CURVES[13]
    # Find a small multiple of G whose x coordinate has a leading zero byte.
    point = next(
        p for k in range(1, 2000) if (p := curve.generator * k).x() < (1 << (8 * curve.size - 8))
    )
    encoded = ec.encode(curve, point)
    assert len(encoded) == 65 and encoded[1] == 0
    assert ec.decode(curve, encoded) == point


@pytest.mark.parametrize("bare", ["9000", "6A82", "6982"])
def test_a_bare_status_word_under_secure_messaging_is_refused(bare: str) -> None:
    sm = SecureMessaging(Cipher.DES3, bytes(16), bytes(16), 0)
    with pytest.raises(HostileAnswer, match="non protégé"):
        sm.unwrap(H(bare))


def test_a_bare_secure_messaging_error_is_reported_as_a_status() -> None:
    sm = SecureMessaging(Cipher.DES3, bytes(16), bytes(16), 0)
    assert sm.unwrap(H("6988")) == (b"", 0x6988)
