"""Passive Authentication (ICAO 9303 Part 11 §5.1) and the CSCA trust store.

Three checks: every data group read hashes to the value in the SOD; the SOD's CMS signature
verifies with the Document Signer (DS) certificate it carries; the DS certificate was signed by
a CSCA in our trust store. A failed hash or signature means FALSIFIE; a DS whose CSCA we do not
know means NON_VERIFIE (nothing contradicts the data, but nothing proves it either).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from devices.nfc.sod import CSCA_MASTER_LIST, CscaMasterList, LdsSecurityObject, signed_data
from kiosk.identity.errors import UnknownCsca
from kiosk.identity.model import Verdict

log = logging.getLogger(__name__)
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303 - older passports still sign with SHA-1
    "sha224": hashes.SHA224(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
DG_NUMBERS = {f"DG{i}": i for i in range(1, 17)}


class TrustStore:
    """CSCA certificates the kiosk trusts, from PEM/DER files and ICAO master lists."""

    def __init__(self, certificates: Iterable[x509.Certificate] = ()) -> None:
        self.certificates = list(certificates)

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> TrustStore:
        """Load every ``.pem``, ``.crt``, ``.cer``, ``.der`` and ``.ml`` file in files/folders.

        A master list's own signature is not checked: the file is provisioned by the préfecture
        like any other trust anchor.
        """
        certs: list[x509.Certificate] = []
        for path in paths:
            files = sorted(path.iterdir()) if path.is_dir() else [path]
            for file in files:
                suffix = file.suffix.lower()
                raw = (
                    file.read_bytes() if suffix in {".pem", ".crt", ".cer", ".der", ".ml"} else b""
                )
                if not raw:
                    continue
                if suffix == ".ml":
                    certs.extend(master_list_certificates(raw))
                elif b"-----BEGIN" in raw:
                    certs.extend(x509.load_pem_x509_certificates(raw))
                else:
                    certs.append(x509.load_der_x509_certificate(raw))
        return cls(certs)

    def issuers_of(self, certificate: x509.Certificate) -> list[x509.Certificate]:
        """Trusted certificates whose subject is ``certificate``'s issuer."""
        return [c for c in self.certificates if c.subject == certificate.issuer]


def master_list_certificates(raw: bytes) -> list[x509.Certificate]:
    """The CSCA certificates of an ICAO master list (CMS SignedData)."""
    data = signed_data(raw)
    content = data["encap_content_info"]
    if content["content_type"].dotted != CSCA_MASTER_LIST:
        raise ValueError("ce fichier n'est pas une liste maîtresse CSCA de l'OACI")
    ml = CscaMasterList.load(bytes(content["content"].contents))
    return [x509.load_der_x509_certificate(c.dump()) for c in ml["cert_list"]]


@dataclass(frozen=True)
class PassiveResult:
    """The outcome of Passive Authentication, with a French reason for the agent."""

    verdict: Verdict
    reason: str
    hashes_checked: list[str] = field(default_factory=list)


def _verify_signature(cert: x509.Certificate, signature: bytes, data: bytes, algo: str) -> None:
    key = cert.public_key()
    digest = _HASHES.get(algo.split("_", maxsplit=1)[0], hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(digest))
    elif isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), digest)
    else:
        raise InvalidSignature("unsupported key")


def verify(sod: bytes, groups: dict[str, bytes], trust: TrustStore) -> PassiveResult:
    """Passive Authentication of the data groups read against the SOD."""
    try:
        data = signed_data(sod)
        content = data["encap_content_info"]
        econtent = bytes(content["content"].contents)
        lds = LdsSecurityObject.load(econtent)
        algo = lds["hash_algorithm"]["algorithm"].native
        if algo not in _HASHES:  # ICAO 9303 hashes only (an unknown OID, SHAKE: no digest)
            raise ValueError(algo)
        expected = {
            int(h["data_group_number"].native): bytes(h["data_group_hash_value"].native)
            for h in lds["data_group_hash_values"]
        }
        signer: cms.SignerInfo = data["signer_infos"][0]
        ds = x509.load_der_x509_certificate(data["certificates"][0].chosen.dump())
        _ = ds.issuer, ds.subject  # parsed lazily by cryptography: a malformed name fails here
    except (ValueError, TypeError, KeyError, IndexError, x509.InvalidVersion) as exc:
        log.info("SOD unreadable: %s", type(exc).__name__)
        return PassiveResult(
            Verdict.FALSIFIE, "Falsifié : le document de sécurité (SOD) de la puce est illisible."
        )

    checked = []
    for name, raw in groups.items():
        number = DG_NUMBERS[name]
        digest = hashlib.new(algo, raw).digest()
        if number not in expected or not hmac.compare_digest(expected[number], digest):
            return PassiveResult(
                Verdict.FALSIFIE,
                f"Falsifié : les données {name} de la puce ne correspondent pas à leur empreinte "
                "signée par l'État émetteur ; elles ont été modifiées.",
            )
        checked.append(name)

    try:
        attrs = signer["signed_attrs"]
        signed = econtent
        if attrs.native:
            digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
            sig_algo = signer["digest_algorithm"]["algorithm"].native
            if not digests or digests[0] != hashlib.new(sig_algo, econtent).digest():
                raise InvalidSignature("message digest")
            signed = b"\x31" + attrs.dump()[1:]  # signed over the SET OF, not the [0] tag
        _verify_signature(
            ds, bytes(signer["signature"].native), signed, signer["signature_algorithm"].hash_algo
        )
    except UnsupportedAlgorithm:
        return PassiveResult(
            Verdict.NON_VERIFIE,
            "Non vérifié : la signature du document de sécurité utilise un algorithme que la "
            "borne ne sait pas vérifier.",
            checked,
        )
    except (InvalidSignature, ValueError, TypeError, KeyError, IndexError) as exc:
        log.info("SOD signature invalid: %s", type(exc).__name__)
        return PassiveResult(
            Verdict.FALSIFIE,
            "Falsifié : la signature du document de sécurité de la puce est invalide.",
            checked,
        )

    try:
        csca = _chain(ds, trust)
    except UnknownCsca as exc:
        return PassiveResult(
            Verdict.NON_VERIFIE,
            f"Non vérifié : {exc.message[:1].lower()}{exc.message[1:]}",
            checked,
        )
    except InvalidSignature:
        return PassiveResult(
            Verdict.FALSIFIE,
            "Falsifié : le certificat du signataire n'a pas été émis par l'autorité qu'il cite.",
            checked,
        )
    authority = _common_name(csca)
    return PassiveResult(
        Verdict.AUTHENTIQUE,
        f"Authentique : données signées par l'autorité « {authority} » et intactes "
        f"({', '.join(checked)}).",
        checked,
    )


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _chain(ds: x509.Certificate, trust: TrustStore) -> x509.Certificate:
    candidates = trust.issuers_of(ds)
    if not candidates:
        issuer = ds.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        raise UnknownCsca(str(issuer[0].value) if issuer else ds.issuer.rfc4514_string())
    for csca in candidates:
        try:
            ds.verify_directly_issued_by(csca)
            return csca
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            continue
    raise InvalidSignature("no candidate CSCA signed the DS certificate")
