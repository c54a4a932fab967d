"""Statements compiled once (kiosk/store/prepared.py) behave as SQLAlchemy's own: same values
stored, same errors, same transaction, on the embedded SQLite store and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiosk.store import Store
from kiosk.store.models import Answer, Dossier, Event, Usager
from kiosk.store.portable import param, table_of
from kiosk.store.prepared import Prepared

pytestmark = pytest.mark.both_stores

_DOSSIER, _ANSWER, _USAGER = table_of(Dossier), table_of(Answer), table_of(Usager)
AT = datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC)

_NEW_ANSWER = Prepared(
    lambda _: insert(_ANSWER).values({column: param(column) for column in _ANSWER.columns})
)
_ANSWERS = Prepared(
    lambda _: select(_ANSWER.c.path, _ANSWER.c.value, _ANSWER.c.updated_at).where(
        _ANSWER.c.dossier_id == param(_ANSWER.c.dossier_id)
    )
)
_BIRTH = Prepared(
    lambda _: (
        update(_USAGER)
        .where(_USAGER.c.dossier_id == param(_USAGER.c.dossier_id, "dossier"))
        .values(date_naissance=param(_USAGER.c.date_naissance, "born"))
    )
)
_EVENTS = Prepared(
    lambda _: select(table_of(Event).c.kind).where(
        table_of(Event).c.dossier_id == param(table_of(Event).c.dossier_id)
    )
)


def _dossier(store: Store, dossier_id: str = "d-1") -> str:
    with store.write() as s:
        s.add(
            Dossier(
                id=dossier_id,
                reference=f"R{dossier_id}",
                demarche_id="succession",
                demarche_version=1,
                state="brouillon",
                created_at=AT,
                updated_at=AT,
            )
        )
        s.add(Usager(dossier_id=dossier_id, nom="Martin"))
    return dossier_id


def test_values_are_stored_and_read_as_the_orm_stores_and_reads_them(store: Store) -> None:
    dossier_id = _dossier(store)
    value = {"ligne": "1 rue de l'Église", "code_postal": "31000"}
    with store.write() as s:
        written = _NEW_ANSWER.execute(
            s, dossier_id=dossier_id, path="adresse", value=value, updated_at=AT
        )
        assert written == 1
        assert _BIRTH.execute(s, dossier=dossier_id, born=date(1980, 2, 29)) == 1
    with store.read() as s:
        stored = s.scalars(select(Answer)).one()
        assert (stored.value, stored.updated_at) == (value, AT)
        assert s.get(Usager, dossier_id).date_naissance == date(1980, 2, 29)  # type: ignore[union-attr]
        # Read back through a prepared query: the same Python values.
        assert _ANSWERS.all(s, dossier_id=dossier_id) == [("adresse", value, AT)]
        assert _ANSWERS.first(s, dossier_id="absent") is None


def test_a_refused_statement_raises_sqlalchemys_error_and_rolls_the_unit_of_work_back(
    store: Store,
) -> None:
    dossier_id = _dossier(store)
    row = {"dossier_id": dossier_id, "path": "nom", "value": "Martin", "updated_at": AT}

    def twice() -> None:
        with store.write() as s:
            _NEW_ANSWER.execute(s, **row)
            # The same key again: the primary key refuses it, the first row goes with it.
            _NEW_ANSWER.execute(s, **row)

    with pytest.raises(IntegrityError):
        twice()
    with store.read() as s:
        assert s.scalars(select(Answer)).all() == []


def test_objects_added_before_are_seen_as_by_the_orms_own_queries(store: Store) -> None:
    dossier_id = _dossier(store)
    with store.write() as s:
        s.add(Event(dossier_id=dossier_id, at=AT, kind="creation"))
        assert _EVENTS.all(s, dossier_id=dossier_id) == [("creation",)]


def test_two_mistakes_are_refused_before_anything_runs_on_both_stores(store: Store) -> None:
    # The statement is compiled once, without its parameters, on either store: these two
    # mistakes are caught there before anything runs (PostgreSQL's SQLAlchemy refuses the
    # second at each execution; the embedded store must not accept what a site's refuses).
    untyped = Prepared(lambda _: select(bindparam("anything")))
    named_as_column = Prepared(
        lambda _: (
            update(_DOSSIER)
            .where(_DOSSIER.c.id == param(_DOSSIER.c.id))
            .values(updated_at=param(_DOSSIER.c.updated_at, "at"))
        )
    )
    with store.write() as s:
        with pytest.raises(TypeError, match="without a type"):
            untyped.first(s, anything=1)
        with pytest.raises(TypeError, match="named as columns: id"):
            named_as_column.execute(s, id="d-1", at=AT)
