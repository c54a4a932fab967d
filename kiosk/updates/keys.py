"""The signing keys a kiosk pins (``service_national.cles_paquets``): Ed25519 public keys, each
written as the base64 of its 32 bytes, and the id a bundle names its key by.

Several keys may be pinned at once, so that the service can move to a new key without a day
where kiosks refuse its bundles: the next key is pinned first, then the service signs with it,
then the old one is unpinned. ``cryptography`` is imported only to verify (kiosk/updates/verify.py):
reading the settings must stay cheap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["KEY_ID_LENGTH", "PinnedKey", "key_id", "keys_fingerprint", "parse_key", "parse_keys"]

#: 16 hex digits: the first 8 bytes of the key's SHA-256.
KEY_ID_LENGTH = 16


def key_id(raw: bytes) -> str:
    """The id of a public key: the first 16 hex digits of the SHA-256 of its 32 bytes."""
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class PinnedKey:
    """One pinned Ed25519 public key."""

    raw: bytes  # 32 bytes

    @property
    def id(self) -> str:
        """The id a bundle's envelope names it by."""
        return key_id(self.raw)

    @property
    def text(self) -> str:
        """How the setting writes it (base64)."""
        return base64.b64encode(self.raw).decode("ascii")


def parse_key(text: str) -> PinnedKey:
    """One key from its base64 text.

    Raises:
        ValueError: not base64, or not 32 bytes (the message in French).
    """
    cleaned = text.strip()
    try:
        raw = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"clé « {cleaned[:20]} » illisible : base64 d'une clé publique Ed25519 attendu"
        ) from None
    if len(raw) != 32:
        raise ValueError(
            f"clé « {cleaned[:20]} » de {len(raw)} octets : une clé publique Ed25519 en a 32"
        )
    return PinnedKey(raw)


def parse_keys(texts: Iterable[str]) -> tuple[PinnedKey, ...]:
    """Every key, each once, in the order given."""
    found: dict[bytes, PinnedKey] = {}
    for text in texts:
        key = parse_key(text)
        found.setdefault(key.raw, key)
    return tuple(found.values())


def keys_fingerprint(keys: Iterable[PinnedKey]) -> str:
    """One short text that changes when the pinned keys change: a bundle refused under some
    pins is looked at again once they change, not before."""
    joined = b"".join(sorted(k.raw for k in keys))
    return hashlib.sha256(joined).hexdigest()[:KEY_ID_LENGTH]
