"""Translated démarches: every text in English or Arabic, and nothing else changes."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.demarches import (
    Catalog,
    Demarche,
    JSONValue,
    applicable_notes,
    default_demarches_dir,
    load_catalog,
    missing_required,
    required_documents,
    visible_steps,
)
from kiosk.demarches.translation import localize, read_translation, translatable_texts

# Attributes of the model that hold a text the person reads; every other attribute is structure.
TEXT_ATTRIBUTES = frozenset({"title", "summary", "label", "help", "item_label", "text"})
ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
# Texts whose translation is rightly the French word itself; anything else unchanged is forgotten.
SAME_AS_FRENCH = {"en": frozenset({"Document"}), "ar": frozenset[str]()}
SHIPPED = load_catalog(default_demarches_dir())
SHIPPED_IDS = sorted({d.id for d in SHIPPED.all()})


def texts_side_by_side(
    french: object, other: object, place: str = ""
) -> Iterator[tuple[str, str, str]]:
    """Walk two démarches in step: yield `(place, French, other)` for each text, and assert that
    everything else (ids, types, conditions, binds, counts) is identical."""
    if dataclasses.is_dataclass(french) and not isinstance(french, type):
        assert type(other) is type(french), place
        where = f"{place}<{getattr(french, 'id', getattr(french, 'kind', ''))}>"
        for attribute in dataclasses.fields(french):
            if not attribute.compare or attribute.name == "lang":
                continue
            mine, theirs = getattr(french, attribute.name), getattr(other, attribute.name)
            if attribute.name in TEXT_ATTRIBUTES:
                yield f"{where}.{attribute.name}", mine, theirs
            else:
                yield from texts_side_by_side(mine, theirs, f"{where}.{attribute.name}")
    elif isinstance(french, tuple):
        assert isinstance(other, tuple) and len(other) == len(french), place
        for index, (mine, theirs) in enumerate(zip(french, other, strict=True)):
            yield from texts_side_by_side(mine, theirs, f"{place}[{index}]")
    else:
        assert french == other, place


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("demarche_id", SHIPPED_IDS)
def test_every_shipped_demarche_is_completely_translated(demarche_id: str, lang: str) -> None:
    french = SHIPPED.latest(demarche_id)
    translated = SHIPPED.latest(demarche_id, lang=lang)
    assert translated.lang == lang
    untranslated = []
    for place, mine, theirs in texts_side_by_side(french, translated):
        if not mine:
            assert not theirs, f"{place}: a help text where French has none"
        elif (theirs == mine and mine not in SAME_AS_FRENCH[lang]) or (
            lang == "ar" and not ARABIC_LETTER.search(theirs)
        ):
            untranslated.append(f"{place}: {mine}")
    assert untranslated == []


def test_the_shipped_translations_load_without_errors() -> None:
    assert [str(error) for error in SHIPPED.errors] == []
    for demarche in SHIPPED.all():
        assert SHIPPED.languages(demarche.id, demarche.version) == ["fr", "en", "ar"]


SUCCESSION_ANSWERS: dict[str, JSONValue] = {
    "piece_identite": {"nature": "cni", "numero": "X4RTBPFW4"},
    "nom": "MARTIN",
    "mode_contact": "guichet",
    "plus_de_4_ans": True,
    "vente_sous_3_mois": False,
    "communaute_biens": True,
    "autres_heritiers": True,
    "coheritiers[0].coheritier_nom": "MARTIN",
    "coheritiers[0].coheritier_role": "desistement",
    "coheritiers[1].coheritier_role": "cotitulaire",
}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_translated_demarche_asks_and_requires_exactly_the_same(lang: str) -> None:
    french = SHIPPED.latest("succession")
    translated = SHIPPED.latest("succession", lang=lang)
    answers = SUCCESSION_ANSWERS
    assert (translated.id, translated.version) == (french.id, french.version)
    assert [s.id for s in visible_steps(translated, answers)] == [
        s.id for s in visible_steps(french, answers)
    ]
    assert [i.path for i in missing_required(translated, answers)] == [
        i.path for i in missing_required(french, answers)
    ]
    assert [n.id for n in applicable_notes(translated, answers)] == ["reimmatriculation"]
    in_french = required_documents(french, answers)
    in_lang = required_documents(translated, answers)
    assert [(d.kind, d.item_path) for d in in_lang] == [(d.kind, d.item_path) for d in in_french]
    assert "desistement" in {d.kind for d in in_lang}
    assert all(mine.label != theirs.label for mine, theirs in zip(in_french, in_lang, strict=True))


def test_french_is_the_original_and_translations_are_built_once() -> None:
    french = SHIPPED.get("succession", 1)
    assert SHIPPED.get("succession", 1, lang="fr") is french
    english = SHIPPED.get("succession", 1, lang="en")
    assert SHIPPED.get("succession", 1, lang="en") is english
    assert SHIPPED.localized(english, "fr") is french
    assert SHIPPED.localized(english, "ar") is SHIPPED.get("succession", 1, lang="ar")
    assert english.title == "Vehicle registration: vehicle of a deceased person"
    assert [d.title for d in SHIPPED.all(lang="en")] != [d.title for d in SHIPPED.all()]


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        SHIPPED.latest("succession", lang="de")


def test_every_text_the_reader_knows_is_one_the_model_shows() -> None:
    # A translation naming each place of `translatable_texts` must change every text of the
    # démarche, and only texts: the list of places is then the full list of what to translate.
    for french in SHIPPED.all():
        data: dict[str, Any] = {}
        for place, text in translatable_texts(french):
            *parents, key = place.split(".")
            table = data
            for parent in parents:
                table = table.setdefault(parent, {})
            table[key] = f"«{text}»"
        translation = read_translation(data, french, "en", french.source)
        changed = localize(french, translation)
        for place, mine, theirs in texts_side_by_side(french, changed):
            assert theirs == (f"«{mine}»" if mine else ""), place


# --- Files written by hand: partial, broken ---------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(default_demarches_dir() / "succession.v1.toml", tmp_path)
    (tmp_path / "i18n").mkdir()
    return tmp_path


def test_a_partial_translation_falls_back_to_french(folder: Path) -> None:
    (folder / "i18n" / "succession.v1.en.toml").write_text(
        'titre = "Vehicle of a deceased person"\n'
        "[champs.mode_contact.choix]\n"
        'telephone = "By text message"\n',
        encoding="utf-8",
    )
    catalog = load_catalog(folder)
    assert catalog.errors == []
    french, english = catalog.latest("succession"), catalog.latest("succession", lang="en")
    assert english.title == "Vehicle of a deceased person"
    assert english.summary == french.summary
    contact = english.field("mode_contact")
    assert [c.label for c in contact.choices][:2] == [
        "By text message",
        "Par courrier à mon adresse",
    ]
    assert contact.choices[2].help == french.field("mode_contact").choices[2].help
    assert english.field("nom").label == "Nom de naissance"
    # No Arabic file: the Arabic screens show the French original.
    assert catalog.latest("succession", lang="ar") is french


BROKEN = [
    pytest.param(
        "[champs.nom_inconnu]\nlibelle = 'Name'\n",
        "champs.nom_inconnu",
        "champ « nom_inconnu » inconnu",
        id="unknown-field",
    ),
    pytest.param(
        "[champs.nom]\nlibele = 'Name'\n",
        "champs.nom.libele",
        "clé inconnue « libele »",
        id="unknown-key",
    ),
    pytest.param(
        "[champs.mode_contact.choix]\npigeon = 'By pigeon'\n",
        "champs.mode_contact.choix.pigeon",
        "choix « pigeon » inconnu",
        id="unknown-choice",
    ),
    pytest.param(
        "[champs.nom]\naide = 'As on the card'\n",
        "champs.nom.aide",
        "le texte français n'a pas de « aide »",
        id="help-french-lacks",
    ),
    pytest.param(
        "[documents.quitus_fiscal]\nlibelle = 'Tax clearance'\n",
        "documents.quitus_fiscal",
        "document « quitus_fiscal » inconnu",
        id="unknown-document",
    ),
    pytest.param(
        "titre = Vehicle\n", "ligne 1, colonne 9", "syntaxe TOML invalide", id="toml-syntax"
    ),
    pytest.param("titre = ''\n", "titre", "un texte non vide est attendu", id="empty-text"),
]


@pytest.mark.parametrize(("content", "place", "reason"), BROKEN)
def test_a_broken_translation_is_reported_and_the_demarche_stays_in_french(
    folder: Path, content: str, place: str, reason: str
) -> None:
    path = folder / "i18n" / "succession.v1.en.toml"
    path.write_text(content, encoding="utf-8")
    catalog = load_catalog(folder)
    [error] = catalog.errors
    assert (error.file, error.place) == (path, place)
    assert reason in error.reason
    assert str(error).startswith(f"{path}: {place}: ")
    assert catalog.latest("succession", lang="en") is catalog.latest("succession")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("succession.v2.en.toml", "démarche « succession » v2 introuvable"),
        ("succession.v1.de.toml", "langue « de » inconnue"),
        ("succession.v1.fr.toml", "langue « fr » inconnue"),
        ("succession.en.toml", "le nom doit être <id>.v<version>.<langue>.toml"),
    ],
)
def test_a_translation_file_must_name_an_installed_demarche_and_a_language(
    folder: Path, name: str, reason: str
) -> None:
    (folder / "i18n" / name).write_text("titre = 'Title'\n", encoding="utf-8")
    catalog = load_catalog(folder)
    [error] = catalog.errors
    assert (error.file.name, error.place) == (name, "nom du fichier")
    assert reason in error.reason
    assert len(catalog) == 1


def test_catalogs_built_without_translations_still_work() -> None:
    catalog = Catalog(SHIPPED.all())
    demarche: Demarche = catalog.latest("succession", lang="en")
    assert demarche is SHIPPED.latest("succession")
