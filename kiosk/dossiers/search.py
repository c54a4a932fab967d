"""Finding a dossier at the counter: by reference, by plate or VIN, or by the person's name.

Every branch is an indexed look-up (the reference's unique index, the normalised plate index, a
prefix of the normalised surname and given names), so a search stays in milliseconds with
100,000 dossiers. A common surname matches thousands: their ids come from the name's covering
index, and their order (most recent first) from ``ix_dossier_recent``, never from the rows
themselves, each a page to decrypt (migration 0008, issue 18).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, literal_column, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session

from kiosk.digits import ascii_digits
from kiosk.dossiers.reference import InvalidReference, parse_reference
from kiosk.dossiers.states import DossierState
from kiosk.dossiers.text import name_key, plate_key
from kiosk.store.models import Dossier, Usager, Vehicule

_TOP = "\uffff"  # sorts after every character used in a name key


def _prefix(
    column: InstrumentedAttribute[str | None], key: str, dialect: str
) -> ColumnElement[bool]:
    """``column`` starts with ``key`` (upper-case letters, digits and spaces: ``name_key``)."""
    if dialect == "postgresql":
        # The index's text_pattern_ops compare bytes: LIKE with a fixed prefix uses it whatever
        # the server's locale (a range would follow the locale's order).
        return column.like(key + "%")
    # A range on the column uses its index; LIKE would not (SQLite's LIKE is case-insensitive).
    return and_(column >= key, column < key + _TOP)


class Listed(Protocol):
    """What a list shows of a dossier (the columns, not the ORM object: a page of fifty)."""

    id: str
    reference: str
    demarche_id: str
    demarche_version: int
    state: str
    created_at: datetime
    updated_at: datetime


def _base() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Dossier.id,
            Dossier.reference,
            Dossier.demarche_id,
            Dossier.demarche_version,
            Dossier.state,
            Dossier.created_at,
            Dossier.updated_at,
            Usager.nom,
            Usager.prenoms,
            Vehicule.immatriculation,
        )
        .outerjoin(Usager, Usager.dossier_id == Dossier.id)
        .outerjoin(Vehicule, Vehicule.dossier_id == Dossier.id)
    )


def search_dossiers(
    s: Session, *, state: DossierState | None, text: str | None, limit: int
) -> list[tuple[Listed, str | None, str | None]]:
    """Dossiers matching ``text`` (reference, plate, VIN or name), most recent first."""
    # The page of ids is chosen first, on the dossier table alone; only those rows are then
    # joined to the person and the vehicle (a common surname matches thousands of dossiers).
    page = select(Dossier.id)
    if state is not None:
        page = page.where(Dossier.state == state.value)
    text = (text or "").strip()
    if text:
        condition = _text_condition(text, s.get_bind().dialect.name)
        if condition is None:
            return []
        # Always true, and it makes SQLite order the matches from ``ix_dossier_recent`` (id and
        # time) rather than from each dossier's row: with the id alone as a condition it would
        # choose the primary key's index, then read the row for its time.
        page = page.where(condition, Dossier.updated_at >= literal_column("''"))
    page = page.order_by(Dossier.updated_at.desc()).limit(limit)
    query = (
        _base().where(Dossier.id.in_(page.scalar_subquery())).order_by(Dossier.updated_at.desc())
    )
    results: list[tuple[Listed, str | None, str | None]] = []
    for row in s.execute(query):
        nom, prenoms = row.nom, row.prenoms
        name = " ".join(p for p in ((nom or "").upper(), prenoms or "") if p) or None
        results.append((row, name, row.immatriculation))
    return results


def _text_condition(text: str, dialect: str) -> ColumnElement[bool] | None:
    text = ascii_digits(text)  # a plate or a reference typed with the Arabic keyboard's digits
    try:
        return Dossier.reference == parse_reference(text)
    except InvalidReference:
        pass
    # Each branch selects dossier ids through one index; the union is then joined by primary key.
    # (An OR across the joined tables would make SQLite scan every dossier.)
    branches: list[Select[Any]] = []
    plate = plate_key(text)
    if 5 <= len(plate) <= 17 and any(c.isdigit() for c in plate):
        branches.append(select(Vehicule.dossier_id).where(Vehicule.immatriculation_norm == plate))
        if len(plate) == 17:
            branches.append(select(Vehicule.dossier_id).where(Vehicule.vin == plate))
    words = name_key(text).split()
    if words:
        # "MARTIN", "MARTIN Maëlys" or "Maëlys MARTIN": surname first or last.
        by_name = select(Usager.dossier_id)
        branches.append(by_name.where(_prefix(Usager.nom_norm, " ".join(words), dialect)))
        if len(words) > 1:
            for surname, given in ((words[0], words[1:]), (words[-1], words[:-1])):
                branches.append(
                    by_name.where(
                        _prefix(Usager.nom_norm, surname, dialect),
                        _prefix(Usager.prenoms_norm, " ".join(given), dialect),
                    )
                )
    if not branches:
        return None
    return Dossier.id.in_(union(*branches))
