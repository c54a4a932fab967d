"""The site's settings sealed under the code: only the same code opens them, a changed byte is
told, and what the new kiosk proves with says nothing of the key."""

from __future__ import annotations

import pytest

from kiosk.enrolment.code import EnrolmentCode, new_code
from kiosk.enrolment.seal import SealBroken, open_sealed, seal, verifier, verifier_digest
from kiosk.enrolment.site import InvalidSettings, SiteSettings
from kiosk.site.counter import CounterDetails

SITE = SiteSettings(
    "https://api.exemple.gouv.fr",
    ("sha256/" + "A" * 43 + "=",),
    printer="Accueil_Prefecture",
    scan_dir="/srv/numerisations",
    counter=CounterDetails("Préfecture de la Haute-Garonne", ("1 place Saint-Étienne",), "05", ""),
)


def test_sealed_settings_open_with_the_code_only() -> None:
    code = new_code()
    blob = seal(code, SITE.to_json())
    assert b"Accueil_Prefecture" not in blob and b"exemple.gouv" not in blob
    assert SiteSettings.from_json(open_sealed(code, blob)) == SITE
    with pytest.raises(SealBroken):
        open_sealed(new_code(), blob)
    with pytest.raises(SealBroken):  # the same secret under another id: not this code's blob
        open_sealed(EnrolmentCode("ZZZZZZZZ", code.secret), blob)
    changed = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(SealBroken):
        open_sealed(code, changed)


def test_the_verifier_is_neither_the_secret_nor_the_key_and_only_its_digest_is_filed() -> None:
    code = new_code()
    proof = verifier(code)
    assert len(proof) == 32 and code.secret.encode() not in proof
    assert verifier(code) == proof  # the two kiosks derive the same
    assert verifier(EnrolmentCode(code.id, new_code().secret)) != proof
    assert verifier_digest(code) != proof.hex()


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"format": 2, "service_national": {"adresse": "https://x"}}',
        b'{"format": 1, "service_national": {"adresse": "ftp://x"}}',
        b'{"format": 1, "service_national": {"adresse": "https://x", "empreintes": ["x"]}}',
        b'{"format": 1, "service_national": {"adresse": "https://x"},'
        b' "peripheriques": {"imprimante": "a\\nidentifiant = \\"pirate\\""}}',
    ],
)
def test_settings_a_kiosk_cannot_use_are_refused(payload: bytes) -> None:
    with pytest.raises(InvalidSettings):
        SiteSettings.from_json(payload)
