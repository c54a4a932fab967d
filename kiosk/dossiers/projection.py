"""Projection of answers into the entity tables (person, vehicle, mandate, contact mode).

Answers are the source of truth; these columns are what search, lists and receipts read. They
are rewritten from the *visible* answers (``bound_values``) so that an answer left behind by a
branch the person backed out of (an SIV plate, then "it is an old FNI plate") never shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche, JSONValue, bound_values
from kiosk.dossiers.text import name_key, plate_key
from kiosk.store.models import Dossier, Mandat, Usager, Vehicule
from kiosk.store.portable import upsert


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


def reproject(
    s: Session, dossier_id: str, demarche: Demarche, answers: Mapping[str, JSONValue]
) -> None:
    """Write the entity columns from the visible answers (inside the caller's transaction)."""
    bound = bound_values(demarche, answers)
    targets = {f.bind for f in demarche.all_fields() if f.bind}
    per_model: dict[type[Usager | Vehicule | Mandat], dict[str, Any]] = {}
    for target in sorted(targets):
        value = bound.get(target)
        if target == "contact.mode":
            s.execute(
                update(Dossier).where(Dossier.id == dossier_id).values(contact_mode=as_text(value))
            )
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
        s.execute(
            upsert(s, model)
            .values(dossier_id=dossier_id, **values)
            .on_conflict_do_update(index_elements=["dossier_id"], set_=values)
        )
