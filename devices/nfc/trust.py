"""The trust store: CSCA certificates, ICAO master lists and CRLs from the trust folder.

Every format docs/identity.md names is read: certificates (``.pem`` — one or several —,
``.crt``, ``.cer``, ``.der``), master lists (``.ml``, CMS SignedData of ICAO 9303-12 §9) and
certificate revocation lists (``.crl``, DER or PEM). Nothing odd in one file loses the rest:
what cannot be used is skipped and said, in French, in ``TrustStore.problems`` (the CLI prints
them, the kiosk logs them).

Certificates cryptography refuses for a quirk several countries' CSCAs carry are made usable
rather than skipped: an ECDSA algorithm identifier with NULL parameters (RFC 5758 §3.2 says
absent) has them removed, and an EC key with explicit curve parameters is renamed to its curve.
A trust anchor's own self-signature is not used (its key and name are what a chain needs), so
the edit changes nothing the kiosk checks.

A master list is trusted only when its signature verifies and its signer's certificate was
issued by a CSCA already in the store (from a certificate file, or from a master list verified
before): a list cannot vouch for itself. A CRL counts only when its CSCA signed it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos, cms, pem
from asn1crypto import crl as acrl
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.nfc import signature
from devices.nfc.signature import UnsupportedSignature
from devices.nfc.sod import CSCA_MASTER_LIST, CscaMasterList, signed_data

log = logging.getLogger(__name__)
CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})
MASTER_LIST_SUFFIX = ".ml"
CRL_SUFFIX = ".crl"
#: RFC 5280 §5.3.1 reason codes, as the agent reads them.
_REASONS = {
    "unspecified": "non précisé",
    "key_compromise": "clé compromise",
    "ca_compromise": "autorité compromise",
    "affiliation_changed": "rattachement modifié",
    "superseded": "remplacé",
    "cessation_of_operation": "cessation d'activité",
    "certificate_hold": "suspendu",
    "remove_from_crl": "retiré de la liste",
    "privilege_withdrawn": "privilège retiré",
    "aa_compromise": "autorité d'attributs compromise",
}


@dataclass(frozen=True)
class Revocation:
    """A Document Signer certificate a CSCA revoked."""

    date: dt.date
    reason: str  # French, from the CRL's reason code


class TrustStore:
    """CSCA certificates the kiosk trusts, the revocations their CRLs list, and what was skipped."""

    def __init__(
        self,
        certificates: Iterable[x509.Certificate] = (),
        *,
        revoked: dict[tuple[str, int], Revocation] | None = None,
        problems: Iterable[str] = (),
    ) -> None:
        self.certificates = list(certificates)
        self.revoked = dict(revoked or {})
        #: French sentences, one per file or certificate that could not be used.
        self.problems = list(problems)
        self._subject_cache: list[str | None] | None = None

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> TrustStore:
        """Load every certificate, master list and CRL in these files and folders."""
        files: list[Path] = []
        for path in paths:
            files.extend(
                sorted(f for f in path.iterdir() if f.is_file()) if path.is_dir() else [path]
            )
        store = cls()
        by_kind: dict[str, list[Path]] = {"cert": [], "ml": [], "crl": []}
        for file in files:
            suffix = file.suffix.lower()
            if suffix in CERTIFICATE_SUFFIXES:
                by_kind["cert"].append(file)
            elif suffix == MASTER_LIST_SUFFIX:
                by_kind["ml"].append(file)
            elif suffix == CRL_SUFFIX:
                by_kind["crl"].append(file)
        for file in by_kind["cert"]:
            for index, der in enumerate(_ders(file.read_bytes()), start=1):
                store._add(der, f"{file.name}, certificat n° {index}")
        store._add_master_lists(by_kind["ml"])
        for file in by_kind["crl"]:
            store._add_crl(file)
        for problem in store.problems:
            log.warning("magasin de confiance : %s", problem)
        return store

    def issuers_of(self, issuer: ax509.Name) -> list[x509.Certificate]:
        """Trusted certificates whose subject is ``issuer``.

        Names compare as RFC 5280 §7.1 says (case and inner spaces folded, whatever the string
        type), so a DS certificate whose issuer is encoded otherwise than its CSCA's subject
        still finds it; the signature then decides.
        """
        wanted = issuer.hashable
        return [
            c
            for c, subject in zip(self.certificates, self._subjects(), strict=True)
            if subject == wanted
        ]

    def revocation(self, certificate: ax509.Certificate) -> Revocation | None:
        """The revocation of ``certificate`` by its issuer's CRL, if one lists it."""
        return self.revoked.get((certificate.issuer.hashable, int(certificate.serial_number)))

    def _subjects(self) -> list[str | None]:
        # Read once per content (a master list holds hundreds of CSCAs; loading adds to it).
        if self._subject_cache is None or len(self._subject_cache) != len(self.certificates):
            self._subject_cache = _subjects(self.certificates)
        return self._subject_cache

    def _add(self, der: bytes, where: str) -> bool:
        try:
            self.certificates.append(usable_certificate(der))
        except (ValueError, TypeError, KeyError, UnsupportedSignature) as exc:
            detail = exc.reason if isinstance(exc, UnsupportedSignature) else "illisible"
            with contextlib.suppress(ValueError, TypeError, KeyError):  # else its place says
                where += f" ({_common_name(ax509.Certificate.load(der))})"
            self.problems.append(f"{where} ignoré : {detail}")
            return False
        return True

    def _add_master_lists(self, files: list[Path]) -> None:
        pending: dict[Path, tuple[list[bytes], ax509.Certificate]] = {}
        for file in files:
            try:
                pending[file] = _read_master_list(file.read_bytes())
            except (ValueError, TypeError, KeyError, IndexError, InvalidSignature) as exc:
                self.problems.append(
                    f"{file.name} ignoré : ce n'est pas une liste maîtresse CSCA lisible ({exc})"
                )
            except UnsupportedSignature as exc:
                self.problems.append(
                    f"{file.name} ignoré : signature non vérifiable ({exc.reason})"
                )
        progress = True
        while pending and progress:  # a list may be signed by a CSCA another list brings
            progress = False
            for file, (certificates, signer) in list(pending.items()):
                if self._issued_here(signer):
                    del pending[file]
                    progress = True
                    for index, der in enumerate(certificates, start=1):
                        self._add(der, f"{file.name}, certificat n° {index}")
        for file, (_, signer) in pending.items():
            self.problems.append(
                f"{file.name} ignoré : le signataire de la liste maîtresse "
                f"({_common_name(signer)}) "
                "n'a pas été émis par une autorité (CSCA) déjà dans le magasin de confiance ; "
                "ajoutez le certificat CSCA du pays qui publie la liste"
            )

    def _issued_here(self, certificate: ax509.Certificate) -> bool:
        for csca in self.issuers_of(certificate.issuer):
            try:
                signature.verify(
                    csca.public_key(),
                    bytes(certificate["signature_value"].native),
                    certificate["tbs_certificate"].dump(),
                    certificate["signature_algorithm"],
                )
            except (InvalidSignature, UnsupportedSignature, ValueError, TypeError, KeyError):
                continue
            return True
        return False

    def _add_crl(self, file: Path) -> None:
        self.add_crl(file.read_bytes(), file.name)

    def add_crl(self, raw: bytes, name: str) -> None:
        """Add the revocations of a CRL (DER or PEM) its CSCA in this store signed."""
        try:
            if pem.detect(raw):
                raw = pem.unarmor(raw)[2]
            crl = acrl.CertificateList.load(raw)
            tbs = crl["tbs_cert_list"]
            issuer = tbs["issuer"]
            entries = list(tbs["revoked_certificates"] or [])
            _ = crl.signature, [e["user_certificate"].native for e in entries]
        except (ValueError, TypeError, KeyError) as exc:
            self.problems.append(f"{name} ignoré : liste de révocation illisible ({exc})")
            return
        for csca in self.issuers_of(issuer):
            try:
                signature.verify(
                    csca.public_key(), crl.signature, tbs.dump(), crl["signature_algorithm"]
                )
            except (InvalidSignature, UnsupportedSignature, ValueError, TypeError, KeyError):
                continue
            for entry in entries:
                when = entry["revocation_date"].native
                reason = entry.crl_reason_value
                self.revoked[(issuer.hashable, int(entry["user_certificate"].native))] = Revocation(
                    when.date() if isinstance(when, dt.datetime) else when,
                    _REASONS.get(str(reason.native), "non précisé") if reason else "non précisé",
                )
            return
        self.problems.append(
            f"{name} ignoré : la liste de révocation n'est signée par aucune autorité (CSCA) "
            "du magasin de confiance"
        )


