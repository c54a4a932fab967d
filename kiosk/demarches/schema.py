"""Strict checks for the pieces of a definition: keys, values, conditions and fields.

Every check names its place in the file (`etapes[2].champs[1].type`, indices from 0) and gives its
reason in French, because the people who write definitions are not necessarily developers, and a
typo silently ignored would become a question never asked at the counter. Unknown keys are errors.

Conditions may only read fields asked *before* them (earlier steps, earlier fields of the same step,
earlier fields of the same group item): the kiosk asks in order, and this rules out cycles.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any, NoReturn

from kiosk.demarches.model import (
    BIND_TYPES,
    CONTACT_MODES,
    AllOf,
    AnyOf,
    Choice,
    Condition,
    Equals,
    Field,
    FieldType,
    Filled,
    Not,
    OneOf,
    Scalar,
)
from kiosk.demarches.validators import resolve_date_bound

__all__ = [
    "SchemaError",
    "Scope",
    "as_table",
    "boolean",
    "check_keys",
    "fail",
    "ident",
    "integer",
    "join",
    "parse_condition",
    "parse_field",
    "tables",
    "text",
]

_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
_COMPARABLE = frozenset({FieldType.CHOICE, FieldType.BOOLEAN, FieldType.TEXT})
# Keys that only make sense for some field types, so a misplaced one is reported, not ignored.
_TYPE_KEYS = {
    "choix": frozenset({FieldType.CHOICE}),
    "natures": frozenset({FieldType.DOCUMENT}),
    "mobile": frozenset({FieldType.PHONE}),
    "min": frozenset({FieldType.DATE}),
    "max": frozenset({FieldType.DATE}),
    "longueur_max": frozenset({FieldType.TEXT, FieldType.LONG_TEXT}),
}
_FIELD_KEYS = frozenset({"id", "type", "libelle", "aide", "obligatoire", "bind", "condition"})


class SchemaError(Exception):
    """A definition breaks the schema at `place` for `reason` (French)."""

    def __init__(self, place: str, reason: str) -> None:
        super().__init__(f"{place}: {reason}")
        self.place = place
        self.reason = reason


def fail(place: str, reason: str) -> NoReturn:
    raise SchemaError(place, reason)


def join(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key


def check_keys(
    table: Mapping[str, Any], place: str, required: set[str], optional: set[str]
) -> None:
    for key in table:
        if key not in required and key not in optional:
            allowed = ", ".join(sorted(required | optional))
            fail(join(place, key), f"clé inconnue « {key} » (clés possibles : {allowed})")
    for key in sorted(required):
        if key not in table:
            fail(join(place, key), f"clé obligatoire « {key} » absente")


def as_table(value: object, place: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        fail(place, "une table est attendue (par exemple { clé = valeur })")
    return value


def tables(table: Mapping[str, Any], key: str, place: str) -> list[Mapping[str, Any]]:
    value = table.get(key, [])
    if not isinstance(value, list):
        fail(join(place, key), f"une liste de tables est attendue ([[{key}]])")
    return [as_table(item, f"{join(place, key)}[{i}]") for i, item in enumerate(value)]


def text(table: Mapping[str, Any], key: str, place: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        fail(join(place, key), "un texte non vide est attendu")
    return value.strip()


def ident(table: Mapping[str, Any], key: str, place: str) -> str:
    value = text(table, key, place)
    if not _ID_RE.fullmatch(value):
        fail(
            join(place, key),
            f"identifiant « {value} » invalide : une minuscule, puis minuscules, chiffres ou _",
        )
    return value


def boolean(table: Mapping[str, Any], key: str, place: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        fail(join(place, key), "true ou false est attendu")
    return value


def integer(table: Mapping[str, Any], key: str, place: str, minimum: int) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        fail(join(place, key), f"un nombre entier supérieur ou égal à {minimum} est attendu")
    return value


class Scope:
    """The fields a condition may read at one point of the file, and why others are refused."""

    def __init__(self, declared_top: Collection[str], declared_in_group: Mapping[str, str]):
        self.visible: dict[str, Field] = {}
        self.declared_top = declared_top  # every top-level field id in the file
        self.declared_in_group = declared_in_group  # every group member id -> its group id

    def with_fields(self, extra: dict[str, Field]) -> Scope:
        scope = Scope(self.declared_top, self.declared_in_group)
        scope.visible = {**self.visible, **extra}
        return scope

    def resolve(self, field_id: str, place: str) -> Field:
        if field_id in self.visible:
            return self.visible[field_id]
        if field_id in self.declared_in_group:
            group = self.declared_in_group[field_id]
            fail(
                place,
                f"le champ « {field_id} » est dans le groupe « {group} » : seuls les champs "
                "posés après lui dans le même groupe peuvent y faire référence",
            )
        if field_id in self.declared_top:
            fail(
                place,
                f"le champ « {field_id} » est posé plus loin (ou c'est ce champ même) : "
                "une condition ne peut dépendre que d'une question posée avant",
            )
        fail(place, f"la condition fait référence au champ inconnu « {field_id} »")


def _scalar_for(target: Field, value: object, place: str) -> Scalar:
    if target.type not in _COMPARABLE:
        fail(place, f"on ne compare pas un champ de type {target.type} : utilisez « rempli »")
    if target.type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            fail(place, f"le champ « {target.id} » est un oui/non : comparez à true ou false")
        return value
    if not isinstance(value, str):
        fail(place, f"le champ « {target.id} » attend un texte dans la comparaison")
    if target.type is FieldType.CHOICE and value not in target.choice_ids():
        choices = ", ".join(target.choice_ids())
        fail(place, f"« {value} » n'est pas un choix du champ « {target.id} » ({choices})")
    return value


def parse_condition(raw: object, place: str, scope: Scope) -> Condition:
    table = as_table(raw, place)
    for combinator in ("and", "or"):
        if combinator in table:
            check_keys(table, place, {combinator}, set())
            items = table[combinator]
            if not isinstance(items, list) or not items:
                fail(join(place, combinator), "une liste non vide de conditions est attendue")
            parsed = tuple(
                parse_condition(item, f"{place}.{combinator}[{i}]", scope)
                for i, item in enumerate(items)
            )
            return AllOf(parsed) if combinator == "and" else AnyOf(parsed)
    if "not" in table:
        check_keys(table, place, {"not"}, set())
        return Not(parse_condition(table["not"], join(place, "not"), scope))
    operators = [key for key in ("eq", "in", "rempli") if key in table]
    if "champ" not in table or len(operators) != 1:
        fail(
            place,
            "une condition est { champ = …, eq = … }, { champ = …, in = [ … ] }, "
            "{ champ = …, rempli = true }, ou { and = [ … ] }, { or = [ … ] }, { not = { … } }",
        )
    operator = operators[0]
    check_keys(table, place, {"champ", operator}, set())
    target = scope.resolve(text(table, "champ", place), join(place, "champ"))
    value = table[operator]
    if operator == "eq":
        return Equals(target.id, _scalar_for(target, value, join(place, "eq")))
    if operator == "in":
        if not isinstance(value, list) or not value:
            fail(join(place, "in"), "une liste non vide de valeurs est attendue")
        values = (_scalar_for(target, v, f"{place}.in[{i}]") for i, v in enumerate(value))
        return OneOf(target.id, tuple(values))
    if not isinstance(value, bool):
        fail(join(place, "rempli"), "true ou false est attendu")
    return Filled(target.id, value)


def parse_choices(table: Mapping[str, Any], key: str, place: str) -> tuple[Choice, ...]:
    entries = tables(table, key, place)
    if not entries:
        fail(join(place, key), "au moins un choix est attendu")
    seen: set[str] = set()
    choices = []
    for i, entry in enumerate(entries):
        where = f"{join(place, key)}[{i}]"
        check_keys(entry, where, {"id", "libelle"}, {"aide"})
        choice_id = ident(entry, "id", where)
        if choice_id in seen:
            fail(join(where, "id"), f"identifiant « {choice_id} » en double")
        seen.add(choice_id)
        choices.append(
            Choice(choice_id, text(entry, "libelle", where), text(entry, "aide", where, ""))
        )
    return tuple(choices)


def parse_field(raw: Mapping[str, Any], place: str, scope: Scope, in_group: bool) -> Field:
    check_keys(raw, place, {"id", "type", "libelle"}, set(_FIELD_KEYS | _TYPE_KEYS.keys()))
    field_id = ident(raw, "id", place)
    type_name = text(raw, "type", place)
    try:
        field_type = FieldType(type_name)
    except ValueError:
        known = ", ".join(t.value for t in FieldType)
        fail(join(place, "type"), f"type de champ inconnu « {type_name} » (types : {known})")
    for key, types in _TYPE_KEYS.items():
        if key in raw and field_type not in types:
            fail(join(place, key), f"la clé « {key} » ne s'applique pas au type {field_type}")
    required = boolean(raw, "obligatoire", place, default=True)
    bind = raw.get("bind")
    if bind is not None:
        bind = text(raw, "bind", place)
        if bind not in BIND_TYPES:
            fail(
                join(place, "bind"),
                f"cible « {bind} » inconnue (cibles : {', '.join(sorted(BIND_TYPES))})",
            )
        if in_group:
            fail(join(place, "bind"), "un champ de groupe répétable ne peut pas être lié (bind)")
        if field_type not in BIND_TYPES[bind]:
            fail(
                join(place, "bind"),
                f"la cible « {bind} » n'accepte pas un champ de type {field_type}",
            )
    if required and (field_type is FieldType.EMAIL or bind == "usager.email"):
        fail(join(place, "obligatoire"), "un email n'est jamais obligatoire : obligatoire = false")
    condition = None
    if "condition" in raw:
        condition = parse_condition(raw["condition"], join(place, "condition"), scope)
    choices = parse_choices(raw, "choix", place) if field_type is FieldType.CHOICE else ()
    if bind == "contact.mode" and not {c.id for c in choices} <= CONTACT_MODES:
        fail(
            join(place, "choix"), f"les modes de contact sont : {', '.join(sorted(CONTACT_MODES))}"
        )
    kinds = parse_choices(raw, "natures", place) if field_type is FieldType.DOCUMENT else ()
    bounds: dict[str, str | None] = {}
    for key in ("min", "max"):
        spec = raw.get(key)
        if spec is not None:
            if not isinstance(spec, str):
                fail(
                    join(place, key),
                    'un texte est attendu : "aujourd\'hui", "aujourd\'hui - 2 mois" '
                    'ou "1900-01-01"',
                )
            try:
                resolve_date_bound(spec, date(2000, 1, 1))
            except ValueError:
                fail(
                    join(place, key),
                    f"borne de date « {spec} » non reconnue "
                    '("aujourd\'hui", "aujourd\'hui - 2 mois", "1900-01-01")',
                )
        bounds[key] = spec
    if bounds.get("min") and bounds.get("max"):
        sample = date(2000, 1, 1)
        low, high = (resolve_date_bound(str(bounds[k]), sample) for k in ("min", "max"))
        if low > high:
            fail(join(place, "min"), "la borne min est postérieure à la borne max")
    return Field(
        id=field_id,
        type=field_type,
        label=text(raw, "libelle", place),
        help=text(raw, "aide", place, ""),
        required=required,
        bind=bind,
        condition=condition,
        choices=choices,
        accepted_kinds=kinds,
        mobile_only=boolean(raw, "mobile", place, False),
        min_date=bounds.get("min"),
        max_date=bounds.get("max"),
        max_length=integer(raw, "longueur_max", place, 1),
    )
