"""ASN.1 of the Document Security Object and of ICAO master lists (Doc 9303 Parts 10 and 12).

Shared by Passive Authentication (parsing) and the card simulator (building).
"""

from __future__ import annotations

from asn1crypto import algos, cms, core, x509

from kiosk.identity.errors import HostileAnswer

LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
CSCA_MASTER_LIST = "2.23.136.1.1.2"
SOD_TAG = 0x77


class DataGroupHash(core.Sequence):  # type: ignore[misc]
    """One data group number and its hash."""

    _fields = [  # noqa: RUF012 - asn1crypto's declarative API
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashes(core.SequenceOf):  # type: ignore[misc]
    """All data group hashes."""

    _child_spec = DataGroupHash


class LdsSecurityObject(core.Sequence):  # type: ignore[misc]
    """The signed content of the SOD."""

    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashes),
        ("lds_version_info", core.Any, {"optional": True}),
    ]


class _Certificates(core.SetOf):  # type: ignore[misc]
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    """The content of an ICAO master list: CSCA certificates."""

    _fields = [("version", core.Integer), ("cert_list", _Certificates)]  # noqa: RUF012


def signed_data(sod: bytes) -> cms.SignedData:
    """The CMS SignedData inside an EF.SOD (tag 0x77) or a bare ContentInfo."""
    from devices.nfc import tlv

    content = tlv.single(sod, SOD_TAG) if sod[:1] == bytes([SOD_TAG]) else sod
    info = cms.ContentInfo.load(content, strict=True)
    if info["content_type"].native != "signed_data":
        raise ValueError("not a SignedData")
    data = info["content"]
    assert isinstance(data, cms.SignedData)
    return data


def listed_groups(sod: bytes) -> list[int] | None:
    """The data group numbers the SOD hashes, in its order; None when it cannot be parsed.

    Read before the signature is checked (Passive Authentication does that over the same bytes):
    the SOD, not the unsigned EF.COM, says which files the document has, so a copied chip
    cannot make DG14 or DG15 disappear by leaving them out of EF.COM.
    """
    try:
        content = signed_data(sod)["encap_content_info"]
        lds = LdsSecurityObject.load(bytes(content["content"].contents))
        return [int(h["data_group_number"].native) for h in lds["data_group_hash_values"]]
    except (ValueError, TypeError, KeyError, IndexError, HostileAnswer):
        return None
