"""Active Authentication signatures (ICAO 9303-11 §6.1): ISO/IEC 9796-2 scheme 1 and plain ECDSA."""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devices.cardsim.profiles import aa_key
from devices.nfc import aa, tlv
from devices.nfc import ec as nfc_ec
from devices.nfc.signature import UnsupportedSignature

CHALLENGE = bytes.fromhex("0123456789ABCDEF")


def _dg15(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return tlv.encode(0x6F, spki)


def _rsa() -> rsa.RSAPrivateKey:
    key = aa_key("rsa")
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.mark.parametrize("name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_rsa_signature_with_each_trailer_verifies(name: str) -> None:
    # SHA-1 uses the one-byte trailer BC, the others the two-byte "xx CC" naming the hash.
    key = _rsa()
    for m1 in (bytes(range(256)), bytes(255 - i for i in range(256))):  # J and n - J both sent
        signature = aa.sign_rsa(key, CHALLENGE, m1, name)
        assert aa.verify(_dg15(key), CHALLENGE, signature, None)


def test_rsa_signature_of_another_challenge_or_altered_fails() -> None:
    key = _rsa()
    signature = aa.sign_rsa(key, CHALLENGE, bytes(256), "sha256")
    assert not aa.verify(_dg15(key), bytes(8), signature, None)
    altered = signature[:10] + bytes([signature[10] ^ 1]) + signature[11:]
    assert not aa.verify(_dg15(key), CHALLENGE, altered, None)
    assert not aa.verify(_dg15(key), CHALLENGE, signature[1:], None)


def test_rsa_block_without_the_partial_recovery_header_fails() -> None:
    key = _rsa()
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    m1 = bytes(256 - 1 - 32 - 2)
    digest = hashlib.sha256(m1 + CHALLENGE).digest()
    block = int.from_bytes(b"\x4a" + m1 + digest + b"\x34\xcc", "big")  # '01', recovery bit 0
    signature = pow(block, numbers.d, n).to_bytes(256, "big")
    assert not aa.verify(_dg15(key), CHALLENGE, signature, None)


def test_ecdsa_signature_uses_the_hash_named_by_dg14() -> None:
    key = aa_key("ecdsa")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = aa.sign_ecdsa(key, CHALLENGE, "sha256")
    assert aa.verify(_dg15(key), CHALLENGE, signature, "sha256")
    assert not aa.verify(_dg15(key), CHALLENGE, signature, "sha384")
    assert not aa.verify(_dg15(key), bytes(8), signature, "sha256")
    with pytest.raises(UnsupportedSignature, match="DG14"):
        aa.verify(_dg15(key), CHALLENGE, signature, None)


def test_ecdsa_key_with_explicit_curve_parameters_verifies() -> None:
    # Several countries write the domain parameters out in full instead of naming the curve;
    # cryptography recognises a named curve from them (a guard against a version that stops).
    key = aa_key("ecdsa")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    named = keys.PublicKeyInfo.load(tlv.single(_dg15(key), 0x6F))
    c = nfc_ec.BY_OID["1.2.840.10045.3.1.7"].ecdsa_curve  # secp256r1, written out below
    explicit = keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": (
                    "specified",
                    {
                        "version": "ecdpVer1",
                        "field_id": {"field_type": "prime_field", "parameters": c.curve.p()},
                        "curve": {
                            "a": (int(c.curve.a()) % c.curve.p()).to_bytes(32, "big"),
                            "b": int(c.curve.b()).to_bytes(32, "big"),
                        },
                        "base": b"\x04"
                        + int(c.generator.x()).to_bytes(32, "big")
                        + int(c.generator.y()).to_bytes(32, "big"),
                        "order": c.order,
                        "cofactor": 1,
                    },
                ),
            },
            "public_key": named["public_key"],
        }
    )
    dg15 = tlv.encode(0x6F, explicit.dump())
    signature = aa.sign_ecdsa(key, CHALLENGE, "sha256")
    assert aa.verify(dg15, CHALLENGE, signature, "sha256")
