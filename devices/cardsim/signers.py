"""Document Signers of the simulated documents (TEST ONLY): who signs an EF.SOD, and how.

``ecdsa_test_signer`` is the Document Signer of ``assets/test-keys`` (P-256 under the TEST
CSCA), used by every profile unless it says otherwise. The RSA signers sign as several
countries' passports do: RSASSA-PSS (ICAO 9303-12, RFC 4055) or PKCS#1 v1.5, with a DS
certificate itself signed with RSASSA-PSS by an RSA CSCA. Those RSA keys are made at run time,
once per process, and written nowhere: only the process that made them can trust them (a test
adds ``rsa_test_csca()`` to its trust store).

``Pss`` describes the parameters a signer writes, including ones no verifier should accept (an
unknown mask generation function, a trailer field other than 1), so that tests can build them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import algos
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from kiosk.settings.paths import assets_dir

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha3_256": hashes.SHA3_256,  # no eMRTD uses it: to test a verifier's refusal
}
MGF1 = "1.2.840.113549.1.1.8"


@dataclass(frozen=True)
class DocumentSigner:
    """A Document Signer: its certificate, what its SignerInfo says, and how it signs."""

    certificate: ax509.Certificate
    #: The SignerInfo's signatureAlgorithm.
    algorithm: algos.SignedDigestAlgorithm
    #: The SignerInfo's digestAlgorithm (hash of the signed content and of the attributes).
    digest: str
    sign: Callable[[bytes], bytes]


@dataclass(frozen=True)
class Pss:
    """RSASSA-PSS as a signer writes it; fields equal to RFC 4055's defaults are left out.

    The signature itself is always made with MGF1 and the hashes and salt given here, whatever
    ``mgf_oid`` and ``trailer`` claim (those two exist to test a verifier's refusal).
    """

    hash_name: str = "sha256"
    mgf_hash: str = "sha256"
    salt_length: int = 32
    mgf_oid: str = MGF1
    trailer: int = 1

    def algorithm(self) -> algos.SignedDigestAlgorithm:
        """The AlgorithmIdentifier id-RSASSA-PSS with these parameters."""
        mgf_params = algos.DigestAlgorithm({"algorithm": self.mgf_hash})
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": {"algorithm": self.hash_name},
                "mask_gen_algorithm": {"algorithm": self.mgf_oid, "parameters": mgf_params},
                "salt_length": self.salt_length,
                "trailer_field": self.trailer,
            }
        )
        return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})

    def sign(self, key: rsa.RSAPrivateKey, data: bytes) -> bytes:
        """RSASSA-PSS signature of ``data``."""
        mgf = padding.MGF1(_HASHES[self.mgf_hash]())
        return key.sign(data, padding.PSS(mgf, self.salt_length), _HASHES[self.hash_name]())


#: RFC 4055's defaults: encoded as an empty SEQUENCE.
PSS_DEFAULTS = Pss("sha1", "sha1", 20)


def ecdsa_test_signer() -> DocumentSigner:
    """The TEST ONLY Document Signer of ``assets/test-keys`` (ECDSA P-256 with SHA-256)."""
    keys = assets_dir() / "test-keys"
    pem = (keys / "ds.pem").read_bytes()
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    key = serialization.load_pem_private_key((keys / "ds.key.pem").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return DocumentSigner(
        ax509.Certificate.load(der),
        algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "sha256",
        lambda data: key.sign(data, ec.ECDSA(hashes.SHA256())),
    )


def rsa_pss_signer(sod: Pss | None = None, certificate: Pss | None = None) -> DocumentSigner:
    """An RSA Document Signer signing the SOD with RSASSA-PSS ``sod``.

    Its certificate is signed by the RSA test CSCA with RSASSA-PSS ``certificate``. Both
    default to SHA-256, MGF1 with SHA-256 and a 32-byte salt.
    """
    sod = sod or Pss()
    return DocumentSigner(
        rsa_ds_certificate(certificate or Pss()),
        sod.algorithm(),
        sod.hash_name,
        functools.partial(sod.sign, _rsa_key("ds")),
    )


def rsa_pkcs1_signer(*, bare_oid: bool = False) -> DocumentSigner:
    """An RSA Document Signer signing the SOD with PKCS#1 v1.5 and SHA-256.

    ``bare_oid``: the SignerInfo names rsaEncryption (the key type) instead of
    sha256WithRSAEncryption, as many CMS libraries write it; the hash is then the digest's.
    """
    key = _rsa_key("ds")
    return DocumentSigner(
        rsa_ds_certificate(Pss()),
        algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15" if bare_oid else "sha256_rsa"}),
        "sha256",
        lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
    )


def rsa_test_csca() -> x509.Certificate:
    """The RSA test CSCA of this process (self-signed with RSASSA-PSS, SHA-256)."""
    return _rsa_csca()


@functools.cache
def _rsa_key(role: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "point-numérique TEST"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


_CSCA_NAME = "CSCA RSA TEST point-numérique — NE PAS UTILISER"
_START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@functools.cache
def _rsa_csca() -> x509.Certificate:
    key = _rsa_key("csca")
    name = _name(_CSCA_NAME)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_START)
        .not_valid_after(_START + dt.timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256(), rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), 32))
    )


@functools.cache
def rsa_ds_certificate(declared: Pss, signed_with: Pss | None = None) -> ax509.Certificate:
    """The RSA DS certificate, signed by the RSA test CSCA with RSASSA-PSS.

    Its signature algorithm says ``declared``; the signature is made with ``signed_with``
    (by default, as declared). Built by cryptography, then its signature algorithm and signature
    are replaced with asn1crypto: cryptography's builder writes neither SHA-1 nor parameters a
    verifier refuses.
    """
    built = (
        x509.CertificateBuilder()
        .subject_name(_name("DS RSA TEST point-numérique — NE PAS UTILISER"))
        .issuer_name(_name(_CSCA_NAME))
        .public_key(_rsa_key("ds").public_key())
        .serial_number(2)
        .not_valid_before(_START)
        .not_valid_after(_START + dt.timedelta(days=15 * 365))
        .sign(_rsa_key("csca"), hashes.SHA256())
    )
    certificate = ax509.Certificate.load(built.public_bytes(serialization.Encoding.DER))
    tbs = certificate["tbs_certificate"]
    tbs["signature"] = declared.algorithm()
    signature = (signed_with or declared).sign(_rsa_key("csca"), tbs.dump(force=True))
    return ax509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": declared.algorithm(),
            "signature_value": signature,
        }
    )


def rsa_ds_certificate_edited(edit: Callable[[ax509.TbsCertificate], None]) -> ax509.Certificate:
    """The RSA DS certificate after ``edit`` of its signed part, signed again by the RSA test CSCA.

    A certificate its CSCA really issued, with what cryptography's builder refuses to write and
    documents still carry: a serial number that is not positive, a country name that is not two
    letters. The signature is RSASSA-PSS with SHA-256, like ``rsa_ds_certificate``'s.
    """
    tbs = ax509.TbsCertificate.load(rsa_ds_certificate(Pss())["tbs_certificate"].dump())
    edit(tbs)
    return ax509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": Pss().algorithm(),
            "signature_value": Pss().sign(_rsa_key("csca"), tbs.dump(force=True)),
        }
    )
