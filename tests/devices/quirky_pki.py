"""A test PKI with the quirks real documents and master lists carry (TEST ONLY, made at run time).

ECDSA P-256 CSCAs and Document Signers built with ``cryptography``, then edited with asn1crypto
to write what cryptography's builder will not: ECDSA algorithm identifiers with NULL parameters
(several countries' CSCAs and DS certificates), a DS public key with explicit curve parameters
instead of the curve's name, a private-key usage period. Also the master lists (CMS SignedData
of ICAO 9303-12 §9), the CRLs and the EF.SOD (with its signing time) that go with them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from asn1crypto import algos, cms, core, keys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa import curves

from devices.nfc import tlv
from devices.nfc.sod import (
    CSCA_MASTER_LIST,
    LDS_SECURITY_OBJECT,
    SOD_TAG,
    CscaMasterList,
    LdsSecurityObject,
)

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
ECDSA_SHA256 = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
#: The quirk: ecdsa-with-SHA256 followed by a NULL, which RFC 5758 §3.2 says must be absent.
ECDSA_SHA256_NULL = algos.SignedDigestAlgorithm(
    {"algorithm": "sha256_ecdsa", "parameters": core.Null()}
)


@dataclass(frozen=True)
class Party:
    """A certificate and the private key of its subject."""

    certificate: ax509.Certificate
    key: ec.EllipticCurvePrivateKey
    name: x509.Name

    @property
    def der(self) -> bytes:
        return bytes(self.certificate.dump())


def party(
    cn: str,
    issuer: Party | None = None,
    *,
    serial: int = 1,
    not_before: dt.datetime = START,
    not_after: dt.datetime = START + dt.timedelta(days=15 * 365),
    private_key_usage: tuple[dt.datetime, dt.datetime] | None = None,
    null_params: bool = False,
    explicit_curve: bool = False,
    brainpool: bool = False,
) -> Party:
    """A CSCA (``issuer`` None: self-signed) or a certificate ``issuer`` signed."""
    key = ec.generate_private_key(ec.BrainpoolP256R1() if brainpool else ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "UT"),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, cn),
        ]
    )
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.name if issuer else name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if private_key_usage:
        period = ax509.PrivateKeyUsagePeriod(
            {
                "not_before": core.GeneralizedTime(private_key_usage[0]),
                "not_after": core.GeneralizedTime(private_key_usage[1]),
            }
        )
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.16"), period.dump()),
            critical=False,
        )
    built = builder.sign(signer_key, hashes.SHA256())
    certificate = ax509.Certificate.load(built.public_bytes(serialization.Encoding.DER))
    tbs = certificate["tbs_certificate"]
    if explicit_curve:
        tbs["subject_public_key_info"] = _explicit(tbs["subject_public_key_info"], brainpool)
    algorithm = ECDSA_SHA256_NULL if null_params else ECDSA_SHA256
    tbs["signature"] = algorithm
    signature = signer_key.sign(tbs.dump(force=True), ec.ECDSA(hashes.SHA256()))
    return Party(
        ax509.Certificate(
            {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
        ),
        key,
        name,
    )


def _explicit(spki: keys.PublicKeyInfo, brainpool: bool) -> keys.PublicKeyInfo:
    """The same key with its curve's explicit domain parameters (RFC 3279 §2.3.5)."""
    curve = curves.BRAINPOOLP256r1 if brainpool else curves.NIST256p
    size = 32
    g = curve.generator
    domain = keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": curve.curve.p()},
            "curve": {
                "a": (curve.curve.a() % curve.curve.p()).to_bytes(size, "big"),
                "b": curve.curve.b().to_bytes(size, "big"),
            },
            "base": b"\x04" + g.x().to_bytes(size, "big") + g.y().to_bytes(size, "big"),
            "order": curve.order,
            "cofactor": 1,
        }
    )
    return keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("specified", domain)},
            "public_key": spki["public_key"],
        }
    )


def _signed_data(
    content_type: str,
    content: bytes,
    signer: Party,
    signing_time: dt.datetime | None,
) -> cms.ContentInfo:
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": [content_type]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
    ]
    if signing_time is not None:
        attributes.append(
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}
            )
        )
    attrs = cms.CMSAttributes(attributes)
    certificate = signer.certificate
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
                    )
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": ECDSA_SHA256,
            "signature": signer.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256())),
        }
    )
    return cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": "v3",
                    "digest_algorithms": [{"algorithm": "sha256"}],
                    "encap_content_info": {
                        "content_type": content_type,
                        "content": core.ParsableOctetString(content),
                    },
                    "certificates": [certificate],
                    "signer_infos": [signer_info],
                }
            ),
        }
    )


def master_list(certificates: list[ax509.Certificate], signer: Party) -> bytes:
    """An ICAO master list of ``certificates``, signed by ``signer``."""
    content = CscaMasterList({"version": 0, "cert_list": certificates})
    return bytes(_signed_data(CSCA_MASTER_LIST, content.dump(), signer, None).dump())


def sod(groups: dict[str, bytes], signer: Party, signing_time: dt.datetime | None = None) -> bytes:
    """EF.SOD over ``groups`` signed by ``signer``, with ``signing_time`` when given."""
    lds = LdsSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": "sha256"},
            "data_group_hash_values": [
                {
                    "data_group_number": int(n[2:]),
                    "data_group_hash_value": hashlib.sha256(v).digest(),
                }
                for n, v in sorted(groups.items())
            ],
        }
    )
    info = _signed_data(LDS_SECURITY_OBJECT, lds.dump(), signer, signing_time).dump()
    return tlv.encode(SOD_TAG, info)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def crl(issuer: Party, revoked: dict[int, x509.ReasonFlags], when: dt.datetime) -> bytes:
    """A CRL of ``issuer`` revoking these serial numbers for these reasons (DER)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.name)
        .last_update(when)
        .next_update(when + dt.timedelta(days=90))
    )
    for serial, reason in revoked.items():
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(when)
            .add_extension(x509.CRLReason(reason), critical=False)
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
