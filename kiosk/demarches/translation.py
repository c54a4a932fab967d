"""Translations of a démarche's texts, read from data files and applied to a loaded definition.

A translation file (`i18n/<id>.v<version>.<lang>.toml`, format in docs/demarches.md) gives, by
stable id, the texts the person reads: titles, questions, help, choices, documents, informations.
French stays the reference: a translation may be partial, and what it leaves out is shown in French.
It is checked as strictly as a definition (an unknown id or key is an error, never ignored), because
a typo would otherwise leave a French sentence on an Arabic screen with nobody noticing.

Only texts change: ids, types, conditions and rules are the French definition's own, so a localized
démarche evaluates exactly like the original.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kiosk.demarches.model import Choice, Demarche, Field, Group, Step
from kiosk.demarches.schema import as_table, check_keys, fail, join

__all__ = [
    "LANGUAGES",
    "SOURCE_LANGUAGE",
    "TRANSLATION_NAME_RE",
    "Translation",
    "localize",
    "read_translation",
    "translatable_texts",
]

SOURCE_LANGUAGE = "fr"
# The person's languages at the counter. Adding one is adding its code here and its files.
LANGUAGES: tuple[str, ...] = ("fr", "en", "ar")
# `<id>.v<version>.<lang>.toml`, in the `i18n/` folder beside the definitions.
TRANSLATION_NAME_RE = re.compile(r"^([a-z][a-z0-9_]*)\.v([1-9]\d*)\.([a-z]{2})\.toml$")

_T = TypeVar("_T")


@dataclass(frozen=True)
class Translation:
    """The checked texts of one translation file, keyed by their place (`champs.nom.libelle`)."""

    demarche_id: str
    version: int
    lang: str
    source: Path
    texts: Mapping[str, str]


def translatable_texts(demarche: Demarche) -> Iterator[tuple[str, str]]:
    """Every text the person may read, as `(place in a translation file, French text)`.

    Empty help texts are left out: there is nothing to translate. The places are the keys a
    translation file uses, so this is also the list of what a complete translation contains.
    """
    yield "titre", demarche.title
    yield "resume", demarche.summary
    for step in demarche.steps:
        yield f"etapes.{step.id}.titre", step.title
        yield from _optional(f"etapes.{step.id}.aide", step.help)
    for field in demarche.all_fields():
        place = f"champs.{field.id}"
        yield f"{place}.libelle", field.label
        yield from _optional(f"{place}.aide", field.help)
        for key, options in (("choix", field.choices), ("natures", field.accepted_kinds)):
            for option in options:
                yield f"{place}.{key}.{option.id}.libelle", option.label
                yield from _optional(f"{place}.{key}.{option.id}.aide", option.help)
    for group in demarche.groups():
        yield f"groupes.{group.id}.titre", group.title
        yield f"groupes.{group.id}.libelle_element", group.item_label
        yield from _optional(f"groupes.{group.id}.aide", group.help)
    for rule in demarche.documents:
        yield f"documents.{rule.kind}.libelle", rule.label
        yield from _optional(f"documents.{rule.kind}.aide", rule.help)
    for note in demarche.notes:
        yield f"informations.{note.id}.texte", note.text


def _optional(place: str, french: str) -> Iterator[tuple[str, str]]:
    if french:
        yield place, french


def _text(value: object, place: str) -> str:
    if not isinstance(value, str) or not value.strip():
        fail(place, "un texte non vide est attendu")
    return value.strip()


def _read_table(
    raw: Mapping[str, Any], place: str, allowed: Mapping[str, str], texts: dict[str, str]
) -> None:
    """Read `clé = "texte"` entries whose French original exists (`allowed`: key -> French)."""
    check_keys(raw, place, set(), set(allowed))
    for key, value in raw.items():
        if not allowed[key]:
            fail(join(place, key), f"le texte français n'a pas de « {key} » : rien à traduire")
        texts[join(place, key)] = _text(value, join(place, key))


def _read_options(
    raw: object, place: str, options: tuple[Choice, ...], texts: dict[str, str]
) -> None:
    """`choix`/`natures`: `id = "libellé"`, or `id = { libelle = "…", aide = "…" }`."""
    by_id = {option.id: option for option in options}
    for option_id, value in as_table(raw, place).items():
        where = join(place, option_id)
        if option_id not in by_id:
            known = ", ".join(by_id)
            fail(where, f"choix « {option_id} » inconnu (choix : {known})")
        option = by_id[option_id]
        if isinstance(value, str):
            texts[join(where, "libelle")] = _text(value, where)
        else:
            allowed = {"libelle": option.label, "aide": option.help}
            _read_table(as_table(value, where), where, allowed, texts)


def _read_field(raw: Mapping[str, Any], place: str, field: Field, texts: dict[str, str]) -> None:
    simple = {key: value for key, value in raw.items() if key not in ("choix", "natures")}
    _read_table(simple, place, {"libelle": field.label, "aide": field.help}, texts)
    for key, options in (("choix", field.choices), ("natures", field.accepted_kinds)):
        if key in raw:
            if not options:
                fail(join(place, key), f"le champ « {field.id} » n'a pas de « {key} »")
            _read_options(raw[key], join(place, key), options, texts)


def _section(
    data: Mapping[str, Any], key: str, known: Mapping[str, _T], kind: str
) -> Iterator[tuple[str, Mapping[str, Any], _T]]:
    """The `[key.<id>]` tables of a section, each with its place and the item it translates."""
    for item_id, raw in as_table(data.get(key, {}), key).items():
        place = join(key, item_id)
        if item_id not in known:
            fail(place, f"{kind} « {item_id} » inconnu dans cette démarche")
        yield place, as_table(raw, place), known[item_id]


def read_translation(
    data: Mapping[str, Any], demarche: Demarche, lang: str, source: Path
) -> Translation:
    """Check a parsed translation file against the démarche it translates.

    Raises:
        SchemaError: an unknown key, an unknown id, a text that is not a non-empty string, or a
            text whose French original does not exist (an `aide` where French has none).
    """
    check_keys(
        data,
        "",
        set(),
        {"titre", "resume", "etapes", "champs", "groupes", "documents", "informations"},
    )
    texts: dict[str, str] = {}
    root = {key: value for key, value in data.items() if key in ("titre", "resume")}
    _read_table(root, "", {"titre": demarche.title, "resume": demarche.summary}, texts)
    steps = {step.id: step for step in demarche.steps}
    for place, raw, step in _section(data, "etapes", steps, "étape"):
        _read_table(raw, place, {"titre": step.title, "aide": step.help}, texts)
    fields = {field.id: field for field in demarche.all_fields()}
    for place, raw, field in _section(data, "champs", fields, "champ"):
        _read_field(raw, place, field, texts)
    groups = {group.id: group for group in demarche.groups()}
    for place, raw, group in _section(data, "groupes", groups, "groupe"):
        allowed = {"titre": group.title, "libelle_element": group.item_label, "aide": group.help}
        _read_table(raw, place, allowed, texts)
    documents = {rule.kind: rule for rule in demarche.documents}
    for place, raw, rule in _section(data, "documents", documents, "document"):
        _read_table(raw, place, {"libelle": rule.label, "aide": rule.help}, texts)
    notes = {note.id: note for note in demarche.notes}
    for place, raw, note in _section(data, "informations", notes, "information"):
        _read_table(raw, place, {"texte": note.text}, texts)
    return Translation(demarche.id, demarche.version, lang, source, texts)


def localize(demarche: Demarche, translation: Translation) -> Demarche:
    """The démarche with the translated texts, French where the translation has none.

    Ids, types, conditions, binds and rules are kept as they are, so answers given in one
    language stay valid in another and evaluation gives the same result.
    """
    texts = translation.texts

    def tr(place: str, french: str) -> str:
        return texts.get(place, french)

    def option(choice: Choice, place: str) -> Choice:
        where = f"{place}.{choice.id}"
        return Choice(
            choice.id, tr(f"{where}.libelle", choice.label), tr(f"{where}.aide", choice.help)
        )

    def field(item: Field) -> Field:
        place = f"champs.{item.id}"
        return dataclasses.replace(
            item,
            label=tr(f"{place}.libelle", item.label),
            help=tr(f"{place}.aide", item.help),
            choices=tuple(option(c, f"{place}.choix") for c in item.choices),
            accepted_kinds=tuple(option(c, f"{place}.natures") for c in item.accepted_kinds),
        )

    def group(item: Group) -> Group:
        place = f"groupes.{item.id}"
        return dataclasses.replace(
            item,
            title=tr(f"{place}.titre", item.title),
            item_label=tr(f"{place}.libelle_element", item.item_label),
            help=tr(f"{place}.aide", item.help),
            fields=tuple(field(f) for f in item.fields),
        )

    def step(item: Step) -> Step:
        place = f"etapes.{item.id}"
        return dataclasses.replace(
            item,
            title=tr(f"{place}.titre", item.title),
            help=tr(f"{place}.aide", item.help),
            fields=tuple(field(f) for f in item.fields),
            groups=tuple(group(g) for g in item.groups),
        )

    return dataclasses.replace(
        demarche,
        lang=translation.lang,
        title=tr("titre", demarche.title),
        summary=tr("resume", demarche.summary),
        steps=tuple(step(s) for s in demarche.steps),
        documents=tuple(
            dataclasses.replace(
                rule,
                label=tr(f"documents.{rule.kind}.libelle", rule.label),
                help=tr(f"documents.{rule.kind}.aide", rule.help),
            )
            for rule in demarche.documents
        ),
        notes=tuple(
            dataclasses.replace(note, text=tr(f"informations.{note.id}.texte", note.text))
            for note in demarche.notes
        ),
    )
