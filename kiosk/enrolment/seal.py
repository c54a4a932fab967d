"""Sealing the site's settings with the code's secret, so that the national service, which keeps
them between the two kiosks, can neither read nor change them.

- **The key**: HKDF-SHA-256 (RFC 5869) of the secret, with the code's id in its ``info``; a
  32-byte AES key. No slow key derivation (Argon2, scrypt): the secret is 105 random bits,
  not a password; trying 2¹⁰⁴ secrets on average, however cheap each, is out of reach.
- **The seal**: AES-256-GCM, a random 96-bit nonce in front of the ciphertext, the code's id as
  associated data: a blob filed under another id does not open, and a changed byte is told.
- **The proof**: the new kiosk proves it knows the secret with a *verifier*, another HKDF
  output of it (another ``info``: knowing the verifier says nothing of the key). The
  supervisor's kiosk files only the verifier's SHA-256; the new kiosk sends the verifier
  itself, over the pinned TLS connection, once. Neither the secret nor the key is ever sent.
  A challenge (an HMAC of a nonce the server draws) would cost a second round trip and protect
  nothing more here: the verifier is good for one redemption, which the server counts.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.enrolment.code import EnrolmentCode

#: Names this version of the scheme: a later one derives other keys from the same code.
_SALT = b"pn-kiosk/enrolement/v1"
_NONCE = 12
#: The verifier's length in bytes (sent base64url without padding: 43 characters).
VERIFIER_BYTES = 32


class SealBroken(Exception):
    """The sealed settings do not open with this code (another code's, or changed on the way)."""


def _derive(code: EnrolmentCode, purpose: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_SALT,
        info=purpose + b":" + code.id.encode("ascii"),
    )
    return hkdf.derive(code.secret.encode("ascii"))


def verifier(code: EnrolmentCode) -> bytes:
    """What the new kiosk sends to prove it holds the code (never the secret)."""
    return _derive(code, b"verificateur")


def verifier_digest(code: EnrolmentCode) -> str:
    """The verifier's SHA-256 (hexadecimal): what the supervisor's kiosk files with the blob."""
    return hashlib.sha256(verifier(code)).hexdigest()


def _associated(code: EnrolmentCode) -> bytes:
    return _SALT + b":" + code.id.encode("ascii")


def seal(code: EnrolmentCode, plain: bytes) -> bytes:
    """``plain`` sealed under the code: nonce, then ciphertext and tag."""
    nonce = os.urandom(_NONCE)
    key = AESGCM(_derive(code, b"cle"))
    return nonce + key.encrypt(nonce, plain, _associated(code))


def open_sealed(code: EnrolmentCode, blob: bytes) -> bytes:
    """The plain settings of ``blob``.

    Raises:
        SealBroken: not sealed under this code, or changed since.
    """
    if len(blob) <= _NONCE + 16:
        raise SealBroken("réglages scellés tronqués")
    key = AESGCM(_derive(code, b"cle"))
    try:
        return key.decrypt(blob[:_NONCE], blob[_NONCE:], _associated(code))
    except InvalidTag as exc:
        raise SealBroken("réglages scellés illisibles avec ce code") from exc
