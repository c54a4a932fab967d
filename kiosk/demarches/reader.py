"""Reading a whole parsed definition (a TOML document as a dict) into a `Demarche`.

The piece-by-piece checks live in `schema`; this module walks the file in order, so that a condition
only sees the fields asked before it, gives every id a single owner, and applies the rules every
démarche follows (a contact mode without email, an identity document).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.demarches.model import (
    CONTACT_MODES,
    PICTOGRAMMES,
    ROUTAGES,
    THEMES,
    Demarche,
    DocumentRule,
    Field,
    FieldType,
    Group,
    Note,
    Step,
)
from kiosk.demarches.schema import (
    Scope,
    as_table,
    check_keys,
    fail,
    ident,
    integer,
    join,
    parse_condition,
    parse_field,
    tables,
    text,
)

__all__ = ["read_definition"]


class _Ids:
    """One namespace of ids (fields and groups share one: answer paths are built from both)."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}

    def claim(self, identifier: str, place: str) -> None:
        if identifier in self.owners:
            fail(place, f"identifiant « {identifier} » déjà utilisé à {self.owners[identifier]}")
        self.owners[identifier] = place


def _declared(raw_steps: list[Mapping[str, Any]]) -> tuple[set[str], dict[str, str]]:
    """Pre-pass over raw ids, so a bad reference can say *why* it is bad (later, in a group)."""
    top: set[str] = set()
    in_group: dict[str, str] = {}

    def listed(table: Mapping[str, Any], key: str) -> list[Any]:
        value = table.get(key)
        return value if isinstance(value, list) else []

    for step in raw_steps:
        for raw in listed(step, "champs"):
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                top.add(raw["id"])
        for group in listed(step, "groupes"):
            for raw in listed(group, "champs") if isinstance(group, dict) else []:
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    in_group[raw["id"]] = str(group.get("id"))
    return top, in_group


def _group(raw: Mapping[str, Any], where: str, scope: Scope, ids: _Ids) -> Group:
    check_keys(
        raw,
        where,
        {"id", "titre", "libelle_element", "champs"},
        {"aide", "min", "max", "condition"},
    )
    group_id = ident(raw, "id", where)
    ids.claim(group_id, join(where, "id"))
    minimum = integer(raw, "min", where, 0) or 0
    maximum = integer(raw, "max", where, 1)
    if maximum is not None and minimum > maximum:
        fail(join(where, "min"), f"min ({minimum}) est supérieur à max ({maximum})")
    condition = None
    if "condition" in raw:
        condition = parse_condition(raw["condition"], join(where, "condition"), scope)
    raw_members = tables(raw, "champs", where)
    if not raw_members:
        fail(join(where, "champs"), "au moins un champ est attendu")
    members: list[Field] = []
    inner = scope  # siblings become visible one by one, like top-level fields
    for m, raw_member in enumerate(raw_members):
        member = parse_field(raw_member, f"{where}.champs[{m}]", inner, in_group=True)
        ids.claim(member.id, f"{where}.champs[{m}].id")
        members.append(member)
        inner = inner.with_fields({member.id: member})
    return Group(
        id=group_id,
        title=text(raw, "titre", where),
        item_label=text(raw, "libelle_element", where),
        fields=tuple(members),
        help=text(raw, "aide", where, ""),
        min_items=minimum,
        max_items=maximum,
        condition=condition,
    )


def _step(
    raw: Mapping[str, Any], place: str, scope: Scope, ids: _Ids, step_ids: _Ids
) -> tuple[Step, Scope]:
    """Read one step; returns it with the scope grown by its top-level fields."""
    check_keys(raw, place, {"id", "titre"}, {"aide", "condition", "champs", "groupes"})
    step_id = ident(raw, "id", place)
    step_ids.claim(step_id, join(place, "id"))
    condition = None
    if "condition" in raw:
        condition = parse_condition(raw["condition"], join(place, "condition"), scope)
    fields: list[Field] = []
    for f, raw_field in enumerate(tables(raw, "champs", place)):
        field = parse_field(raw_field, f"{place}.champs[{f}]", scope, in_group=False)
        ids.claim(field.id, f"{place}.champs[{f}].id")
        fields.append(field)
        scope = scope.with_fields({field.id: field})
    groups = tuple(
        _group(raw_group, f"{place}.groupes[{g}]", scope, ids)
        for g, raw_group in enumerate(tables(raw, "groupes", place))
    )
    if not fields and not groups:
        fail(place, "une étape doit contenir au moins un champ ou un groupe")
    step = Step(
        id=step_id,
        title=text(raw, "titre", place),
        fields=tuple(fields),
        groups=groups,
        help=text(raw, "aide", place, ""),
        condition=condition,
    )
    return step, scope


