"""PACE v2 (ICAO 9303 Part 11 §4.4) over ECDH, keyed by CAN or MRZ, terminal side.

ECDH Generic Mapping (G~ = s·G + H) on any curve of ``devices.nfc.ec``, and ECDH Integrated
Mapping (Ĝ = f_G(R_p(s, t)), ``devices.nfc.pace_im``) with the AES suites on curves with
p ≡ 3 mod 4. Which one to run is the reader's choice (``devices.nfc.reader``); everything but
the mapping step (nonce, ephemeral keys, KDF, tokens) is shared.
MSE:Set AT always carries the parameter id (tag 0x84): cards offering several options drop the
link without it.
"""

from __future__ import annotations

import hashlib
import hmac

from asn1crypto import core
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from devices.nfc import ec, pace_im, tlv
from devices.nfc.apdu import SW_OK, CardStatusError, CommandApdu, Transport, split
from devices.nfc.crypto import Cipher, decrypt, kdf, mac, pad
from devices.nfc.securityinfo import PaceInfo
from devices.nfc.sm import SecureMessaging
from kiosk.identity.errors import (
    CardBlocked,
    HostileAnswer,
    UnsupportedCard,
    WrongCan,
    WrongMrz,
)
from kiosk.identity.model import AccessKey, CanKey
from kiosk.messages import Message

KEY_MRZ = 0x01
KEY_CAN = 0x02


