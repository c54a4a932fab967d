"""The trust store and the verdicts it decides, on a test PKI carrying real documents' quirks.

Master lists where one CSCA is odd, master lists whose signer nobody trusts, every file format
of the trust folder, CRLs, private-key usage periods, explicit curves and NULL parameters: each
built at run time by ``tests/devices/quirky_pki.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from devices.nfc import passive
from devices.nfc.trust import TrustStore
from kiosk.identity.model import Verdict
from tests.devices import quirky_pki as pki

GROUPS = {"DG1": b"\x61\x03DG1", "DG2": b"\x75\x03DG2"}
SIGNED = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def _pem(party: pki.Party) -> bytes:
    return x509.load_der_x509_certificate(party.der).public_bytes(Encoding.PEM)


@pytest.fixture(scope="module")
def national() -> pki.Party:
    """The CSCA of the country publishing the master list (provisioned on its own)."""
    return pki.party("CSCA UT")


def test_one_odd_csca_does_not_lose_the_master_list_and_the_null_params_one_is_usable(
    tmp_path: Path, national: pki.Party
) -> None:
    null_csca = pki.party("CSCA NULL", null_params=True)
    good = pki.party("CSCA BON")
    signer = pki.party("ML SIGNER UT", national, serial=5)
    broken = pki.party("CSCA CASSE").certificate.copy()
    broken["tbs_certificate"]["subject_public_key_info"]["public_key"] = b"\x04\x01\x02"
    (tmp_path / "ut.der").write_bytes(national.der)
    (tmp_path / "icao.ml").write_bytes(
        pki.master_list([null_csca.certificate, broken, good.certificate], signer)
    )

    store = TrustStore.from_paths([tmp_path])

    assert len(store.certificates) == 3  # the national CSCA, the NULL one, the good one
    [problem] = store.problems
    assert re.fullmatch(r"icao\.ml, certificat n° \d \(CSCA CASSE\) ignoré : illisible", problem)
    for csca in (null_csca, good):
        ds = pki.party("DS", csca, serial=9)
        result = passive.verify(pki.sod(GROUPS, ds), GROUPS, store)
        assert result.verdict is Verdict.AUTHENTIQUE, result.reason


def test_a_master_list_whose_signer_no_trusted_csca_issued_is_refused(tmp_path: Path) -> None:
    stranger = pki.party("CSCA INCONNU")
    signer = pki.party("ML SIGNER INCONNU", stranger, serial=5)
    (tmp_path / "faux.ml").write_bytes(pki.master_list([pki.party("CSCA X").certificate], signer))

    store = TrustStore.from_paths([tmp_path])

    assert store.certificates == []
    assert store.problems == [
        "faux.ml ignoré : le signataire de la liste maîtresse (ML SIGNER INCONNU) n'a pas été "
        "émis par une autorité (CSCA) déjà dans le magasin de confiance ; ajoutez le certificat "
        "CSCA du pays qui publie la liste"
    ]


def test_a_master_list_whose_content_was_edited_after_signing_is_refused(
    tmp_path: Path, national: pki.Party
) -> None:
    signer = pki.party("ML SIGNER UT", national, serial=5)
    listed = pki.party("CSCA A")
    raw = pki.master_list([listed.certificate], signer)
    key = listed.certificate.public_key.dump()[-10:]
    (tmp_path / "ut.pem").write_bytes(_pem(national))
    (tmp_path / "edite.ml").write_bytes(raw.replace(key, bytes(10)))

    store = TrustStore.from_paths([tmp_path])

    assert len(store.certificates) == 1
    assert store.problems[0].startswith("edite.ml ignoré : ce n'est pas une liste maîtresse")


def test_every_format_of_the_trust_folder_is_read(tmp_path: Path, national: pki.Party) -> None:
    a, b, c, d = (pki.party(f"CSCA {n}") for n in "ABCD")
    (tmp_path / "a.der").write_bytes(a.der)
    (tmp_path / "b.cer").write_bytes(b.der)
    (tmp_path / "cd.pem").write_bytes(_pem(c) + _pem(d))  # a PEM bundle
    (tmp_path / "ut.crt").write_bytes(_pem(national))
    (tmp_path / "lisez-moi.txt").write_text("pas un certificat")
    ds = pki.party("DS REVOQUE", national, serial=42)
    (tmp_path / "ut.crl").write_bytes(
        pki.crl(national, {42: x509.ReasonFlags.key_compromise}, SIGNED)
    )

    store = TrustStore.from_paths([tmp_path])

    assert len(store.certificates) == 5 and store.problems == []
    assert store.revocation(ds.certificate) is not None


def test_a_revoked_document_signer_is_not_authentic_and_says_why(national: pki.Party) -> None:
    ds = pki.party("DS REVOQUE", national, serial=42)
    store = TrustStore([x509.load_der_x509_certificate(national.der)])
    sod = pki.sod(GROUPS, ds)
    assert passive.verify(sod, GROUPS, store).verdict is Verdict.AUTHENTIQUE
    store.add_crl(pki.crl(national, {42: x509.ReasonFlags.key_compromise}, SIGNED), "x")

    result = passive.verify(sod, GROUPS, store)

    assert result.verdict is Verdict.NON_VERIFIE
    assert result.reason == (
        "Non vérifié : le certificat du signataire de ce document a été révoqué par l'autorité "
        "du pays le 01/06/2025 (motif : clé compromise)"
    )


def test_a_crl_no_trusted_csca_signed_revokes_nothing(tmp_path: Path, national: pki.Party) -> None:
    impostor = pki.party("CSCA UT")  # same name, another key
    (tmp_path / "ut.der").write_bytes(national.der)
    (tmp_path / "faux.crl").write_bytes(
        pki.crl(impostor, {42: x509.ReasonFlags.key_compromise}, SIGNED)
    )
    store = TrustStore.from_paths([tmp_path])
    assert store.revoked == {}
    assert "faux.crl ignoré" in store.problems[0]


@pytest.mark.parametrize(
    ("signed", "verdict", "said"),
    [
        (dt.datetime(2025, 6, 1, tzinfo=dt.UTC), Verdict.AUTHENTIQUE, "Authentique"),
        (
            dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
            Verdict.NON_VERIFIE,
            "le document a été signé le 01/09/2025, hors de la période d'usage de la clé du "
            "certificat du signataire (du 01/01/2025 au 01/07/2025)",
        ),
        (
            dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
            Verdict.NON_VERIFIE,
            "le document a été signé le 01/06/2023, hors de la validité",
        ),
    ],
    ids=["dans-la-periode", "apres-la-periode-d-usage", "avant-la-validite"],
)
def test_a_document_signed_outside_the_signer_key_usage_period_is_reported(
    national: pki.Party, signed: dt.datetime, verdict: Verdict, said: str
) -> None:
    ds = pki.party(
        "DS PKUP",
        national,
        serial=11,
        private_key_usage=(
            dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
        ),
    )
    store = TrustStore([x509.load_der_x509_certificate(national.der)])
    result = passive.verify(pki.sod(GROUPS, ds, signing_time=signed), GROUPS, store)
    assert result.verdict is verdict
    assert said in result.reason


@pytest.mark.parametrize("brainpool", [True, False], ids=["brainpoolP256r1", "secp256r1"])
def test_a_document_signer_key_with_explicit_curve_parameters_verifies(
    national: pki.Party, brainpool: bool
) -> None:
    ds = pki.party("DS EXPLICITE", national, serial=12, explicit_curve=True, brainpool=brainpool)
    store = TrustStore([x509.load_der_x509_certificate(national.der)])
    result = passive.verify(pki.sod(GROUPS, ds), GROUPS, store)
    assert result.verdict is Verdict.AUTHENTIQUE, result.reason


def test_a_genuine_chain_with_null_ecdsa_parameters_everywhere_is_authentic(
    tmp_path: Path,
) -> None:
    csca = pki.party("CSCA NULL", null_params=True)
    ds = pki.party("DS NULL", csca, serial=13, null_params=True, explicit_curve=True)
    (tmp_path / "null.der").write_bytes(csca.der)
    store = TrustStore.from_paths([tmp_path])
    result = passive.verify(pki.sod(GROUPS, ds), GROUPS, store)
    assert result.verdict is Verdict.AUTHENTIQUE, result.reason


def test_the_kiosk_reads_the_whole_trust_folder_not_only_pem(
    tmp_path: Path, national: pki.Party
) -> None:
    from app.container import trust_anchors

    (tmp_path / "csca").mkdir()
    (tmp_path / "csca" / "ut.der").write_bytes(national.der)
    signer = pki.party("ML SIGNER UT", national, serial=5)
    (tmp_path / "csca" / "liste.ml").write_bytes(
        pki.master_list([pki.party("CSCA ML").certificate], signer)
    )

    store = TrustStore.from_paths(trust_anchors(tmp_path, training=False))

    assert len(store.certificates) == 2 and store.problems == []
