"""Block ciphers, MACs and key derivation of ICAO 9303 Part 11 §9.7 (3DES and AES).

3DES comes from ``cryptography``'s *decrepit* module: it is still what BAC passports use. The
retail MAC (ISO 9797-1 algorithm 3) is built from DES-CBC plus one 3DES block, as specified.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC


class Cipher(Enum):
    """The secure-messaging ciphers of ICAO 9303, with their key length in bytes."""

    # (name, key length): the names keep 3DES and AES-128 distinct members.
    DES3 = ("3DES", 16)
    AES128 = ("AES-128", 16)
    AES192 = ("AES-192", 24)
    AES256 = ("AES-256", 32)

    @property
    def block(self) -> int:
        """Block size in bytes (also the SSC size)."""
        return 8 if self is Cipher.DES3 else 16

    @property
    def key_length(self) -> int:
        """Key length in bytes."""
        return self.value[1]


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to the block size."""
    data += b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    """Remove method-2 padding; a missing 0x80 marker is a hostile answer."""
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise ValueError("bad padding")
    return stripped[:-1]


def _des3_key(key: bytes) -> bytes:
    return key + key[:8] if len(key) == 16 else key


def encrypt(cipher: Cipher, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    """CBC encryption (``data`` already padded); the IV is zero unless given."""
    algo = TripleDES(_des3_key(key)) if cipher is Cipher.DES3 else algorithms.AES(key)
    enc = _Cipher(algo, modes.CBC(iv or b"\x00" * cipher.block)).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt(cipher: Cipher, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    """CBC decryption; the IV is zero unless given."""
    algo = TripleDES(_des3_key(key)) if cipher is Cipher.DES3 else algorithms.AES(key)
    dec = _Cipher(algo, modes.CBC(iv or b"\x00" * cipher.block)).decryptor()
    return dec.update(data) + dec.finalize()


def aes_block(key: bytes, block: bytes) -> bytes:
    """One AES block (ECB): the SM IV is E(K_enc, SSC)."""
    enc = _Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - one block, by spec
    return enc.update(block) + enc.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO 9797-1 MAC algorithm 3 with DES (``data`` already padded to 8 bytes)."""
    k1 = key[:8]
    state = b"\x00" * 8
    if len(data) > 8:
        state = encrypt(Cipher.DES3, k1 * 3, data[:-8])[-8:]
    last = bytes(a ^ b for a, b in zip(state, data[-8:], strict=True))
    return encrypt(Cipher.DES3, key[:16] + k1, last)


def mac(cipher: Cipher, key: bytes, data: bytes) -> bytes:
    """The 8-byte secure-messaging MAC: retail MAC for 3DES, truncated CMAC for AES."""
    if cipher is Cipher.DES3:
        return retail_mac(key, data)
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:8]


def _parity(key: bytes) -> bytes:
    return bytes((b & 0xFE) | ((bin(b >> 1).count("1") + 1) % 2) for b in key)


def kdf(secret: bytes, counter: int, cipher: Cipher) -> bytes:
    """Key derivation of Part 11 §9.7.1: H(secret ‖ counter), SHA-1 up to 128 bits, else SHA-256.

    Counters: 1 encryption, 2 MAC, 3 PACE password key.
    """
    data = secret + counter.to_bytes(4, "big")
    if cipher is Cipher.DES3:
        return _parity(hashlib.sha1(data).digest()[:16])  # noqa: S324 - mandated by ICAO 9303
    if cipher is Cipher.AES128:
        return hashlib.sha1(data).digest()[:16]  # noqa: S324 - mandated by ICAO 9303
    return hashlib.sha256(data).digest()[: cipher.key_length]
