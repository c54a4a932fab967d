"""Active Authentication (ICAO 9303 Part 11 §6.1): the chip signs a challenge with the DG15 key.

DG15 carries the chip's public key, signed through the SOD; only a chip holding the private key
can sign a fresh challenge. Two signature forms exist:

- RSA, ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery: the chip signs
  ``6A ‖ M1 ‖ H(M1 ‖ challenge) ‖ trailer`` where M1 is its own random part, recovered here;
  trailer ``BC`` means SHA-1, ``xx CC`` names the hash (ISO/IEC 10118 identifiers).
- ECDSA, plain ``r ‖ s`` (BSI TR-03111 §5.2.1) over the challenge, hashed with the algorithm that
  DG14's ActiveAuthenticationInfo names (Part 11 §9.2.9).

Used by the reader (``verify``) and the card simulator (``sign_rsa``, ``sign_ecdsa``).
"""

from __future__ import annotations

import hashlib
import hmac

from asn1crypto import core
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import load_der_public_key

from devices.nfc import tlv
from devices.nfc.apdu import CommandApdu
from devices.nfc.signature import HASHES, UnsupportedSignature
from kiosk.identity.errors import HostileAnswer

#: id-icao-mrtd-security-aaProtocolObject: ActiveAuthenticationInfo in DG14.
AA_INFO = "2.23.136.1.1.5"
_PLAIN = "0.4.0.127.0.7.1.1.4.1"  # ecdsa-plain-signatures (BSI TR-03111)
#: Signature algorithm OIDs of ActiveAuthenticationInfo → hash name.
ECDSA_HASHES = {
    f"{_PLAIN}.1": "sha1",
    f"{_PLAIN}.2": "sha224",
    f"{_PLAIN}.3": "sha256",
    f"{_PLAIN}.4": "sha384",
    f"{_PLAIN}.5": "sha512",
    "1.2.840.10045.4.1": "sha1",  # the X9.62 names some documents use instead
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
#: ISO/IEC 9796-2 two-byte trailers ``xx CC``: the hash identifier xx (ISO/IEC 10118).
TRAILERS = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}
CHALLENGE_LENGTH = 8


def command(challenge: bytes, *, extended: bool) -> CommandApdu:
    """INTERNAL AUTHENTICATE with the 8-byte challenge (Le for a 2048-bit answer if allowed)."""
    return CommandApdu(0x00, 0x88, 0x00, 0x00, challenge, ne=65536 if extended else 256)


def public_key(dg15: bytes) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """The key of DG15 (tag 6F around a SubjectPublicKeyInfo).

    Raises:
        HostileAnswer: DG15 is malformed.
        UnsupportedSignature: a key type (or curve) the kiosk cannot use.
    """
    try:
        key = load_der_public_key(tlv.single(dg15, 0x6F))
    except UnsupportedAlgorithm:
        raise UnsupportedSignature("clé d'Active Authentication d'un type inconnu") from None
    except ValueError as exc:
        raise HostileAnswer(f"DG15 illisible : {type(exc).__name__}") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise UnsupportedSignature("clé d'Active Authentication d'un type inconnu")
    return key


def verify(dg15: bytes, challenge: bytes, answer: bytes, ecdsa_hash: str | None) -> bool:
    """True when ``answer`` is the DG15 key's signature of ``challenge``.

    ``ecdsa_hash``: the hash DG14's ActiveAuthenticationInfo names (ECDSA keys only).

    Raises:
        HostileAnswer: DG15 is malformed.
        UnsupportedSignature: the key or hash cannot be used by the kiosk.
    """
    key = public_key(dg15)
    if isinstance(key, rsa.RSAPublicKey):
        return _verify_9796(key, challenge, answer)
    if ecdsa_hash is None:
        raise UnsupportedSignature("DG14 ne dit pas quel hachage l'Active Authentication utilise")
    half = len(answer) // 2
    if not answer or len(answer) % 2:
        return False
    r, s = int.from_bytes(answer[:half], "big"), int.from_bytes(answer[half:], "big")
    try:
        key.verify(encode_dss_signature(r, s), challenge, ec.ECDSA(HASHES[ecdsa_hash]()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_9796(key: rsa.RSAPublicKey, challenge: bytes, answer: bytes) -> bool:
    numbers = key.public_numbers()
    n, size = numbers.n, (numbers.n.bit_length() + 7) // 8
    value = int.from_bytes(answer, "big")
    if len(answer) != size or not 0 < value < n:
        return False
    message = pow(value, numbers.e, n)
    if message & 0x0F != 0x0C:  # the chip sent n - J (ISO/IEC 9796-2 §B.6, "min" form)
        message = n - message
    block = message.to_bytes(size, "big")
    if block[-1] == 0xBC:
        name, trailer = "sha1", 1
    elif block[-1] == 0xCC and block[-2] in TRAILERS:
        name, trailer = TRAILERS[block[-2]], 2
    else:
        return False
    digest_size = hashlib.new(name).digest_size
    # Header '01', then the partial-recovery bit: the challenge is the non-recoverable part.
    if block[0] & 0xC0 != 0x40 or not block[0] & 0x20 or size < 1 + digest_size + trailer:
        return False
    recovered = block[1 : size - digest_size - trailer]
    digest = block[size - digest_size - trailer : size - trailer]
    return hmac.compare_digest(hashlib.new(name, recovered + challenge).digest(), digest)


def ecdsa_hash(dg14: bytes | None) -> str | None:
    """The hash named by DG14's ActiveAuthenticationInfo, None when DG14 names none."""
    if not dg14:
        return None
    from devices.nfc.securityinfo import security_infos

    for info in security_infos(dg14):
        if info["protocol"].dotted != AA_INFO:
            continue
        try:
            oid = info["optional_data"].parse(core.ObjectIdentifier).dotted
        except (ValueError, TypeError, AttributeError):
            return None
        return ECDSA_HASHES.get(oid)
    return None


# -- card side (simulator) ---------------------------------------------------------------
def sign_rsa(key: rsa.RSAPrivateKey, challenge: bytes, recovered: bytes, name: str) -> bytes:
    """ISO/IEC 9796-2 scheme 1 signature; ``recovered`` is M1 (filled to the block size)."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    trailer = b"\xbc" if name == "sha1" else bytes([_TRAILER_IDS[name], 0xCC])
    digest_size = hashlib.new(name).digest_size
    m1 = recovered[: size - 1 - digest_size - len(trailer)]
    digest = hashlib.new(name, m1 + challenge).digest()
    block = int.from_bytes(b"\x6a" + m1 + digest + trailer, "big")
    signature = pow(block, numbers.d, n)
    return min(signature, n - signature).to_bytes(size, "big")


_TRAILER_IDS = {name: ident for ident, name in TRAILERS.items()}


def sign_ecdsa(key: ec.EllipticCurvePrivateKey, challenge: bytes, name: str) -> bytes:
    """Plain ``r ‖ s`` ECDSA signature of ``challenge``."""
    r, s = decode_dss_signature(key.sign(challenge, ec.ECDSA(HASHES[name]())))
    width = (key.curve.key_size + 7) // 8
    return r.to_bytes(width, "big") + s.to_bytes(width, "big")
