"""Passive Authentication with RSA Document Signers: RSASSA-PSS (RFC 4055) and PKCS#1 v1.5.

The SODs are built and signed by the card simulator's RSA signers (``devices/cardsim/signers``),
under an RSA test CSCA made for this process; the reader trusts it beside the TEST CSCA.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from asn1crypto import algos
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from devices.cardsim.profiles import PASSPORT_PSS, build_groups, sign_sod
from devices.cardsim.signers import (
    PSS_DEFAULTS,
    DocumentSigner,
    Pss,
    ecdsa_test_signer,
    rsa_ds_certificate,
    rsa_ds_certificate_edited,
    rsa_pkcs1_signer,
    rsa_pss_signer,
    rsa_test_csca,
)
from devices.nfc import passive
from devices.nfc.signature import PssParameters, UnsupportedSignature, pss_parameters
from kiosk.identity.model import Verdict
from kiosk.settings.paths import assets_dir

UNKNOWN_MGF = "1.3.6.1.4.1.99999.1"


@pytest.fixture(scope="module")
def groups() -> dict[str, bytes]:
    return build_groups(PASSPORT_PSS)


@pytest.fixture(scope="module")
def trust() -> passive.TrustStore:
    test = passive.TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])
    return passive.TrustStore([*test.certificates, rsa_test_csca()])


# -- the parameters ---------------------------------------------------------------------------


def test_absent_pss_fields_take_the_defaults_of_rfc_4055() -> None:
    algorithm = PSS_DEFAULTS.algorithm()
    assert algorithm["parameters"].dump() == b"\x30\x00"  # every field left out
    assert pss_parameters(algorithm) == PssParameters("sha1", "sha1", 20)
    bare = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss"})  # no parameters at all
    assert pss_parameters(bare) == PssParameters("sha1", "sha1", 20)


def test_pss_parameters_are_read_sha512_with_a_64_byte_salt() -> None:
    algorithm = Pss("sha512", "sha512", 64).algorithm()
    assert pss_parameters(algorithm) == PssParameters("sha512", "sha512", 64)
    mixed = Pss("sha256", "sha1", 0).algorithm()
    assert pss_parameters(mixed) == PssParameters("sha256", "sha1", 0)


@pytest.mark.parametrize(
    ("pss", "reason"),
    [
        (
            Pss(mgf_oid=UNKNOWN_MGF),
            f"fonction de génération de masque inconnue, « {UNKNOWN_MGF} »",
        ),
        (Pss(trailer=2), "champ de fin « trailerField » valant 2"),
        (Pss(hash_name="sha3_256"), "algorithme d'empreinte inconnu « sha3_256 »"),
        (Pss(mgf_hash="md5"), "algorithme d'empreinte inconnu « md5 »"),
    ],
    ids=["mgf-inconnue", "trailer-2", "sha3", "mgf1-md5"],
)
def test_pss_parameters_the_kiosk_does_not_know_are_refused_in_french(
    pss: Pss, reason: str
) -> None:
    with pytest.raises(UnsupportedSignature, match=reason):
        pss_parameters(pss.algorithm())


# -- the SOD's signature ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "signer",
    [
        rsa_pss_signer(),
        rsa_pss_signer(Pss("sha512", "sha512", 64)),
        rsa_pss_signer(PSS_DEFAULTS),
        rsa_pss_signer(Pss("sha256", "sha1", 0)),
        rsa_pss_signer(certificate=PSS_DEFAULTS),
        rsa_pss_signer(certificate=Pss("sha512", "sha512", 64)),
        rsa_pkcs1_signer(),
        rsa_pkcs1_signer(bare_oid=True),
    ],
    ids=["pss-sha256", "pss-sha512-sel64", "pss-defauts", "pss-mgf1-sha1-sel0",
         "certificat-pss-defauts", "certificat-pss-sha512", "pkcs1", "pkcs1-rsaEncryption"],
)  # fmt: skip
def test_a_genuine_rsa_signed_passport_is_authentic(
    signer: DocumentSigner, groups: dict[str, bytes], trust: passive.TrustStore
) -> None:
    # was: « Falsifié : la signature du document de sécurité de la puce est invalide » for every
    # RSASSA-PSS signature (checked with PKCS#1 v1.5) and for rsaEncryption (no hash in the OID)
    result = passive.verify(sign_sod(groups, signer), groups, trust)
    assert result.verdict is Verdict.AUTHENTIQUE, result.reason
    assert "CSCA RSA TEST" in result.reason


def _claims(signer: DocumentSigner, algorithm: algos.SignedDigestAlgorithm) -> DocumentSigner:
    """The same signature, under another algorithm identifier than the one it was made with."""
    return dataclasses.replace(signer, algorithm=algorithm)


@pytest.mark.parametrize(
    "signer",
    [
        _claims(rsa_pss_signer(), Pss(salt_length=64).algorithm()),
        _claims(rsa_pss_signer(), Pss("sha512", "sha256", 32).algorithm()),
        _claims(rsa_pss_signer(), Pss(mgf_hash="sha1").algorithm()),
        _claims(rsa_pss_signer(), algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})),
        _claims(rsa_pkcs1_signer(), Pss().algorithm()),
        _claims(rsa_pss_signer(), algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})),
        _claims(ecdsa_test_signer(), Pss().algorithm()),
        _claims(rsa_pss_signer(), Pss(salt_length=10**30).algorithm()),
        _claims(rsa_pss_signer(), Pss(salt_length=-1).algorithm()),
    ],
    ids=["sel-64-annonce", "sha512-annonce", "mgf1-sha1-annonce", "pss-lu-en-pkcs1",
         "pkcs1-lu-en-pss", "rsa-annonce-ecdsa", "ecdsa-annonce-pss", "sel-immense", "sel-negatif"],
)  # fmt: skip
def test_a_signature_that_does_not_match_its_parameters_is_falsified(
    signer: DocumentSigner, groups: dict[str, bytes], trust: passive.TrustStore
) -> None:
    result = passive.verify(sign_sod(groups, signer), groups, trust)
    assert result.verdict is Verdict.FALSIFIE, result.reason
    assert "signature du document de sécurité de la puce est invalide" in result.reason


@pytest.mark.parametrize(
    ("sod", "certificate", "signature", "detail"),
    [
        (Pss(mgf_oid=UNKNOWN_MGF), None, "du document de sécurité", "fonction de génération"),
        (Pss(trailer=2), None, "du document de sécurité", "trailerField » valant 2"),
        (None, Pss(mgf_oid=UNKNOWN_MGF), "du certificat du signataire", "fonction de génération"),
        (None, Pss(trailer=3), "du certificat du signataire", "trailerField » valant 3"),
        (Pss("sha3_256", "sha3_256", 32), None, "du document de sécurité", "« sha3_256 »"),
    ],
    ids=["sod-mgf-inconnue", "sod-trailer-2", "certificat-mgf-inconnue", "certificat-trailer-3",
         "sod-sha3"],
)  # fmt: skip
def test_an_unknown_mask_function_or_trailer_is_not_verified_and_says_why(
    sod: Pss | None,
    certificate: Pss | None,
    signature: str,
    detail: str,
    groups: dict[str, bytes],
    trust: passive.TrustStore,
) -> None:
    result = passive.verify(sign_sod(groups, rsa_pss_signer(sod, certificate)), groups, trust)
    assert result.verdict is Verdict.NON_VERIFIE
    assert result.reason.startswith(f"Non vérifié : la signature {signature} ")
    assert "que la borne ne sait pas vérifier" in result.reason and detail in result.reason


# -- the DS certificate's signature by the CSCA ----------------------------------------------


def test_a_ds_certificate_not_signed_by_the_trusted_rsa_csca_is_falsified(
    groups: dict[str, bytes],
) -> None:
    impostor_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = rsa_test_csca()
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    impostor = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)  # same name, another key
        .issuer_name(genuine.subject)
        .public_key(impostor_key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .sign(
            impostor_key,
            hashes.SHA256(),
            rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), 32),
        )
    )
    result = passive.verify(
        sign_sod(groups, rsa_pss_signer()), groups, passive.TrustStore([impostor])
    )
    assert result.verdict is Verdict.FALSIFIE
    assert "n'a pas été émis par l'autorité qu'il cite" in result.reason


def test_a_ds_certificate_whose_pss_signature_does_not_match_its_parameters_is_falsified(
    groups: dict[str, bytes], trust: passive.TrustStore
) -> None:
    certificate = rsa_ds_certificate(Pss(salt_length=20), signed_with=Pss(salt_length=32))
    forged = dataclasses.replace(rsa_pss_signer(), certificate=certificate)
    result = passive.verify(sign_sod(groups, forged), groups, trust)
    assert result.verdict is Verdict.FALSIFIE
    assert "n'a pas été émis par l'autorité qu'il cite" in result.reason


CN = "DS RSA TEST point-numérique — NE PAS UTILISER"


def _serial(value: int) -> Callable[[ax509.TbsCertificate], None]:
    def edit(tbs: ax509.TbsCertificate) -> None:
        tbs["serial_number"] = value

    return edit


def _subject(country: str, cn: str = CN) -> Callable[[ax509.TbsCertificate], None]:
    """The DS's subject becomes ``C=country, CN=cn``."""

    def edit(tbs: ax509.TbsCertificate) -> None:
        strings = [
            ("country_name", "printable_string", country),
            ("common_name", "utf8_string", cn),
        ]
        tbs["subject"] = ax509.Name(
            name="",
            value=ax509.RDNSequence(
                [
                    [
                        ax509.NameTypeAndValue(
                            {"type": kind, "value": ax509.DirectoryString(name=string, value=value)}
                        )
                    ]
                    for kind, string, value in strings
                ]
            ),
        )

    return edit


@pytest.mark.parametrize(
    "edit",
    [
        _serial(0),
        _serial(-2),
        _subject("FRA"),
        _subject(""),
        _subject("FR", CN * 2),
    ],
    ids=["serie-nulle", "serie-negative", "pays-3-lettres", "pays-vide", "nom-commun-90"],
)
def test_a_ds_certificate_its_csca_signed_is_authentic_even_where_rfc_5280_says_otherwise(
    edit: Callable[[ax509.TbsCertificate], None],
    groups: dict[str, bytes],
    trust: passive.TrustStore,
) -> None:
    # was: a warning from cryptography's certificate loader (an error under pytest; the next
    # cryptography refuses a serial that is not positive, and the genuine document would have
    # read « Falsifié »)
    signer = dataclasses.replace(rsa_pss_signer(), certificate=rsa_ds_certificate_edited(edit))
    result = passive.verify(sign_sod(groups, signer), groups, trust)
    assert result.verdict is Verdict.AUTHENTIQUE, result.reason
    assert "CSCA RSA TEST" in result.reason