def oid_bytes(oid: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (without tag and length)."""
    return bytes(core.ObjectIdentifier(oid).contents)


def password(access: AccessKey) -> bytes:
    """f(π): the CAN as ASCII digits, or SHA-1 of the MRZ information."""
    if isinstance(access, CanKey):
        return access.can.encode("ascii")
    return hashlib.sha1(access.key_seed().encode("ascii")).digest()  # noqa: S324 - ICAO 9303


def key_reference(access: AccessKey) -> int:
    """The password reference of MSE:Set AT (tag 0x83)."""
    return KEY_CAN if isinstance(access, CanKey) else KEY_MRZ


def mse_set_at(info: PaceInfo, key_ref: int) -> CommandApdu:
    """MSE:Set AT for PACE, with the parameter id in tag 0x84."""
    data = (
        tlv.encode(0x80, oid_bytes(info.oid))
        + tlv.encode(0x83, bytes([key_ref]))
        + tlv.encode(0x84, bytes([info.param_id]))
    )
    return CommandApdu(0x00, 0x22, 0xC1, 0xA4, data)


def general_authenticate(data: bytes, *, last: bool = False) -> CommandApdu:
    """One step of GENERAL AUTHENTICATE (command chaining until the last one)."""
    return CommandApdu(0x00 if last else 0x10, 0x86, 0x00, 0x00, tlv.encode(0x7C, data), ne=256)


def gm_generator(curve: ec.Curve, nonce: bytes, sk_map: int, pk_map_other: ec.Point) -> ec.Point:
    """Generic Mapping: G~ = s·G + H with H = sk_map · PK_map of the other side."""
    h = pk_map_other * sk_map
    if ec.is_infinity(h):
        raise HostileAnswer("point de correspondance invalide")
    return curve.generator * int.from_bytes(nonce, "big") + h


def token_input(oid: str, public_key: bytes) -> bytes:
    """The public-key data object authenticated by a PACE token (TR-03110 §D.3.3)."""
    return tlv.encode(0x7F49, tlv.encode(0x06, oid_bytes(oid)) + tlv.encode(0x86, public_key))


def token(cipher: Cipher, k_mac: bytes, oid: str, public_key: bytes) -> bytes:
    """Authentication token T = MAC(K_mac, public key data object).

    CMAC pads internally (the worked example confirms no explicit padding for AES); the retail
    MAC of 3DES needs ISO padding first.
    """
    data = token_input(oid, public_key)
    if cipher is Cipher.DES3:
        return mac(cipher, k_mac, pad(data, 8))
    c = CMAC(algorithms.AES(k_mac))
    c.update(data)
    return c.finalize()[:8]


def session_keys(cipher: Cipher, shared_secret: bytes) -> tuple[bytes, bytes]:
    """``(K_enc, K_mac)`` from the shared secret."""
    return kdf(shared_secret, 1, cipher), kdf(shared_secret, 2, cipher)


def _step(transport: Transport, data: bytes, expect: int, *, last: bool = False) -> bytes:
    answer, sw = split(transport.transmit(general_authenticate(data, last=last).encode()))
    if sw != SW_OK:
        raise CardStatusError(sw, "PACE")
    value = tlv.find(tlv.single(answer, 0x7C), expect)
    if value is None:
        raise HostileAnswer(f"réponse PACE sans l'objet {expect:02X}")
    return value


def _map_generic(transport: Transport, curve: ec.Curve, nonce: bytes, rng: ec.Random) -> ec.Point:
    sk_map = ec.random_scalar(curve, rng)
    pk_map = ec.encode(curve, ec.public(curve, sk_map))
    chip_map = ec.decode(curve, _step(transport, tlv.encode(0x81, pk_map), 0x82))
    generator = gm_generator(curve, nonce, sk_map, chip_map)
    if ec.is_infinity(generator):
        raise HostileAnswer("générateur PACE invalide")
    return generator


def _map_integrated(transport: Transport, info: PaceInfo, nonce: bytes, rng: ec.Random) -> ec.Point:
    s_len, t_len = pace_im.nonce_lengths(info.cipher)
    # s must be l bits long (l ≥ k, §4.4.3.3): with AES-256 a 16-byte s would leave R_p without
    # a full key. Refused before t is sent, so nothing more is given to an out-of-spec chip.
    if len(nonce) != s_len:
        raise HostileAnswer("nonce PACE de longueur invalide pour la correspondance intégrée")
    t = rng(t_len)
    # The chip answers an empty 0x82 (§4.4.5.2.2); nothing in it is used, so only the status
    # word and the 0x7C envelope are checked.
    answer, sw = split(transport.transmit(general_authenticate(tlv.encode(0x81, t)).encode()))
    if sw != SW_OK:
        raise CardStatusError(sw, "PACE")
    tlv.single(answer, 0x7C)  # still a Dynamic Authentication Data object, or a hostile answer
    return pace_im.generator(info, nonce, t)


def _refused(access: AccessKey, sw: int) -> Exception:
    if sw in {0x6983, 0x63C0}:
        return CardBlocked()
    if isinstance(access, CanKey):
        return WrongCan((sw & 0x0F) if (sw & 0xFFF0) == 0x63C0 else None)
    return WrongMrz()


def authenticate(
    transport: Transport, info: PaceInfo, access: AccessKey, rng: ec.Random
) -> SecureMessaging:
    """Run PACE with ``info``; return the secure-messaging session (SSC = 0)."""
    if info.mapping == "IM" and not pace_im.supported(info):
        raise UnsupportedCard(
            Message(
                "Cette puce ne propose PACE à correspondance intégrée (IM) qu'avec un chiffrement "
                "ou une courbe que la borne ne sait pas utiliser."
            )
        )
    curve, cipher = info.curve, info.cipher
    _, sw = split(transport.transmit(mse_set_at(info, key_reference(access)).encode()))
    if sw == 0x6983:
        raise CardBlocked()
    if sw == 0x6A80 and not isinstance(access, CanKey):
        raise UnsupportedCard(
            Message(
                "Cette carte ne s'ouvre qu'avec son numéro CAN (6 chiffres imprimés au recto) : "
                "saisissez le CAN au lieu de la bande MRZ."
            )
        )
    if sw != SW_OK and (sw & 0xFFF0) != 0x63C0:  # 63Cx here only announces the tries left
        raise CardStatusError(sw, "choix du protocole PACE")
    k_pi = kdf(password(access), 3, cipher)
    try:
        encrypted = _step(transport, b"", 0x80)
    except CardStatusError as exc:
        if exc.sw == 0x6983:
            raise CardBlocked() from None
        raise
    if len(encrypted) % cipher.block or not encrypted:
        raise HostileAnswer("nonce PACE de longueur invalide")
    nonce = decrypt(cipher, k_pi, encrypted)
    if info.mapping == "IM":
        generator = _map_integrated(transport, info, nonce, rng)
    else:
        generator = _map_generic(transport, curve, nonce, rng)

    sk = ec.random_scalar(curve, rng)
    pk = ec.encode(curve, ec.public(curve, sk, generator))
    chip_pk_bytes = _step(transport, tlv.encode(0x83, pk), 0x84)
    if hmac.compare_digest(chip_pk_bytes, pk):
        raise HostileAnswer("la puce a renvoyé notre propre clé")
    shared = ec.public(curve, sk, ec.decode(curve, chip_pk_bytes))
    if ec.is_infinity(shared):
        raise HostileAnswer("secret partagé invalide")
    k_enc, k_mac = session_keys(cipher, ec.x_bytes(curve, shared))

    t_pcd = token(cipher, k_mac, info.oid, chip_pk_bytes)
    answer, sw = split(
        transport.transmit(general_authenticate(tlv.encode(0x85, t_pcd), last=True).encode())
    )
    if sw != SW_OK:
        if sw in (0x6300, 0x6983, 0x6982) or (sw & 0xFFF0) == 0x63C0:
            raise _refused(access, sw)
        raise CardStatusError(sw, "PACE")
    t_picc = tlv.find(tlv.single(answer, 0x7C), 0x86)
    if t_picc is None or not hmac.compare_digest(t_picc, token(cipher, k_mac, info.oid, pk)):
        raise HostileAnswer("jeton d'authentification de la puce invalide")
    return SecureMessaging(cipher, k_enc, k_mac, 0)
