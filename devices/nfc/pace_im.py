"""PACE ECDH Integrated Mapping (ICAO 9303 Part 11 §4.4.3.3.2, Appendix B; BSI TR-03110).

The mapped generator is Ĝ = f_G(R_p(s, t)): ``s`` is the chip's nonce (sent encrypted), ``t``
the terminal's (sent in clear in the mapping step, tag 0x81; the chip answers an empty 0x82).

- R_p is the pseudo-random number mapping built from the PACE block cipher in CBC mode with a
  zero IV: k₀ = E(t, s), then for i = 0..n-1: xᵢ = E(kᵢ, c₁), kᵢ₊₁ = E(kᵢ, c₀), keys truncated
  to the key size, and R_p(s, t) = int(x₀ ‖ … ‖ xₙ₋₁) mod p with n the smallest number such that
  n·l ≥ log₂ p + 64.
- f_G is the point encoding of Brier, Coron, Icart, Madore, Randriam and Tibouchi (CRYPTO 2010)
  in the affine form of Appendix B.2, defined only for p ≡ 3 (mod 4).

Only the AES suites are implemented: the 3DES one (id-PACE-ECDH-IM-3DES-CBC-CBC) is not offered
by the documents we read, and its 128-bit "key" convention is not covered by a worked example.
"""

from __future__ import annotations

from devices.nfc import ec
from devices.nfc.crypto import Cipher, encrypt
from devices.nfc.securityinfo import PaceInfo
from kiosk.identity.errors import HostileAnswer, UnsupportedCard
from kiosk.messages import Message

#: Constants c₀, c₁ of the pseudo-random number mapping, by the bit length l of the nonce s.
_C0 = {
    128: bytes.fromhex("a668892a7c41e3ca739f40b057d85904"),
    256: bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676"),
}
_C1 = {
    128: bytes.fromhex("a4e136ac725f738b01c1f60217c188ad"),
    256: bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517"),
}


def supported(info: PaceInfo) -> bool:
    """True when the terminal can run this IM option: an AES suite on a curve with p ≡ 3 mod 4.

    The point encoding of Appendix B needs p ≡ 3 (mod 4) (secp224r1 does not qualify).
    """
    return info.cipher is not Cipher.DES3 and _prime(info.curve) % 4 == 3


def nonce_lengths(cipher: Cipher) -> tuple[int, int]:
    """``(len(s), len(t))`` in bytes: t has the key size k, s the smallest multiple of the
    block size not shorter than k (§4.4.3.3), hence 32 bytes for s with AES-192 and AES-256.
    """
    if cipher is Cipher.DES3:
        raise UnsupportedCard(
            Message("PACE à correspondance intégrée en 3DES : non pris en charge.")
        )
    k = cipher.key_length
    return -(-k // cipher.block) * cipher.block, k


def pseudo_random(cipher: Cipher, s: bytes, t: bytes, p_bits: int) -> bytes:
    """R(s, t) before the reduction mod p: x₀ ‖ … ‖ xₙ₋₁ (n·l ≥ p_bits + 64).

    ``p_bits`` is the bit length of p; using it for log₂ p gives the same n, since n·l and
    p_bits + 64 are integers.
    """
    s_len, t_len = nonce_lengths(cipher)
    if len(s) != s_len or len(t) != t_len:
        raise HostileAnswer("nonces PACE de longueur invalide pour la correspondance intégrée")
    l_bits = 8 * s_len
    c0, c1 = _C0[l_bits], _C1[l_bits]
    n = -(-(p_bits + 64) // l_bits)
    key = encrypt(cipher, t, s)[:t_len]
    out = b""
    for _ in range(n):
        out += encrypt(cipher, key, c1)
        key = encrypt(cipher, key, c0)[:t_len]  # the truncation only matters for AES-192
    return out


def _prime(curve: ec.Curve) -> int:
    return int(curve.ecdsa_curve.curve.p())


def point_encoding(curve: ec.Curve, r: int) -> ec.Point:
    """f_G(r): the point of <G> that r ∈ GF(p) encodes (Appendix B.2, affine coordinates).

    Raises:
        HostileAnswer: for the degenerate inputs (r ∈ {0, ±1}, or a point off the curve),
            which honest nonces reach with negligible probability.
    """
    fp = curve.ecdsa_curve.curve
    p, a, b = _prime(curve), int(fp.a()), int(fp.b())
    if p % 4 != 3:
        raise UnsupportedCard(
            Message("Correspondance intégrée impossible sur cette courbe (p ≢ 3 mod 4).")
        )
    alpha = -r * r % p
    denominator = a * (alpha + alpha * alpha) % p
    if r % p == 0 or denominator == 0:
        raise HostileAnswer("générateur PACE invalide")
    x2 = -b * (1 + alpha + alpha * alpha) * pow(denominator, -1, p) % p
    x3 = alpha * x2 % p
    h2 = (pow(x2, 3, p) + a * x2 + b) % p
    u = pow(r, 3, p) * h2 % p
    # A = h2^(p-1-(p+1)/4) is 1/√h2 when h2 is a square; otherwise h3 = α³·h2 is one.
    big_a = pow(h2, p - 1 - (p + 1) // 4, p)
    x, y = (x2, big_a * h2 % p) if big_a * big_a * h2 % p == 1 else (x3, big_a * u % p)
    if not fp.contains_point(x, y):
        raise HostileAnswer("générateur PACE invalide")
    point = ec.Point(fp, x, y, 1, curve.order)
    cofactor = int(curve.ecdsa_curve.curve.cofactor())
    return point if cofactor == 1 else point * cofactor


def generator(info: PaceInfo, s: bytes, t: bytes) -> ec.Point:
    """The mapped generator Ĝ = f_G(R_p(s, t)) of ``info``'s curve."""
    curve = info.curve
    p = _prime(curve)
    r = int.from_bytes(pseudo_random(info.cipher, s, t, p.bit_length()), "big") % p
    mapped = point_encoding(curve, r)
    if ec.is_infinity(mapped):
        raise HostileAnswer("générateur PACE invalide")
    return mapped
