"""Passive Authentication (ICAO 9303 Part 11 §5.1) and the CSCA trust store.

Three checks: every data group read hashes to the value in the SOD; the SOD's CMS signature
verifies with the Document Signer (DS) certificate it carries; the DS certificate was signed by
a CSCA in our trust store. Both signatures go through ``signature.verify`` (ECDSA, RSA PKCS#1
v1.5, RSASSA-PSS with its parameters). A failed hash or signature means FALSIFIE; a DS whose
CSCA we do not know, or a signature algorithm or parameter the kiosk does not know, means
NON_VERIFIE (nothing contradicts the data, but nothing proves it either).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from asn1crypto import algos, cms
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from devices.nfc import signature
from devices.nfc.signature import UnsupportedSignature
from devices.nfc.sod import LdsSecurityObject, signed_data
from devices.nfc.trust import TrustStore, master_list_certificates
from kiosk.identity.errors import UnknownCsca
from kiosk.identity.model import Verdict

log = logging.getLogger(__name__)
__all__ = ["PassiveResult", "TrustStore", "master_list_certificates", "verify"]
DG_NUMBERS = {f"DG{i}": i for i in range(1, 17)}


@dataclass(frozen=True)
class PassiveResult:
    """The outcome of Passive Authentication, with a French reason for the agent."""

    verdict: Verdict
    reason: str
    hashes_checked: list[str] = field(default_factory=list)


def verify(sod: bytes, groups: dict[str, bytes], trust: TrustStore) -> PassiveResult:
    """Passive Authentication of the data groups read against the SOD."""
    try:
        data = signed_data(sod)
        content = data["encap_content_info"]
        econtent = bytes(content["content"].contents)
        lds = LdsSecurityObject.load(econtent)
        algo = lds["hash_algorithm"]["algorithm"].native
        if algo not in signature.HASHES:  # ICAO 9303 hashes only (an unknown OID, SHAKE: no digest)
            raise ValueError(algo)
        expected = {
            int(h["data_group_number"].native): bytes(h["data_group_hash_value"].native)
            for h in lds["data_group_hash_values"]
        }
        signer: cms.SignerInfo = data["signer_infos"][0]
        ds = _document_signer(data)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
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
        signature.verify_signer_info(signer, econtent, signature.public_key(ds.public_key))
    except (UnsupportedAlgorithm, UnsupportedSignature) as exc:
        detail = f" ({exc.reason})" if isinstance(exc, UnsupportedSignature) else ""
        return PassiveResult(
            Verdict.NON_VERIFIE,
            "Non vérifié : la signature du document de sécurité utilise un algorithme que la "
            f"borne ne sait pas vérifier{detail}.",
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
    except UnsupportedSignature as exc:
        return PassiveResult(
            Verdict.NON_VERIFIE,
            "Non vérifié : la signature du certificat du signataire par l'autorité du pays "
            f"utilise un algorithme que la borne ne sait pas vérifier ({exc.reason}).",
            checked,
        )
    except InvalidSignature:
        return PassiveResult(
            Verdict.FALSIFIE,
            "Falsifié : le certificat du signataire n'a pas été émis par l'autorité qu'il cite.",
            checked,
        )
    objection = _objection(ds, signer, trust)
    if objection:
        return PassiveResult(Verdict.NON_VERIFIE, f"Non vérifié : {objection}", checked)
    authority = _common_name(csca)
    return PassiveResult(
        Verdict.AUTHENTIQUE,
        f"Authentique : données signées par l'autorité « {authority} » et intactes "
        f"({', '.join(checked)}).",
        checked,
    )


def _objection(ds: ax509.Certificate, signer: cms.SignerInfo, trust: TrustStore) -> str | None:
    """Why a DS certificate its CSCA did sign cannot vouch for this document, if it cannot.

    A revoked DS (its CSCA's CRL in the trust folder lists it), or a SOD whose signing time
    falls outside the DS certificate's validity or its private-key usage period (2.5.29.16):
    the chain is genuine, but the key may have been used when it should not have been. Not
    « falsifié »: nothing shows the document was altered.
    """
    revoked = trust.revocation(ds)
    if revoked is not None:
        return (
            f"le certificat du signataire de ce document a été révoqué par l'autorité du pays le "
            f"{revoked.date:%d/%m/%Y} (motif : {revoked.reason})"
        )
    try:
        times = [
            a["values"][0].native
            for a in signer["signed_attrs"]
            if a["type"].native == "signing_time"
        ]
        validity = ds["tbs_certificate"]["validity"]
        windows = [(validity["not_before"].native, validity["not_after"].native, "validité")]
        usage = ds.private_key_usage_period_value
    except (ValueError, TypeError, KeyError):
        return "la date de signature ou les dates du certificat du signataire sont illisibles"
    if usage is not None:
        windows.append(
            (usage["not_before"].native, usage["not_after"].native, "période d'usage de la clé")
        )
    for signed_at in times:
        if not isinstance(signed_at, dt.datetime):
            continue
        for start, end, what in windows:
            if (start and signed_at < start) or (end and signed_at > end):
                first = f"{start:%d/%m/%Y}" if start else "…"
                last = f"{end:%d/%m/%Y}" if end else "…"
                return (
                    f"le document a été signé le {signed_at:%d/%m/%Y}, hors de la {what} du "
                    f"certificat du signataire (du {first} au {last})"
                )
    return None


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _document_signer(data: cms.SignedData) -> ax509.Certificate:
    """The Document Signer certificate the SOD carries, read as far as Passive Authentication
    uses it.

    Read with asn1crypto, not cryptography's X.509 loader: that loader warns about what RFC 5280
    forbids but documents still carry (a serial number that is not positive, a country name
    that is not two letters, a common name over 64 characters) and means to refuse the first
    in a coming release. Such a certificate is no forgery when its CSCA signed it: the
    signatures decide the verdict, not the certificate profile, whatever cryptography's version.

    Raises:
        ValueError, TypeError, KeyError, IndexError: the certificate is missing or unreadable
            (asn1crypto parses lazily: the fields used later are read here).
    """
    ds = data["certificates"][0].chosen
    if not isinstance(ds, ax509.Certificate):
        raise TypeError("the SOD carries no X.509 certificate")
    tbs = ds["tbs_certificate"]
    if tbs["version"].native not in ("v1", "v2", "v3"):  # RFC 5280 §4.1.2.1
        raise ValueError("unknown certificate version")
    _ = tbs["serial_number"].native, ds.issuer.hashable, ds.subject.native
    _ = ds.public_key.dump(), bytes(ds["signature_value"].native)
    return ds


def _chain(ds: ax509.Certificate, trust: TrustStore) -> x509.Certificate:
    """The trusted CSCA that signed ``ds``, checked by ``signature.verify`` like the SOD.

    Not cryptography's ``verify_directly_issued_by``: it verifies RSASSA-PSS too, but takes
    absent parameters and an unknown mask generation function for a bad signature (ValueError),
    and accepts a trailer field RFC 4055 forbids; one function keeps one set of rules.

    Raises:
        UnknownCsca: no trusted certificate has the DS's issuer as its subject.
        UnsupportedSignature: the DS certificate's signature uses what the kiosk does not know.
        InvalidSignature: no candidate CSCA signed it.
    """
    candidates = trust.issuers_of(ds.issuer)
    if not candidates:
        raise UnknownCsca(_issuer_name(ds.issuer))
    try:
        algorithm: algos.SignedDigestAlgorithm = ds["signature_algorithm"]
        inside = ds["tbs_certificate"]["signature"].dump()
    except (ValueError, TypeError, KeyError) as exc:  # asn1crypto parses lazily
        raise InvalidSignature("DS certificate signature algorithm unreadable") from exc
    if inside != algorithm.dump():  # the signed copy must say the same (RFC 5280 §4.1.1.2)
        raise InvalidSignature("signature algorithm outside the TBS differs from the one inside")
    unsupported: UnsupportedSignature | None = None
    for csca in candidates:
        try:
            key = csca.public_key()
            signed = ds["tbs_certificate"].dump()  # the bytes as received: nothing was changed
            signature.verify(key, bytes(ds["signature_value"].native), signed, algorithm)
        except UnsupportedSignature as exc:
            unsupported = exc
        except UnsupportedAlgorithm:  # a CSCA key cryptography cannot load (explicit curve …)
            unsupported = UnsupportedSignature("clé de l'autorité du pays d'un type inconnu")
        except (InvalidSignature, ValueError, TypeError, KeyError):
            continue
        else:
            return csca
    if unsupported is not None:
        raise unsupported
    raise InvalidSignature("no candidate CSCA signed the DS certificate")


def _issuer_name(name: ax509.Name) -> str:
    """The issuer's common name (its first), or the whole name when it has none."""
    for rdn in name.chosen:
        for attribute in rdn:
            if attribute["type"].native == "common_name":
                return str(attribute["value"].native)
    return str(name.human_friendly)
