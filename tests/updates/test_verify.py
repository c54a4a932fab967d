"""A bundle is verified before anything of it is used: its size, a pinned key, the Ed25519
signature over the manifest's exact bytes, the manifest read strictly, every file's name, size
and SHA-256. Each refusal says why in plain French."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.updates import BundleRefused, SignedBundle, parse_keys, verify
from kiosk.updates.bundle import MAX_FILE_BYTES, MAX_MANIFEST_BYTES
from sync.server.bundles import manifest_bytes, public_text
from tests.updates.support import ISSUED, PINNED, signed, signed_manifest

DEFINITION = b'id = "essai"\nversion = 2\n'
FILES = {"essai.v2.toml": DEFINITION, "essai.v2.en.toml": b'titre = "Trial"\n'}


def accepts(name: str) -> bool:
    return name.endswith(".toml")


def check(bundle: SignedBundle, *, installed: int = 1) -> object:
    return verify(bundle, keys=PINNED, installed=installed, accepts=accepts)


def refused(bundle: SignedBundle, *, installed: int = 1, keys: object = PINNED) -> str:
    with pytest.raises(BundleRefused) as caught:
        verify(bundle, keys=keys, installed=installed, accepts=accepts)  # type: ignore[arg-type]
    return str(caught.value)


def test_a_bundle_signed_by_a_pinned_key_gives_its_manifest() -> None:
    manifest = verify(signed("demarches", 2, FILES), keys=PINNED, installed=1, accepts=accepts)
    assert (manifest.kind, manifest.serial, manifest.issued_at) == ("demarches", 2, ISSUED)
    assert [(f.name, f.size) for f in manifest.files] == [
        ("essai.v2.toml", len(DEFINITION)),
        ("essai.v2.en.toml", 16),
    ]
    assert manifest.files[0].sha256 == hashlib.sha256(DEFINITION).hexdigest()
    assert manifest.key_id == PINNED[0].id


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("manifeste", "signature invalide (manifeste ou signature altéré"),
        ("signature", "signature invalide (manifeste ou signature altéré"),
        ("fichier", "essai.v2.en.toml : empreinte SHA-256 différente de celle signée"),
        ("sans_signature", "paquet demarches n° 2 : paquet non signé"),
        ("cle_etrangere", "signé par une clé que la borne n'a pas épinglée (clé "),
    ],
)
def test_one_byte_changed_unsigned_or_a_foreign_key_is_refused(fault: str, said: str) -> None:
    assert said in refused(signed("demarches", 2, FILES, fault=fault))


def test_the_same_byte_changed_by_hand_is_refused_wherever_it_is() -> None:
    good = signed("demarches", 2, FILES)
    for at in (0, len(good.manifest) - 1):
        manifest = bytearray(good.manifest)
        manifest[at] ^= 0x20
        assert "signature invalide" in refused(dataclasses.replace(good, manifest=bytes(manifest)))
    signature = bytearray(good.signature)
    signature[63] ^= 0x01
    assert "signature invalide" in refused(dataclasses.replace(good, signature=bytes(signature)))
    # A signature cut short, or the key id of a pinned key on a foreign signature.
    assert "signature invalide" in refused(dataclasses.replace(good, signature=good.signature[:63]))
    foreign = signed("demarches", 2, FILES, fault="cle_etrangere")
    assert "signature invalide" in refused(dataclasses.replace(foreign, key_id=PINNED[0].id))


def test_a_rotated_key_is_accepted_once_pinned_and_none_without_a_pinned_key() -> None:
    other = parse_keys([public_text(Ed25519PrivateKey.generate())])
    bundle = signed("demarches", 2, FILES)
    assert "n'a pas épinglée" in refused(bundle, keys=other)
    # The next key pinned beside the one in use: bundles of either are taken.
    verify(bundle, keys=(*other, *PINNED), installed=1, accepts=accepts)
    assert "aucune clé de signature n'est épinglée" in refused(bundle, keys=())


def test_an_older_bundle_replayed_is_refused() -> None:
    old = signed("demarches", 3, FILES)
    assert "ancien paquet rejoué (n° 3 signé, la borne a déjà le n° 3)" in refused(old, installed=3)
    assert "ancien paquet rejoué" in refused(old, installed=5)
    # Served for a newer number than its own: not the one asked for.
    served_as_7 = dataclasses.replace(old, serial=7)
    assert "le manifeste signé est celui du n° 3, pas du n° 7 demandé" in refused(served_as_7)


def test_a_manifest_too_large_is_refused_before_it_is_read() -> None:
    huge = b"{" + b" " * MAX_MANIFEST_BYTES + b"}"
    assert "manifeste trop volumineux" in refused(signed_manifest(huge, {}))


def test_a_file_too_large_or_too_many_bytes_is_refused() -> None:
    big = b"#" * (MAX_FILE_BYTES + 1)
    said = refused(signed("demarches", 2, {"essai.v2.toml": big}))
    assert f"essai.v2.toml trop volumineux ({MAX_FILE_BYTES + 1} octets" in said
    many = {f"essai.v{i}.toml": b"#" * MAX_FILE_BYTES for i in range(2, 13)}
    assert "trop volumineux (2816000 octets de fichiers" in refused(signed("demarches", 2, many))


@pytest.mark.parametrize(
    "name",
    [
        "../succession.v1.toml",
        "i18n/essai.v2.en.toml",
        "/etc/pn-kiosk/kiosk.toml",
        "..",
        ".essai.v2.toml",
        "essai..toml",
        "Essai.v2.toml",
        "essai.v2.toml ",
        "essai\\v2.toml",
        "a" * 85 + ".toml",
        "notes.txt",  # a plain name, but not one of the kind's
    ],
)
def test_a_file_name_with_a_path_or_off_the_list_is_refused_though_signed(name: str) -> None:
    said = refused(signed("demarches", 2, {name: DEFINITION}))
    assert "manifeste invalide : fichiers[0] : nom « " in said
    assert "refusé (un nom de fichier prévu, sans chemin)" in said


def test_files_not_those_of_the_manifest_are_refused() -> None:
    good = signed("demarches", 2, FILES)
    extra = dataclasses.replace(good, files=(*good.files, ("autre.v1.toml", b"x")))
    assert "« autre.v1.toml » reçu sans être dans le manifeste signé" in refused(extra)
    missing = dataclasses.replace(good, files=good.files[:1])
    assert "essai.v2.en.toml annoncé mais absent" in refused(missing)
    twice = dataclasses.replace(good, files=(*good.files, good.files[0]))
    assert "reçu deux fois" in refused(twice)
    cut = dataclasses.replace(good, files=(("essai.v2.toml", DEFINITION[:-1]), good.files[1]))
    assert "de 24 octets au lieu des 25 signés" in refused(cut)


def _manifest(**changes: object) -> dict[str, object]:
    data = json.loads(manifest_bytes("demarches", 2, FILES, ISSUED))
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("manifest", "said"),
    [
        (b'{"format": 1, "format": 1}', "JSON illisible (clé « format » en double)"),
        (b'{"serie": NaN}', "JSON illisible (valeur NaN interdite)"),
        (b'{"serie": 2.0}', "JSON illisible (nombre à virgule 2.0 interdit)"),
        (b"\xff{}", "pas en UTF-8"),
        (b"[]", "objet JSON attendu"),
        (b"[" * 100_000, "manifeste trop volumineux"),
        (json.dumps(_manifest(extra=1)).encode(), "(en trop : extra)"),
        (json.dumps(_manifest(emis_le=None)).encode(), "(absentes : emis_le)"),
        (json.dumps(_manifest(format=2)).encode(), "format 2 inconnu de cette borne"),
        (json.dumps(_manifest(type="tarifs")).encode(), "type « tarifs » au lieu de « demarches »"),
        (json.dumps(_manifest(serie=True)).encode(), "serie : nombre entier positif attendu"),
        (json.dumps(_manifest(emis_le="2027-06-01")).encode(), "emis_le : date et heure UTC"),
        (json.dumps(_manifest(emis_le="2027-02-30T08:00:00Z")).encode(), "date impossible"),
        (json.dumps(_manifest(fichiers=[])).encode(), "liste de 1 à 400 fichiers"),
    ],
)
def test_a_signed_manifest_is_read_strictly(manifest: bytes, said: str) -> None:
    assert said in refused(signed_manifest(manifest, FILES))


def test_a_deeply_nested_signed_manifest_is_refused_not_a_crash() -> None:
    nested = b"[" * 30_000 + b"]" * 30_000
    assert "manifeste invalide" in refused(signed_manifest(nested, FILES))
