"""What SQLite and PostgreSQL spell differently, chosen from the session's database.

Both have ``INSERT … ON CONFLICT … DO UPDATE … WHERE`` with the same meaning and the same row
count (0 when the ``WHERE`` keeps the row as it is), and SQLAlchemy gives each its own
``insert`` with the same ``on_conflict_do_update``: the use cases write one upsert for both.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import BindParameter, ColumnElement, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert(session: Session, model: Any) -> Any:
    """An ``INSERT`` into ``model``'s table that takes ``.on_conflict_do_update(...)`` on the
    session's database (``sqlalchemy.dialects.sqlite.Insert`` or its PostgreSQL twin)."""
    return upsert_for(session.get_bind().dialect.name, model)


def upsert_for(dialect: str, model: Any) -> Any:
    """:func:`upsert` for a dialect's name (a statement prepared once per kind of database,
    kiosk/store/prepared.py)."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def param(column: ColumnElement[Any], name: str | None = None) -> BindParameter[Any]:
    """A named parameter with ``column``'s type, so that its value is converted as the column
    stores it (a timestamp as UTC text, a JSON value as canonical text)."""
    return bindparam(name or column.key, type_=column.type)


def table_of(model: Any) -> Table:
    """A mapped class's table (for statements built once, outside the ORM's execution)."""
    return cast("Table", model.__table__)
