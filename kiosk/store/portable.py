"""What SQLite and PostgreSQL spell differently, chosen from the session's database.

Both have ``INSERT … ON CONFLICT … DO UPDATE … WHERE`` with the same meaning and the same row
count (0 when the ``WHERE`` keeps the row as it is), and SQLAlchemy gives each its own
``insert`` with the same ``on_conflict_do_update``: the use cases write one upsert for both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert(session: Session, model: Any) -> Any:
    """An ``INSERT`` into ``model``'s table that takes ``.on_conflict_do_update(...)`` on the
    session's database (``sqlalchemy.dialects.sqlite.Insert`` or its PostgreSQL twin)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
