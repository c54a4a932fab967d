"""Tariff files: the shipped ones load and cover every démarche; each kind of mistake is named
with its file, its place and its reason, in French (as the démarches' loader does)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from kiosk.demarches import Catalog, FieldType
from kiosk.fees import TariffError, default_tariffs_dir, load_tariff, load_tariffs
from kiosk.fees.regions import REGION_OF_DEPARTMENT, department_of, region_of

SHIPPED = default_tariffs_dir() / "tarif.2026-04-01.toml"


def test_the_shipped_tariffs_load_without_gaps_in_what_they_say(catalog: Catalog) -> None:
    book = load_tariffs(default_tariffs_dir())
    assert book.errors == []
    assert [t.version for t in book.all()] == [
        "2025-05-01",
        "2025-07-01",
        "2026-04-01",
        "2026-12-05",
    ]
    for tariff in book.all():
        assert set(tariff.regions) == set(REGION_OF_DEPARTMENT.values())
        assert {d.id for d in catalog.current()} == set(tariff.demarches)
        # Every answer a case reads is a question of the démarche's latest version, with a
        # value it can take: a renamed choice would otherwise silently never match.
        for rules in tariff.demarches.values():
            demarche = catalog.latest(rules.demarche_id)
            for case in rules.cases:
                for field_id, values in case.when.items():
                    field = demarche.field(field_id)
                    if field.type is FieldType.CHOICE:
                        assert set(values) <= set(field.choice_ids()), (rules.demarche_id, field_id)
        for source in tariff.sources.values():
            assert source.url.startswith("https://")
            assert source.read_on in (date(2026, 12, 4), date(2026, 12, 5))


def test_postcodes_give_their_department_and_region() -> None:
    assert (department_of("20000"), department_of("20290")) == ("2A", "2B")
    assert region_of("97300") == "guyane"
    assert region_of("97150") is None  # Saint-Martin
    assert region_of("98800") is None  # Nouvelle-Calédonie
    assert region_of("1234") is None
    assert region_of("75011") == "ile_de_france"
    assert len(REGION_OF_DEPARTMENT) == 101


def broken(tmp_path: Path, old: str, new: str, name: str = SHIPPED.name) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "place", "reason"),
    [
        (
            'taxes = ["y4", "y5"]',
            'taxes = ["y4", "y6"]',
            "demarches.duplicata_carte_grise.taxes[1]",
            "taxe « y6 » inconnue",
        ),
        ("cv = 5950", "cv = 59.5", "regions.occitanie.cv", "nombre entier de centimes attendu"),
        ("cv = 5950", "cv = 5950\ncoef = 2", "regions.occitanie.coef", "clé inconnue « coef »"),
        ("cv = 5950\n", "", "regions.occitanie.cv", "clé obligatoire absente"),
        (
            'nom = "Occitanie"\ncv = 5950\nsource = "simulateurmalus_cv_2026"',
            'nom = "Occitanie"\ncv = 5950\nsource = "wikipedia"',
            "regions.occitanie.source",
            "source « wikipedia » absente de [[sources]]",
        ),
        (
            "[regions.mayotte]",
            "[regions.saint_pierre]",
            "regions.saint_pierre",
            "région « saint_pierre » inconnue",
        ),
        ("seuil = 108", 'seuil = "108"', "malus.seuil", "nombre entier de 1 à 1000 attendu"),
        (
            "montants = [\n  5000, 7500,",
            "montants = [\n  7500, 5000,",
            "malus.montants[1]",
            "montant plus bas que celui du gramme précédent",
        ),
        (
            'motif = "etiquette_adresse"',
            'motif = "gratuit"',
            "demarches.changement_adresse.cas[0].motif",
            "motif « gratuit » inconnu",
        ),
        (
            'version = "2026-04-01"',
            'version = "2026-05-01"',
            "version",
            "la version doit être « 2026-04-01 »",
        ),
        (
            "en_vigueur_du = 2026-04-01",
            'en_vigueur_du = "2026-04-01"',
            "en_vigueur_du",
            "date attendue, écrite AAAA-MM-JJ sans guillemets",
        ),
        (
            "en_vigueur_jusqu_au = 2026-12-04",
            "en_vigueur_jusqu_au = 2026-01-01",
            "en_vigueur_jusqu_au",
            "fin avant le début",
        ),
        (
            'url = "https://immatriculation',
            'url = "http://immatriculation',
            "sources[0].url",
            "adresse https://… attendue",
        ),
        (
            "{ electrique = 50, hydrogene = 50 }",
            "{ electrique = 50, essence_sans_plomb = 50 }",
            "regions.bretagne.exonerations.essence_sans_plomb",
            "énergie « essence_sans_plomb » inconnue",
        ),
        (
            "  { montant = 28500 },",
            "  { jusqu_a_kg = 20000, montant = 28500 },",
            "y2.tranches[3].jusqu_a_kg",
            "la dernière tranche n'a pas de limite",
        ),
    ],
)
def test_each_kind_of_mistake_names_file_place_and_reason(
    tmp_path: Path, old: str, new: str, place: str, reason: str
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(TariffError) as caught:
        load_tariff(path)
    assert caught.value.file == path
    assert caught.value.place == place
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}: {place}: ")


def test_a_missing_region_is_named(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    start = text.index("[regions.mayotte]")
    end = text.index("\n\n", start)
    path = tmp_path / SHIPPED.name
    path.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    with pytest.raises(TariffError, match=r"regions: région absente : mayotte"):
        load_tariff(path)


def test_a_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "cv = 5950", "cv = 59,50")
    with pytest.raises(TariffError) as caught:
        load_tariff(path)
    assert caught.value.line is not None
    assert caught.value.place.startswith(f"ligne {caught.value.line}")
    assert "syntaxe TOML invalide" in caught.value.reason


def test_a_bad_name_and_two_tariffs_for_the_same_day_are_refused(tmp_path: Path) -> None:
    shutil.copy(SHIPPED, tmp_path / "tarif-2026.toml")
    with pytest.raises(TariffError, match="nom du fichier: le nom doit être tarif"):
        load_tariff(tmp_path / "tarif-2026.toml")
    (tmp_path / "tarif-2026.toml").unlink()
    shutil.copy(SHIPPED, tmp_path / SHIPPED.name)
    later = broken(tmp_path, "2026-04-01", "2026-06-01", name="tarif.2026-06-01.toml")
    later.write_text(
        later.read_text(encoding="utf-8").replace("2026-04-01", "2026-06-01"), encoding="utf-8"
    )
    book = load_tariffs(tmp_path)
    assert [t.version for t in book.all()] == ["2026-04-01"]
    assert [e.place for e in book.errors] == ["en_vigueur_du"]
    assert "déjà couverte par tarif.2026-04-01.toml" in str(book.errors[0])
    assert book.in_force(date(2026, 5, 1)) is not None
    assert book.in_force(date(2026, 3, 31)) is None


def test_a_broken_file_leaves_the_others_in_service(tmp_path: Path) -> None:
    shutil.copy(default_tariffs_dir() / "tarif.2025-05-01.toml", tmp_path)
    broken(tmp_path, "cv = 5950", "cv = -1")
    book = load_tariffs(tmp_path)
    assert [t.version for t in book.all()] == ["2025-05-01"]
    assert len(book.errors) == 1
    assert load_tariffs(tmp_path / "absent").errors[0].reason == "dossier des tarifs introuvable"
