"""Projection of answers into the entity tables (person, vehicle, mandate, contact mode).

Answers are the source of truth; these columns are what search, lists and receipts read. They
are rewritten from the *visible* answers (``bound_values``) so that an answer left behind by a
branch the person backed out of (an SIV plate, then "it is an old FNI plate") never shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.sql.expression import Executable

from kiosk.demarches import Demarche, JSONValue, bound_values, is_filled
from kiosk.demarches.model import condition_inputs
from kiosk.dossiers.text import name_key, plate_key
from kiosk.store.models import Dossier, Mandat, Usager, Vehicule
from kiosk.store.portable import param, table_of, upsert_for
from kiosk.store.prepared import Prepared, Unit


# Where a bound answer is projected: (model, column, how to convert the stored value).
def _as_date(value: JSONValue | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def as_text(value: JSONValue | None) -> str | None:
    return None if value is None else str(value)


def _as_json(value: JSONValue | None) -> Any:
    return value


PROJECTIONS: dict[str, tuple[type[Usager | Vehicule | Mandat], str, Callable[[Any], Any]]] = {
    "usager.nom": (Usager, "nom", as_text),
    "usager.prenoms": (Usager, "prenoms", as_text),
    "usager.date_naissance": (Usager, "date_naissance", _as_date),
    "usager.lieu_naissance": (Usager, "lieu_naissance", as_text),
    "usager.telephone": (Usager, "telephone", as_text),
    "usager.adresse": (Usager, "adresse", _as_json),
    "usager.email": (Usager, "email", as_text),
    "vehicule.immatriculation": (Vehicule, "immatriculation", as_text),
    "vehicule.vin": (Vehicule, "vin", as_text),
    "vehicule.marque": (Vehicule, "marque", as_text),
    "vehicule.date_premiere_immatriculation": (Vehicule, "date_premiere_immatriculation", _as_date),
    "mandataire.nom": (Mandat, "mandataire_nom", as_text),
    "mandataire.prenoms": (Mandat, "mandataire_prenoms", as_text),
    "mandataire.qualite": (Mandat, "qualite", as_text),
}

# Search keys kept beside the projected columns.
DERIVED: dict[str, tuple[str, Callable[[str], str]]] = {
    "usager.nom": ("nom_norm", name_key),
    "usager.prenoms": ("prenoms_norm", name_key),
    "vehicule.immatriculation": ("immatriculation_norm", plate_key),
}


_DOSSIER = table_of(Dossier)
#: The contact mode, written only when it changes (an unchanged row is no page to write).
_CONTACT_MODE = Prepared(
    lambda _: (
        update(_DOSSIER)
        .where(
            _DOSSIER.c.id == param(_DOSSIER.c.id, "dossier"),
            _DOSSIER.c.contact_mode.is_distinct_from(param(_DOSSIER.c.contact_mode, "mode")),
        )
        .values(contact_mode=param(_DOSSIER.c.contact_mode, "mode"))
    )
)
_UPSERTS: dict[tuple[type[Usager | Vehicule | Mandat], tuple[str, ...]], Prepared] = {}


def _entity_upsert(model: type[Usager | Vehicule | Mandat], columns: tuple[str, ...]) -> Prepared:
    """Insert the entity row, or update those of its ``columns`` that changed (none: no write)."""
    key = (model, columns)
    prepared = _UPSERTS.get(key)
    if prepared is None:
        table = table_of(model)

        def build(dialect: str) -> Executable:
            statement = upsert_for(dialect, table).values(
                {table.c[name]: param(table.c[name]) for name in ("dossier_id", *columns)}
            )
            return statement.on_conflict_do_update(  # type: ignore[no-any-return]
                index_elements=["dossier_id"],
                set_={name: statement.excluded[name] for name in columns},
                where=or_(
                    *(table.c[name].is_distinct_from(statement.excluded[name]) for name in columns)
                ),
            )

        prepared = _UPSERTS[key] = Prepared(build)
    return prepared


def reproject(
    s: Unit, dossier_id: str, demarche: Demarche, answers: Mapping[str, JSONValue]
) -> None:
    """Write the entity columns from the visible answers (inside the caller's transaction).

    Rows and columns whose values did not change are not written: an autosave then writes the
    pages of what changed only (issue 18). The statements bypass the ORM's identity map: an
    entity object loaded in ``s`` keeps its former values until reloaded.
    """
    bound = bound_values(demarche, answers)
    targets = {f.bind for f in demarche.all_fields() if f.bind}
    per_model: dict[type[Usager | Vehicule | Mandat], dict[str, Any]] = {}
    for target in sorted(targets):
        value = bound.get(target)
        if target == "contact.mode":
            _CONTACT_MODE.execute(s, dossier=dossier_id, mode=as_text(value))
            continue
        projection = PROJECTIONS.get(target)
        if projection is None:
            continue
        model, column, convert = projection
        values = per_model.setdefault(model, {})
        values[column] = convert(value)
        derived = DERIVED.get(target)
        if derived is not None:
            values[derived[0]] = derived[1](str(value)) if value is not None else None
    for model, values in per_model.items():
        _entity_upsert(model, tuple(values)).execute(s, dossier_id=dossier_id, **values)


@functools.cache
def sole_target(demarche: Demarche, path: str) -> str | None:
    """The bind target an answer at ``path`` alone decides, or None.

    It does when ``path`` is a top-level question always asked (neither it nor its step has a
    condition), no condition reads it, and no other question binds the same target: its answer
    is then the target's value whatever the other answers (``bound_values``), and nothing else
    can change with it. :func:`project_one` writes it; anything else takes :func:`reproject`.
    """
    if path in condition_inputs(demarche):
        return None
    for step in demarche.steps:
        for field in step.fields:
            if field.id != path:
                continue
            target = field.bind
            if target is None or step.condition is not None or field.condition is not None:
                return None
            shared = sum(1 for other in demarche.all_fields() if other.bind == target)
            return target if shared == 1 else None
    return None


def project_one(s: Unit, dossier_id: str, target: str, value: JSONValue | None) -> None:
    """Write one bind target's columns from the answer that alone decides it
    (:func:`sole_target`), inside the caller's transaction; unchanged, nothing is written."""
    value = value if is_filled(value) else None
    if target == "contact.mode":
        _CONTACT_MODE.execute(s, dossier=dossier_id, mode=as_text(value))
        return
    projection = PROJECTIONS.get(target)
    if projection is None:
        return
    model, column, convert = projection
    values = {column: convert(value)}
    derived = DERIVED.get(target)
    if derived is not None:
        values[derived[0]] = derived[1](str(value)) if value is not None else None
    _entity_upsert(model, tuple(values)).execute(s, dossier_id=dossier_id, **values)
