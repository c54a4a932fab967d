"""Basic Access Control (ICAO 9303 Part 11 §4.3): 3DES keys from the MRZ, mutual authentication.

Still the only protocol of many passports. The key seed is SHA-1 of the MRZ information
(document number, birth date, expiry date, each with its check digit).
"""

from __future__ import annotations

import hashlib
import hmac

from devices.nfc.apdu import SW_OK, CommandApdu, Transport, split
from devices.nfc.crypto import Cipher, decrypt, encrypt, kdf, mac, pad
from devices.nfc.ec import Random
from devices.nfc.sm import SecureMessaging
from kiosk.identity.errors import CardBlocked, HostileAnswer, WrongMrz


def keys(mrz_information: str) -> tuple[bytes, bytes]:
    """``(K_enc, K_mac)`` of BAC for the MRZ information."""
    seed = hashlib.sha1(mrz_information.encode("ascii")).digest()[:16]  # noqa: S324 - ICAO 9303
    return kdf(seed, 1, Cipher.DES3), kdf(seed, 2, Cipher.DES3)


def session_from(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SecureMessaging:
    """The secure-messaging session both sides derive after the exchange."""
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    ssc = int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big")
    return SecureMessaging(Cipher.DES3, kdf(seed, 1, Cipher.DES3), kdf(seed, 2, Cipher.DES3), ssc)


def authenticate(transport: Transport, mrz_information: str, rng: Random) -> SecureMessaging:
    """Run BAC; raise ``WrongMrz`` when the card refuses the key."""
    k_enc, k_mac = keys(mrz_information)
    rnd_ic, sw = split(transport.transmit(CommandApdu(0x00, 0x84, 0, 0, ne=8).encode()))
    if sw != SW_OK or len(rnd_ic) != 8:
        raise HostileAnswer(f"GET CHALLENGE a répondu {sw:04X}")
    rnd_ifd, k_ifd = rng(8), rng(16)
    e_ifd = encrypt(Cipher.DES3, k_enc, rnd_ifd + rnd_ic + k_ifd)
    m_ifd = mac(Cipher.DES3, k_mac, pad(e_ifd, 8))
    answer, sw = split(
        transport.transmit(CommandApdu(0x00, 0x82, 0, 0, e_ifd + m_ifd, ne=40).encode())
    )
    if sw in (0x6300, 0x6982) or (sw & 0xFFF0) == 0x63C0:
        raise WrongMrz()
    if sw == 0x6983:
        raise CardBlocked()
    if sw != SW_OK or len(answer) != 40:
        raise HostileAnswer(f"EXTERNAL AUTHENTICATE a répondu {sw:04X}")
    e_ic, m_ic = answer[:32], answer[32:]
    if not hmac.compare_digest(mac(Cipher.DES3, k_mac, pad(e_ic, 8)), m_ic):
        raise WrongMrz()  # the card used other keys: it is not the document whose MRZ we have
    plain = decrypt(Cipher.DES3, k_enc, e_ic)
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise HostileAnswer("la puce n'a pas renvoyé nos nombres aléatoires")
    return session_from(k_ifd, plain[16:], rnd_ic, rnd_ifd)