def _documents(
    data: Mapping[str, Any], scope: Scope, groups: Mapping[str, Group]
) -> tuple[DocumentRule, ...]:
    rules: list[DocumentRule] = []
    seen: set[str] = set()
    for d, raw in enumerate(tables(data, "documents", "")):
        where = f"documents[{d}]"
        check_keys(raw, where, {"id", "libelle"}, {"aide", "condition", "pour_chaque"})
        kind = ident(raw, "id", where)
        if kind in seen:
            # One rule per kind keeps the checklist free of duplicates; branches go in one `or`.
            fail(
                join(where, "id"), f"document « {kind} » en double : réunissez les conditions (or)"
            )
        seen.add(kind)
        for_each = None
        doc_scope = scope
        if "pour_chaque" in raw:
            for_each = text(raw, "pour_chaque", where)
            if for_each not in groups:
                fail(join(where, "pour_chaque"), f"groupe « {for_each} » inconnu")
            doc_scope = scope.with_fields({f.id: f for f in groups[for_each].fields})
        condition = None
        if "condition" in raw:
            condition = parse_condition(raw["condition"], join(where, "condition"), doc_scope)
        label = text(raw, "libelle", where)
        rules.append(DocumentRule(kind, label, text(raw, "aide", where, ""), condition, for_each))
    return tuple(rules)


def _notes(data: Mapping[str, Any], scope: Scope) -> tuple[Note, ...]:
    notes: list[Note] = []
    seen: set[str] = set()
    for n, raw in enumerate(tables(data, "informations", "")):
        where = f"informations[{n}]"
        check_keys(raw, where, {"id", "texte"}, {"condition"})
        note_id = ident(raw, "id", where)
        if note_id in seen:
            fail(join(where, "id"), f"identifiant « {note_id} » en double")
        seen.add(note_id)
        condition = None
        if "condition" in raw:
            condition = parse_condition(raw["condition"], join(where, "condition"), scope)
        notes.append(Note(note_id, text(raw, "texte", where), condition))
    return tuple(notes)


def _check_policy(steps: tuple[Step, ...]) -> None:
    """Rules every démarche follows: a way to reach the person without email, and their identity."""
    contact = [
        (s, f, field)
        for s, step in enumerate(steps)
        for f, field in enumerate(step.fields)
        if field.bind == "contact.mode"
    ]
    if not contact:
        fail(
            "etapes",
            "aucun champ lié à contact.mode : chaque démarche demande comment joindre la personne "
            f"sans email ({', '.join(sorted(CONTACT_MODES))})",
        )
    for s, f, field in contact:
        if not field.required or field.condition is not None or steps[s].condition is not None:
            fail(
                f"etapes[{s}].champs[{f}]",
                "le mode de contact doit être obligatoire et toujours posé",
            )
    if not any(
        field.type is FieldType.IDENTITY_DOCUMENT for step in steps for field in step.fields
    ):
        fail("etapes", "aucun champ de type piece_identite : chaque démarche identifie la personne")


def read_definition(data: Mapping[str, Any], source: Path) -> Demarche:
    """Check a whole definition and build it; raises `SchemaError` at the first problem."""
    as_table(data, "")
    check_keys(
        data,
        "",
        {"id", "version", "titre", "resume", "theme", "etapes"},
        {"routage", "documents", "informations", "pictogramme", "rang"},
    )
    demarche_id = ident(data, "id", "")
    version = integer(data, "version", "", 1)
    assert version is not None  # required key, checked above
    routage = text(data, "routage", "", "ants")
    if routage not in ROUTAGES:
        fail("routage", f"routage « {routage} » inconnu (routages : {', '.join(sorted(ROUTAGES))})")
    theme = text(data, "theme", "")
    if theme not in THEMES:
        fail("theme", f"thème « {theme} » inconnu (thèmes : {', '.join(sorted(THEMES))})")
    pictogram = text(data, "pictogramme", "", "") or None
    if pictogram is not None and pictogram not in PICTOGRAMMES:
        known = ", ".join(sorted(PICTOGRAMMES))
        fail("pictogramme", f"pictogramme « {pictogram} » inconnu (pictogrammes : {known})")
    rank = integer(data, "rang", "", 1)
    raw_steps = tables(data, "etapes", "")
    if not raw_steps:
        fail("etapes", "au moins une étape est attendue")
    scope = Scope(*_declared(raw_steps))
    ids, step_ids = _Ids(), _Ids()
    steps: list[Step] = []
    for s, raw_step in enumerate(raw_steps):
        step, scope = _step(raw_step, f"etapes[{s}]", scope, ids, step_ids)
        steps.append(step)
    groups = {group.id: group for step in steps for group in step.groups}
    documents = _documents(data, scope, groups)
    notes = _notes(data, scope)
    _check_policy(tuple(steps))
    return Demarche(
        id=demarche_id,
        version=version,
        title=text(data, "titre", ""),
        summary=text(data, "resume", ""),
        routage=routage,
        steps=tuple(steps),
        documents=documents,
        source=source,
        theme=theme,
        notes=notes,
        pictogram=pictogram,
        rank=rank,
    )
