"""Loading definitions: shipped files load, broken files are reported precisely, versions kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.demarches import (
    BIND_TARGETS,
    CONTACT_MODES,
    PICTOGRAMMES,
    DefinitionError,
    FieldType,
    default_demarches_dir,
    load_catalog,
    load_file,
)
from kiosk.settings.paths import assets_dir

MINIMAL = """\
id = "essai"
version = 1
theme = "autre"
titre = "Essai"
resume = "Démarche d'essai."

[[etapes]]
id = "identite"
titre = "Identité"

[[etapes.champs]]
id = "piece_identite"
type = "piece_identite"
libelle = "Pièce d'identité"

[[etapes.champs]]
id = "motif"
type = "choix"
libelle = "Motif"
choix = [{ id = "perte", libelle = "Perte" }, { id = "vol", libelle = "Vol" }]

[[etapes]]
id = "contact"
titre = "Contact"

[[etapes.champs]]
id = "mode_contact"
type = "choix"
libelle = "Comment vous prévenir"
bind = "contact.mode"
choix = [{ id = "guichet", libelle = "Au guichet" }]
"""

EXPECTED_DEMARCHES = {
    "changement_titulaire",
    "declaration_cession",
    "changement_adresse",
    "duplicata_carte_grise",
    "succession",
    "vehicule_importe",
    "permis_renouvellement",
    "permis_perte",
    "permis_vol",
    "cotitulaire",
    "changement_etat_civil",
    "modification_technique",
    "permis_deterioration",
    "permis_etat_civil",
    "permis_international",
    "permis_echange",
    "cas_complexe",
}


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def extra_field(body: str) -> str:
    """MINIMAL with one more field in the first step (after `motif`)."""
    marker = '[[etapes]]\nid = "contact"'
    return MINIMAL.replace(marker, f"[[etapes.champs]]\n{body}\n\n{marker}")


def test_every_shipped_definition_loads() -> None:
    catalog = load_catalog(default_demarches_dir())
    assert catalog.errors == []
    assert {d.id for d in catalog.all()} == EXPECTED_DEMARCHES


def test_shipped_definitions_reach_people_without_email() -> None:
    for demarche in load_catalog(default_demarches_dir()).all():
        fields = {f.id: f for f in demarche.all_fields()}
        contact = fields["mode_contact"]
        assert contact.bind == "contact.mode"
        assert set(contact.choice_ids()) == CONTACT_MODES, demarche.id
        assert fields["telephone_portable"].mobile_only, demarche.id
        assert not fields["email"].required, demarche.id
        assert any(f.type is FieldType.IDENTITY_DOCUMENT for f in fields.values())
        assert all(f.bind is None or f.bind in BIND_TARGETS for f in fields.values())
        assert demarche.documents, demarche.id


def test_every_shipped_demarche_has_a_drawn_pictogram_and_its_own_rank() -> None:
    demarches = load_catalog(default_demarches_dir()).current()
    assert all(d.pictogram in PICTOGRAMMES for d in demarches)
    ranks = [d.rank for d in demarches]
    assert None not in ranks and len(set(ranks)) == len(ranks)
    drawings = assets_dir() / "pictogrammes"
    assert {p.stem for p in drawings.glob("*.svg")} == PICTOGRAMMES


def test_pictogram_and_rank_are_optional(tmp_path: Path) -> None:
    plain = load_file(write(tmp_path, "essai.v1.toml", MINIMAL))
    assert (plain.pictogram, plain.rank) == (None, None)
    drawn = MINIMAL.replace('resume = "', 'pictogramme = "permis"\nrang = 2\nresume = "')
    demarche = load_file(write(tmp_path, "essai.v1.toml", drawn))
    assert (demarche.pictogram, demarche.rank) == ("permis", 2)


def test_minimal_definition_loads(tmp_path: Path) -> None:
    demarche = load_file(write(tmp_path, "essai.v1.toml", MINIMAL))
    assert (demarche.id, demarche.version, demarche.routage) == ("essai", 1, "ants")
    assert demarche.field_for_path("motif").choice_ids() == ("perte", "vol")
    with pytest.raises(KeyError):
        demarche.field_for_path("motiff")


BROKEN = [
    pytest.param(
        MINIMAL.replace('libelle = "Motif"', 'libele = "Motif"'),
        "etapes[0].champs[1].libele",
        "clé inconnue « libele »",
        id="unknown-key",
    ),
    pytest.param(
        MINIMAL.replace('resume = "', 'routge = "ants"\nresume = "'),
        "routge",
        "clé inconnue",
        id="unknown-top-level-key",
    ),
    pytest.param(
        MINIMAL.replace('type = "choix"\nlibelle = "Motif"', 'type = "liste"\nlibelle = "Motif"'),
        "etapes[0].champs[1].type",
        "type de champ inconnu « liste »",
        id="unknown-type",
    ),
    pytest.param(
        extra_field(
            'id = "x"\ntype = "texte"\nlibelle = "X"\ncondition = { champ = "motiff", eq = "vol" }'
        ),
        "etapes[0].champs[2].condition.champ",
        "champ inconnu « motiff »",
        id="condition-unknown-field",
    ),
    pytest.param(
        MINIMAL.replace(
            'libelle = "Pièce d\'identité"',
            'libelle = "Pièce d\'identité"\ncondition = { champ = "motif", eq = "vol" }',
        ),
        "etapes[0].champs[0].condition.champ",
        "posé plus loin",
        id="condition-on-a-later-field",
    ),
    pytest.param(
        extra_field(
            'id = "x"\ntype = "texte"\nlibelle = "X"\n'
            'condition = { or = [{ champ = "motif", eq = "incendie" }] }'
        ),
        "etapes[0].champs[2].condition.or[0].eq",
        "« incendie » n'est pas un choix du champ « motif » (perte, vol)",
        id="eq-value-not-a-choice",
    ),
    pytest.param(
        extra_field('id = "motif"\ntype = "texte"\nlibelle = "Encore"'),
        "etapes[0].champs[2].id",
        "déjà utilisé à etapes[0].champs[1].id",
        id="duplicate-field-id",
    ),
    pytest.param(
        extra_field('id = "x"\ntype = "texte"\nlibelle = "X"\nbind = "usager.pointure"'),
        "etapes[0].champs[2].bind",
        "cible « usager.pointure » inconnue",
        id="unknown-bind",
    ),
    pytest.param(
        extra_field('id = "x"\ntype = "date"\nlibelle = "X"\nbind = "usager.nom"'),
        "etapes[0].champs[2].bind",
        "n'accepte pas un champ de type date",
        id="bind-type-mismatch",
    ),
    pytest.param(
        extra_field('id = "x"\ntype = "choix"\nlibelle = "X"'),
        "etapes[0].champs[2].choix",
        "au moins un choix",
        id="choice-without-choices",
    ),
    pytest.param(
        extra_field('id = "x"\ntype = "email"\nlibelle = "Email"'),
        "etapes[0].champs[2].obligatoire",
        "un email n'est jamais obligatoire",
        id="mandatory-email",
    ),
    pytest.param(
        extra_field('id = "x"\ntype = "texte"\nlibelle = "X"\nmobile = true'),
        "etapes[0].champs[2].mobile",
        "ne s'applique pas au type texte",
        id="key-for-another-type",
    ),
    pytest.param(
        extra_field('id = "x"\ntype = "date"\nlibelle = "X"\nmax = "demain"'),
        "etapes[0].champs[2].max",
        "borne de date « demain » non reconnue",
        id="bad-date-bound",
    ),
    pytest.param(
        extra_field(
            'id = "x"\ntype = "texte"\nlibelle = "X"\n'
            'condition = { champ = "piece_identite", rempli = "oui" }'
        ),
        "etapes[0].champs[2].condition.rempli",
        "true ou false",
        id="filled-needs-boolean",
    ),
    pytest.param(
        MINIMAL + '\n[[etapes.groupes]]\nid = "g"\ntitre = "G"\nlibelle_element = "Élément"\n'
        'min = 3\nmax = 2\n\n[[etapes.groupes.champs]]\nid = "g_nom"\ntype = "texte"\n'
        'libelle = "Nom"\n',
        "etapes[1].groupes[0].min",
        "min (3) est supérieur à max (2)",
        id="group-min-above-max",
    ),
    pytest.param(
        MINIMAL + '\n[[etapes.groupes]]\nid = "g"\ntitre = "G"\nlibelle_element = "Élément"\n\n'
        '[[etapes.groupes.champs]]\nid = "g_nom"\ntype = "texte"\nlibelle = "Nom"\n'
        'bind = "usager.nom"\n',
        "etapes[1].groupes[0].champs[0].bind",
        "groupe répétable",
        id="bind-inside-group",
    ),
    pytest.param(
        MINIMAL + '\n[[documents]]\nid = "d"\nlibelle = "D"\n'
        'condition = { champ = "g_nom", rempli = true }\n',
        "documents[0].condition.champ",
        "champ inconnu « g_nom »",
        id="document-condition-unknown-field",
    ),
    pytest.param(
        MINIMAL.replace('bind = "contact.mode"\n', ""),
        "etapes",
        "contact.mode",
        id="no-contact-mode",
    ),
    pytest.param(
        MINIMAL.replace('resume = "', 'pictogramme = "fusee"\nresume = "'),
        "pictogramme",
        "pictogramme « fusee » inconnu (pictogrammes : carte_grise, cle,",
        id="unknown-pictogram",
    ),
    pytest.param(
        MINIMAL.replace('resume = "', 'rang = 0\nresume = "'),
        "rang",
        "un nombre entier supérieur ou égal à 1 est attendu",
        id="rank-below-one",
    ),
    pytest.param(
        MINIMAL.replace('id = "essai"', 'id = "autre_chose"'),
        "id",
        "ne correspond pas au nom du fichier",
        id="id-does-not-match-file-name",
    ),
]


@pytest.mark.parametrize(("text", "place", "reason"), BROKEN)
def test_broken_definition_names_file_place_and_reason(
    tmp_path: Path, text: str, place: str, reason: str
) -> None:
    path = write(tmp_path, "essai.v1.toml", text)
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    error = caught.value
    assert error.file == path
    assert error.place == place
    assert reason in error.reason
    assert str(error) == f"{path}: {place}: {error.reason}"


def test_group_fields_may_be_read_only_by_their_siblings(tmp_path: Path) -> None:
    group = (
        '\n[[etapes.groupes]]\nid = "g"\ntitre = "G"\nlibelle_element = "Élément"\n\n'
        '[[etapes.groupes.champs]]\nid = "g_a"\ntype = "oui_non"\nlibelle = "A"\n\n'
        '[[etapes.groupes.champs]]\nid = "g_b"\ntype = "texte"\nlibelle = "B"\n'
        'condition = { champ = "g_a", eq = true }\n'
    )
    load_file(write(tmp_path, "essai.v1.toml", MINIMAL + group))
    outside = (
        MINIMAL
        + group
        + (
            '\n[[etapes]]\nid = "fin"\ntitre = "Fin"\n\n[[etapes.champs]]\nid = "z"\n'
            'type = "texte"\nlibelle = "Z"\ncondition = { champ = "g_a", eq = true }\n'
        )
    )
    with pytest.raises(DefinitionError) as caught:
        load_file(write(tmp_path, "essai.v1.toml", outside))
    assert caught.value.place == "etapes[2].champs[0].condition.champ"
    assert "dans le groupe « g »" in caught.value.reason


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('titre = "Essai"', "titre = Essai")
    path = write(tmp_path, "essai.v1.toml", text)
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    assert caught.value.line == 4
    assert caught.value.place.startswith("ligne 4")
    assert "syntaxe TOML invalide" in caught.value.reason
    assert "guillemets" in caught.value.reason  # translated for authors who read French


def test_bad_file_name_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"<id>\.v<version>\.toml"):
        load_file(write(tmp_path, "essai.toml", MINIMAL))


def test_catalog_loads_the_good_files_and_lists_the_broken_ones(tmp_path: Path) -> None:
    write(tmp_path, "essai.v1.toml", MINIMAL)
    write(tmp_path, "casse.v1.toml", MINIMAL.replace('id = "essai"', 'id = "casse"') + "[[")
    write(
        tmp_path,
        "typo.v1.toml",
        MINIMAL.replace('id = "essai"', 'id = "typo"').replace(
            'type = "choix"\nlibelle = "Motif"', 'type = "choiz"\nlibelle = "Motif"'
        ),
    )
    write(tmp_path, "LISEZMOI.txt", "pas une définition")
    catalog = load_catalog(tmp_path)
    assert [d.id for d in catalog.all()] == ["essai"]
    assert sorted(e.file.name for e in catalog.errors) == ["casse.v1.toml", "typo.v1.toml"]
    assert any(e.place == "etapes[0].champs[1].type" for e in catalog.errors)


def test_missing_directory_is_an_error_not_a_crash(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path / "absent")
    assert catalog.all() == []
    assert len(catalog.errors) == 1


def test_versions_are_pinned(tmp_path: Path) -> None:
    write(tmp_path, "essai.v1.toml", MINIMAL)
    v2 = MINIMAL.replace("version = 1", "version = 2").replace(
        '{ id = "vol", libelle = "Vol" }',
        '{ id = "vol", libelle = "Vol" }, { id = "deterioration", libelle = "Abîmée" }',
    )
    write(tmp_path, "essai.v2.toml", v2)
    catalog = load_catalog(tmp_path)
    assert catalog.errors == []
    assert catalog.latest("essai").version == 2
    assert catalog.get("essai", 1).field("motif").choice_ids() == ("perte", "vol")
    assert "deterioration" in catalog.get("essai", 2).field("motif").choice_ids()
    assert [(d.id, d.version) for d in catalog.all()] == [("essai", 1), ("essai", 2)]
    assert catalog.versions("essai") == [1, 2]
    assert [d.version for d in catalog.current()] == [2]
    with pytest.raises(KeyError):
        catalog.get("essai", 3)
    with pytest.raises(KeyError):
        catalog.latest("inconnue")


def test_version_in_file_must_match_its_name(tmp_path: Path) -> None:
    path = write(tmp_path, "essai.v2.toml", MINIMAL)
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    assert caught.value.place == "version"


def test_the_example_in_the_schema_reference_loads(tmp_path: Path) -> None:
    reference = Path(__file__).resolve().parents[2] / "docs" / "demarches.md"
    text = reference.read_text(encoding="utf-8")
    example = text.split("## Exemple complet", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    demarche = load_file(write(tmp_path, "exemple.v1.toml", example))
    assert demarche.group("coheritiers").min_items == 1
    assert [d.kind for d in demarche.documents] == ["declaration_vol", "desistement"]
