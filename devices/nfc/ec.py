"""Elliptic-curve arithmetic for PACE and Chip Authentication, on ``ecdsa``'s curves.

``cryptography`` offers ECDH but not the raw point addition PACE Generic Mapping needs
(G~ = s·G + H), hence ``ecdsa``. Points are always encoded with coordinates padded to the field
size: a 31-byte coordinate is the classic cause of intermittent PACE failures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ecdsa import curves as _curves
from ecdsa.ellipticcurve import INFINITY, PointJacobi

from kiosk.identity.errors import HostileAnswer

Random = Callable[[int], bytes]
Point = PointJacobi


@dataclass(frozen=True)
class Curve:
    """A named curve with its TR-03110 standardized domain parameter id."""

    name: str
    param_id: int
    oid: str
    ecdsa_curve: _curves.Curve

    @property
    def size(self) -> int:
        """Field size in bytes (coordinate length)."""
        return (int(self.ecdsa_curve.curve.p()).bit_length() + 7) // 8

    @property
    def order(self) -> int:
        """Order of the base point."""
        return int(self.ecdsa_curve.order)

    @property
    def generator(self) -> PointJacobi:
        """The base point G."""
        return self.ecdsa_curve.generator


def _curve(name: str, param_id: int, ecdsa_curve: _curves.Curve) -> Curve:
    return Curve(name, param_id, ".".join(str(i) for i in ecdsa_curve.oid), ecdsa_curve)


#: Standardized domain parameters of BSI TR-03110 Part 3 §A.2.1.1 that ``ecdsa`` provides.
CURVES: dict[int, Curve] = {
    c.param_id: c
    for c in (
        _curve("secp192r1", 8, _curves.NIST192p),
        _curve("brainpoolP192r1", 9, _curves.BRAINPOOLP192r1),
        _curve("secp224r1", 10, _curves.NIST224p),
        _curve("brainpoolP224r1", 11, _curves.BRAINPOOLP224r1),
        _curve("secp256r1", 12, _curves.NIST256p),
        _curve("brainpoolP256r1", 13, _curves.BRAINPOOLP256r1),
        _curve("brainpoolP320r1", 14, _curves.BRAINPOOLP320r1),
        _curve("secp384r1", 15, _curves.NIST384p),
        _curve("brainpoolP384r1", 16, _curves.BRAINPOOLP384r1),
        _curve("brainpoolP512r1", 17, _curves.BRAINPOOLP512r1),
        _curve("secp521r1", 18, _curves.NIST521p),
    )
}
BY_OID = {c.oid: c for c in CURVES.values()}


def by_prime(p: int) -> Curve | None:
    """The known curve over the prime field ``p`` (for explicit domain parameters)."""
    for c in CURVES.values():
        if c.ecdsa_curve.curve.p() == p:
            return c
    return None


def encode(curve: Curve, point: PointJacobi) -> bytes:
    """Uncompressed encoding 04 ‖ x ‖ y, each coordinate padded to the field size."""
    return (
        b"\x04"
        + int(point.x()).to_bytes(curve.size, "big")
        + int(point.y()).to_bytes(curve.size, "big")
    )


def x_bytes(curve: Curve, point: PointJacobi) -> bytes:
    """The x coordinate padded to the field size (the ECDH shared secret)."""
    return int(point.x()).to_bytes(curve.size, "big")


def decode(curve: Curve, data: bytes) -> PointJacobi:
    """An uncompressed point from the other side, checked to lie on the curve."""
    size = curve.size
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise HostileAnswer(f"point elliptique de {len(data)} octets")
    x = int.from_bytes(data[1 : 1 + size], "big")
    y = int.from_bytes(data[1 + size :], "big")
    fp = curve.ecdsa_curve.curve
    if not (x < fp.p() and y < fp.p() and fp.contains_point(x, y)):
        raise HostileAnswer("point hors de la courbe")
    return PointJacobi(fp, x, y, 1, curve.order)


def is_infinity(point: PointJacobi) -> bool:
    """True for the point at infinity (an invalid result anywhere in PACE or CA)."""
    return bool(point == INFINITY)


def random_scalar(curve: Curve, rng: Random) -> int:
    """A private key in [1, n-1] drawn from ``rng``."""
    n = curve.order
    while True:
        k = int.from_bytes(rng(curve.size + 8), "big") % n
        if k:
            return k


def public(curve: Curve, private: int, base: PointJacobi | None = None) -> PointJacobi:
    """``private`` · ``base`` (the generator by default)."""
    return (base if base is not None else curve.generator) * private
