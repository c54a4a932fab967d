"""SecurityInfos of EF.CardAccess and DG14 (ICAO 9303 Part 11 §9.2): what the chip offers.

Parsed with asn1crypto; anything malformed is a hostile answer, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core, keys

from devices.nfc import ec
from devices.nfc.crypto import Cipher
from kiosk.identity.errors import HostileAnswer

BSI = "0.4.0.127.0.7.2.2"
PACE_PREFIX = f"{BSI}.4."
CA_PREFIX = f"{BSI}.3."
PK_ECDH = f"{BSI}.1.2"
_CIPHERS = {1: Cipher.DES3, 2: Cipher.AES128, 3: Cipher.AES192, 4: Cipher.AES256}
#: PACE mappings we implement: ECDH Generic (2) and ECDH Integrated (4).
MAPPINGS = {2: "GM", 4: "IM"}


class _SecurityInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto's declarative API
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class _SecurityInfos(core.SetOf):  # type: ignore[misc]
    _child_spec = _SecurityInfo


@dataclass(frozen=True)
class PaceInfo:
    """One PACE option: mapping (GM/IM), cipher and standardized domain parameters."""

    oid: str
    mapping: str
    cipher: Cipher
    param_id: int

    @property
    def curve(self) -> ec.Curve:
        """The curve of ``param_id``."""
        return ec.CURVES[self.param_id]


@dataclass(frozen=True)
class ChipAuthInfo:
    """Chip Authentication (ECDH) as offered in DG14, with the chip's static public key."""

    oid: str
    cipher: Cipher
    key_id: int | None
    curve: ec.Curve
    public_key: bytes


def _parse(data: bytes) -> list[_SecurityInfo]:
    try:
        infos = list(_SecurityInfos.load(data, strict=True))
        for info in infos:  # asn1crypto parses lazily: a malformed SecurityInfo fails here
            _ = info["protocol"].dotted
        return infos
    except (ValueError, TypeError) as exc:
        raise HostileAnswer(f"SecurityInfos illisibles : {exc}") from None


def security_infos(data: bytes) -> list[_SecurityInfo]:
    """Every SecurityInfo of EF.CardAccess or DG14 (its 6E wrapper removed)."""
    if data[:1] == b"\x6e":
        from devices.nfc import tlv

        data = tlv.single(data, 0x6E)
    return _parse(data)


def pace_infos(card_access: bytes) -> list[PaceInfo]:
    """The PACE options we can run, in the chip's order."""
    out = []
    for info in _parse(card_access):
        oid = info["protocol"].dotted
        if not oid.startswith(PACE_PREFIX):
            continue
        parts = oid[len(PACE_PREFIX) :].split(".")
        if len(parts) != 2 or int(parts[0]) not in MAPPINGS or int(parts[1]) not in _CIPHERS:
            continue  # DH mappings, CAM, domain-parameter infos: not offered by our documents
        try:
            param = info["optional_data"].parse(core.Integer).native
        except (ValueError, TypeError, AttributeError):
            continue
        if param in ec.CURVES:
            out.append(PaceInfo(oid, MAPPINGS[int(parts[0])], _CIPHERS[int(parts[1])], param))
    return out


def _curve_of(spki: keys.PublicKeyInfo) -> ec.Curve:
    params = spki["algorithm"]["parameters"]
    if params.name == "named":
        curve = ec.BY_OID.get(params.chosen.dotted)
    elif params.name == "specified":
        curve = ec.by_prime(int(params.chosen["field_id"]["parameters"].native))
    else:
        curve = None
    if curve is None:
        raise HostileAnswer("courbe de la clé de Chip Authentication inconnue")
    return curve


def chip_auth_info(dg14: bytes) -> ChipAuthInfo | None:
    """The ECDH Chip Authentication offered by DG14 (None when there is none)."""
    if dg14[:1] == b"\x6e":
        from devices.nfc import tlv

        dg14 = tlv.single(dg14, 0x6E)
    protocols: list[tuple[str, Cipher, int | None]] = []
    public: dict[int | None, tuple[ec.Curve, bytes]] = {}
    for info in _parse(dg14):
        oid = info["protocol"].dotted
        try:
            key_id = (
                info["optional_data"].parse(core.Integer).native
                if info["optional_data"].contents
                else None
            )
        except (ValueError, TypeError, AttributeError):
            key_id = None
        if oid.startswith(CA_PREFIX + "2."):
            cipher = _CIPHERS.get(int(oid.rsplit(".", 1)[1]))
            if cipher is not None:
                protocols.append((oid, cipher, key_id))
        elif oid == PK_ECDH:
            try:
                spki = info["required_data"].parse(keys.PublicKeyInfo)
                raw = bytes(spki["public_key"].contents[1:])  # skip the unused-bits octet
                curve = _curve_of(spki)
            except (ValueError, TypeError, KeyError) as exc:  # KeyError: unknown key algorithm
                raise HostileAnswer(f"clé de Chip Authentication illisible : {exc}") from None
            public[key_id] = (curve, raw)
    for oid, cipher, key_id in protocols:
        found = public.get(key_id) or (next(iter(public.values())) if public else None)
        if found:
            return ChipAuthInfo(oid, cipher, key_id, found[0], found[1])
    return None
