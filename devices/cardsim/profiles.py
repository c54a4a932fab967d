"""Simulated documents: a French CNIe and a passport, their fictional holders and chip files.

Every data group is built here and signed into an EF.SOD by a TEST ONLY Document Signer
(``signers.py``): the ECDSA one of ``assets/test-keys``, or for ``passport-pss`` an RSA one
signing with RSASSA-PSS. Faults that change the data (tampered DG1, hostile DG2 length) are
applied after signing, as a forger or a broken chip would.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.hazmat.primitives.asymmetric import rsa

from devices.cardsim.signers import DocumentSigner, ecdsa_test_signer, rsa_pss_signer
from devices.nfc import tlv
from devices.nfc.aa import AA_INFO
from devices.nfc.pace import oid_bytes
from devices.nfc.securityinfo import BSI, PK_ECDH
from devices.nfc.sod import LDS_SECURITY_OBJECT, SOD_TAG, LdsSecurityObject
from kiosk.identity.mrz import compose_td1, compose_td3
from kiosk.settings.paths import assets_dir

PACE_GM_AES256 = f"{BSI}.4.2.4"
PACE_IM_AES256 = f"{BSI}.4.4.4"
PACE_GM_AES128 = f"{BSI}.4.2.2"
CA_ECDH_AES256 = f"{BSI}.3.2.4"
ECDSA_PLAIN = "0.4.0.127.0.7.1.1.4.1"  # ecdsa-plain-signatures (BSI TR-03111)
AaKey = rsa.RSAPrivateKey | cec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Holder:
    """A fictional person and document (the CNIe one is the public specimen's)."""

    surname: str
    given_names: str
    document_number: str
    birth: str  # YYMMDD
    expiry: str  # YYMMDD
    sex: str
    birth_place: str
    address: str
    height_cm: int


@dataclass(frozen=True)
class Profile:
    """What a simulated chip offers."""

    name: str
    holder: Holder
    can: str
    #: (PACE OID, parameter id) in EF.CardAccess order; empty for a BAC-only chip.
    pace: tuple[tuple[str, int], ...]
    bac: bool
    chip_auth: bool
    #: Largest READ BINARY answer (plaintext bytes) the chip gives.
    max_read: int
    photo_format: str  # "jp2" or "jpg"
    #: How the Document Signer signs the SOD: "ecdsa" (P-256, ``assets/test-keys``) or
    #: "rsa-pss" (RSASSA-PSS SHA-256 under an RSA CSCA made at run time, ``signers.py``).
    document_signer: str = "ecdsa"
    #: Bytes of a JPEG 2000 ``free`` box appended to the photo: a DG2 as large as a
    #: high-resolution face makes it (decoders skip the box).
    photo_padding: int = 0
    #: Active Authentication key in DG15: "" (none), "rsa" (2048 bits, ISO/IEC 9796-2 with a
    #: SHA-256 trailer) or "ecdsa" (P-256, SHA-256 named in DG14's ActiveAuthenticationInfo).
    active_auth: str = ""

    def mrz(self) -> tuple[str, ...]:
        """The MRZ lines printed on the document."""
        h = self.holder
        fields = {
            "document_number": h.document_number,
            "surname": h.surname,
            "given_names": h.given_names,
            "birth": h.birth,
            "sex": h.sex,
            "expiry": h.expiry,
        }
        if self.name.startswith("passport"):
            return compose_td3(**fields)
        return compose_td1(**fields)


CNIE = Profile(
    name="cnie",
    holder=Holder(
        "MARTIN",
        "MAELYS GAELLE MARIE",
        "X4RTBPFW4",
        "900713",
        "300211",
        "F",
        "PARIS 15E",
        "12 RUE DES LILAS<75015 PARIS",
        168,
    ),
    can="123456",
    pace=((PACE_GM_AES256, 13), (PACE_IM_AES256, 13)),
    bac=False,
    chip_auth=True,
    max_read=0xFF00,
    photo_format="jp2",
)
PASSPORT = Profile(
    name="passport",
    holder=Holder(
        "DUPONT",
        "JEAN PIERRE",
        "24FR12345",
        "850315",
        "340101",
        "M",
        "LYON",
        "3 PLACE BELLECOUR<69002 LYON",
        181,
    ),
    can="654321",
    pace=((PACE_GM_AES128, 12),),
    bac=True,
    chip_auth=False,
    max_read=0xFF00,
    photo_format="jp2",
    active_auth="rsa",
)
#: An older passport: BAC only (no EF.CardAccess), as many in circulation still are.
PASSPORT_BAC = Profile(
    name="passport-bac",
    holder=PASSPORT.holder,
    can=PASSPORT.can,
    pace=(),
    bac=True,
    chip_auth=False,
    max_read=0xFF00,
    photo_format="jpg",
)
#: A CNIe whose EF.CardAccess lists Integrated Mapping only: proves the reader's IM path end to
#: end (real CNIe offer GM too, and the reader prefers GM).
CNIE_IM = Profile(
    name="cnie-im",
    holder=CNIE.holder,
    can=CNIE.can,
    pace=((PACE_IM_AES256, 13),),
    bac=False,
    chip_auth=True,
    max_read=CNIE.max_read,
    photo_format=CNIE.photo_format,
)
#: The passport of a country whose Document Signer signs with RSASSA-PSS under an RSA CSCA (its
#: keys live only in the process that made them: trust ``signers.rsa_test_csca()``).
PASSPORT_PSS = Profile(
    name="passport-pss",
    holder=PASSPORT.holder,
    can=PASSPORT.can,
    pace=PASSPORT.pace,
    bac=True,
    chip_auth=False,
    max_read=PASSPORT.max_read,
    photo_format=PASSPORT.photo_format,
    document_signer="rsa-pss",
)
#: A CNIe with a ~60 KB DG2 and a 4 KB read buffer: the photo's end lies beyond offset 32 767,
#: where READ BINARY B0 cannot address it, and is read with B1. For the tests only, so not in
#: ``PROFILES``: the security tests expect every document there to be read in B0-sized answers.
CNIE_BIG_DG2 = Profile(
    name="cnie-big-dg2",
    holder=CNIE.holder,
    can=CNIE.can,
    pace=CNIE.pace,
    bac=False,
    chip_auth=True,
    max_read=0x1000,
    photo_format="jp2",
    photo_padding=40_000,
)
#: A passport whose Active Authentication key is ECDSA: DG14 then carries only the
#: ActiveAuthenticationInfo naming the hash (no Chip Authentication).
PASSPORT_AA_ECDSA = Profile(
    name="passport-aa-ecdsa",
    holder=PASSPORT.holder,
    can=PASSPORT.can,
    pace=PASSPORT.pace,
    bac=True,
    chip_auth=False,
    max_read=PASSPORT.max_read,
    photo_format=PASSPORT.photo_format,
    active_auth="ecdsa",
)
PROFILES = {
    "cnie": CNIE,
    "cnie-im": CNIE_IM,
    "passport": PASSPORT,
    "passport-bac": PASSPORT_BAC,
    "passport-pss": PASSPORT_PSS,
}


@dataclass
class CardFiles:
    """The chip's files and keys."""

    card_access: bytes
    files: dict[int, bytes]
    chip_auth_key: int | None
    aa_key: AaKey | None = None


def _keys_dir() -> Path:
    return assets_dir() / "test-keys"


def _facial_record(image: bytes, jp2: bool) -> bytes:
    info = bytes([1, 1 if jp2 else 0]) + (240).to_bytes(2, "big") + (320).to_bytes(2, "big")
    info += bytes([1, 2]) + b"\x00\x00" + b"\x00\x00"
    # no feature points, gender 1 (male) / eyes / hair unspecified, no mask, neutral expression
    facial = b"\x00\x00" + bytes([1, 0, 0]) + b"\x00" * 3 + b"\x00" * 2 + b"\x00" * 6
    block = facial + info + image
    face = (len(block) + 4).to_bytes(4, "big") + block
    return b"FAC\x00010\x00" + (14 + len(face)).to_bytes(4, "big") + b"\x00\x01" + face


def _dg2(profile: Profile) -> bytes:
    jp2 = profile.photo_format == "jp2"
    image = (assets_dir() / "cardsim" / ("face.jp2" if jp2 else "face.jpg")).read_bytes()
    if profile.photo_padding:
        image += (8 + profile.photo_padding).to_bytes(4, "big") + b"free"
        image += bytes(profile.photo_padding)
    header = tlv.encode(0xA1, tlv.encode(0x80, b"\x01\x01") + tlv.encode(0x87, b"\x01\x01"))
    template = tlv.encode(0x7F60, header + tlv.encode(0x5F2E, _facial_record(image, jp2)))
    return tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + template))