def _subjects(certificates: list[x509.Certificate]) -> list[str | None]:
    # A trusted certificate whose name cannot be compared is never anyone's issuer.
    subjects: list[str | None] = []
    for certificate in certificates:
        try:
            der = certificate.public_bytes(Encoding.DER)
            subjects.append(ax509.Certificate.load(der).subject.hashable)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("trusted CSCA ignored, its subject is unreadable: %s", exc)
            subjects.append(None)
    return subjects


def _ders(raw: bytes) -> list[bytes]:
    """The DER certificates of a file: one DER, or every PEM block in it."""
    if pem.detect(raw):
        return [der for kind, _, der in pem.unarmor(raw, multiple=True) if kind == "CERTIFICATE"]
    return [raw]


def usable_certificate(der: bytes) -> x509.Certificate:
    """A trust anchor as cryptography can use it, the known quirks normalised (module doc).

    Raises:
        ValueError, TypeError, KeyError: the certificate is unreadable.
        UnsupportedSignature: its key uses a curve or type the kiosk does not know.
    """
    try:
        certificate = x509.load_der_x509_certificate(der)
        certificate.public_key()
    except ValueError:
        pass  # a known quirk (NULL ECDSA parameters, an explicit curve): normalised below
    else:
        return certificate
    parsed = ax509.Certificate.load(der)
    tbs = parsed["tbs_certificate"]
    for holder, field in ((parsed, "signature_algorithm"), (tbs, "signature")):
        algorithm: algos.SignedDigestAlgorithm = holder[field]
        if algorithm.signature_algo == "ecdsa" and algorithm["parameters"].native is None:
            holder[field] = algos.SignedDigestAlgorithm({"algorithm": algorithm["algorithm"]})
    key = signature.public_key(tbs["subject_public_key_info"])  # names an explicit curve
    tbs["subject_public_key_info"] = ax509.PublicKeyInfo.load(
        key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    certificate = x509.load_der_x509_certificate(parsed.dump(force=True))
    certificate.public_key()
    log.info("trusted certificate normalised (NULL ECDSA parameters or explicit curve)")
    return certificate


def _read_master_list(raw: bytes) -> tuple[list[bytes], ax509.Certificate]:
    """The certificates of a master list (DER) and its signer's certificate, signature checked."""
    data: cms.SignedData = signed_data(raw)
    content = data["encap_content_info"]
    if content["content_type"].dotted != CSCA_MASTER_LIST:
        raise ValueError("type de contenu inattendu")
    econtent = bytes(content["content"].contents)
    certificates = [c.dump() for c in CscaMasterList.load(econtent)["cert_list"]]
    signer: cms.SignerInfo = data["signer_infos"][0]
    signer_certificate = _signer_certificate(data, signer)
    signature.verify_signer_info(
        signer, econtent, signature.public_key(signer_certificate.public_key)
    )
    return certificates, signer_certificate


def _signer_certificate(data: cms.SignedData, signer: cms.SignerInfo) -> ax509.Certificate:
    sid = signer["sid"]
    for choice in data["certificates"] or []:
        certificate = choice.chosen
        if not isinstance(certificate, ax509.Certificate):
            continue
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                certificate.issuer.hashable == wanted["issuer"].hashable
                and certificate.serial_number == wanted["serial_number"].native
            ):
                return certificate
        elif certificate.key_identifier == sid.chosen.native:
            return certificate
    raise ValueError("le certificat du signataire manque")


def _common_name(certificate: ax509.Certificate) -> str:
    return str(certificate.subject.native.get("common_name", certificate.subject.human_friendly))


def master_list_certificates(raw: bytes) -> list[x509.Certificate]:
    """The usable CSCA certificates of an ICAO master list, its signature checked (not its
    signer's issuer: ``TrustStore.from_paths`` does that)."""
    ders, _ = _read_master_list(raw)
    certificates = []
    for der in ders:
        try:
            certificates.append(usable_certificate(der))
        except (ValueError, TypeError, KeyError, UnsupportedSignature):
            continue
    return certificates