def _text(tag: int, value: str) -> bytes:
    return tlv.encode(tag, value.encode("utf-8"))


def _chip_key() -> cec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(
        (_keys_dir() / "chip-ca-cnie.key.pem").read_bytes(), None
    )
    assert isinstance(key, cec.EllipticCurvePrivateKey)
    return key


def _spki(key: cec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@functools.cache
def aa_key(kind: str) -> AaKey:
    """The Active Authentication key of this process's simulated chips (made at first use)."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return cec.generate_private_key(cec.SECP256R1())


def _dg14(profile: Profile) -> bytes:
    infos = b""
    if profile.chip_auth:
        ca_info = tlv.encode(0x30, tlv.encode(0x06, oid_bytes(CA_ECDH_AES256)) + b"\x02\x01\x01")
        pk = tlv.encode(0x06, oid_bytes(PK_ECDH)) + _spki(_chip_key().public_key())
        infos += tlv.encode(0x30, pk) + ca_info
    if profile.active_auth == "ecdsa":  # ActiveAuthenticationInfo: version 1, ecdsa-plain-SHA256
        body = oid_bytes(AA_INFO), b"\x02\x01\x01", oid_bytes(f"{ECDSA_PLAIN}.3")
        infos += tlv.encode(0x30, tlv.encode(0x06, body[0]) + body[1] + tlv.encode(0x06, body[2]))
    return tlv.encode(0x6E, tlv.encode(0x31, infos))


def build_groups(profile: Profile) -> dict[str, bytes]:
    """The data groups of the document, as the chip stores them."""
    h = profile.holder
    mrz = "".join(profile.mrz()).encode("ascii")
    groups = {
        "DG1": tlv.encode(0x61, tlv.encode(0x5F1F, mrz)),
        "DG2": _dg2(profile),
        "DG11": tlv.encode(
            0x6B,
            tlv.encode(0x5C, bytes.fromhex("5F0E5F2B5F115F42"))
            + _text(0x5F0E, f"{h.surname}<<{h.given_names.replace(' ', '<')}")
            + _text(0x5F2B, ("19" if int(h.birth[:2]) > 30 else "20") + h.birth)
            + _text(0x5F11, h.birth_place)
            + _text(0x5F42, h.address),
        ),
    }
    if profile.name.startswith("passport"):
        groups["DG12"] = tlv.encode(
            0x6C,
            tlv.encode(0x5C, bytes.fromhex("5F195F26"))
            + _text(0x5F19, "PREFECTURE DU RHONE")
            + _text(0x5F26, "20240102"),
        )
    else:
        groups["DG13"] = tlv.encode(0x6D, _text(0x9F01, str(h.height_cm)))
    if profile.chip_auth or profile.active_auth == "ecdsa":
        groups["DG14"] = _dg14(profile)
    if profile.active_auth:
        groups["DG15"] = tlv.encode(0x6F, _spki(aa_key(profile.active_auth).public_key()))
    return groups


def sign_sod(groups: dict[str, bytes], signer: DocumentSigner | None = None) -> bytes:
    """EF.SOD over ``groups``, signed by ``signer`` (the TEST ONLY ECDSA Document Signer)."""
    signer = signer or ecdsa_test_signer()
    hashes_list = [
        {"data_group_number": int(name[2:]), "data_group_hash_value": hashlib.sha256(v).digest()}
        for name, v in sorted(groups.items(), key=lambda kv: int(kv[0][2:]))
    ]
    lds = LdsSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": "sha256"},
            "data_group_hash_values": hashes_list,
        }
    )
    econtent = lds.dump()
    ds_cert = signer.certificate
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": [LDS_SECURITY_OBJECT]}),
            cms.CMSAttribute(
                {
                    "type": "message_digest",
                    "values": [hashlib.new(signer.digest, econtent).digest()],
                }
            ),
        ]
    )
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": ds_cert.issuer, "serial_number": ds_cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": {"algorithm": signer.digest},
            "signed_attrs": attrs,
            "signature_algorithm": signer.algorithm,
            "signature": signer.sign(attrs.dump()),
        }
    )
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": signer.digest}],
            "encap_content_info": {
                "content_type": LDS_SECURITY_OBJECT,
                "content": cms.ParsableOctetString(econtent),
            },
            "certificates": [ds_cert],
            "signer_infos": [signer_info],
        }
    )
    info = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return tlv.encode(SOD_TAG, info.dump())


def document_signer(profile: Profile) -> DocumentSigner:
    """The Document Signer of ``profile``'s documents."""
    return rsa_pss_signer() if profile.document_signer == "rsa-pss" else ecdsa_test_signer()


def _card_access(profile: Profile) -> bytes:
    infos = b"".join(
        tlv.encode(0x30, tlv.encode(0x06, oid_bytes(oid)) + b"\x02\x01\x02" + bytes([2, 1, pid]))
        for oid, pid in profile.pace
    )
    return tlv.encode(0x31, infos) if infos else b""


def build_card(
    profile: Profile,
    *,
    tampered: bool = False,
    bad_tlv: bool = False,
    com_omits: tuple[str, ...] = (),
) -> CardFiles:
    """Everything the simulated chip serves; faults are applied after signing.

    ``com_omits``: data groups left out of EF.COM (unsigned) though the chip has them, as a
    copied chip does to hide DG14.
    """
    groups = build_groups(profile)
    sod = sign_sod(groups, document_signer(profile))
    if tampered:  # a forger edits the name: TD1/TD3 check digits do not cover it, the SOD does
        surname = profile.holder.surname.encode()
        groups["DG1"] = groups["DG1"].replace(surname, surname[:-1] + b"Y", 1)
    if bad_tlv:  # a length field claiming 2 GiB in front of the photo
        groups["DG2"] = b"\x75\x84\x7f\xff\xff\xff" + groups["DG2"][4:]
    tags = bytes(
        {
            "DG1": 0x61,
            "DG2": 0x75,
            "DG11": 0x6B,
            "DG12": 0x6C,
            "DG13": 0x6D,
            "DG14": 0x6E,
            "DG15": 0x6F,
        }[n]
        for n in groups
        if n not in com_omits
    )
    from devices.nfc.lds import FILES

    com = tlv.encode(0x60, _text(0x5F01, "0108") + _text(0x5F36, "040000") + tlv.encode(0x5C, tags))

    files = {FILES[name][0]: data for name, data in groups.items()}
    files[FILES["COM"][0]] = com
    files[FILES["SOD"][0]] = sod
    key = _chip_key().private_numbers().private_value if profile.chip_auth else None
    aa = aa_key(profile.active_auth) if profile.active_auth else None
    return CardFiles(_card_access(profile), files, key, aa)
