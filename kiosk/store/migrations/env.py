"""Alembic environment: migrations run on the connection the kiosk hands over at start.

The same revisions build the embedded SQLite store and a site's PostgreSQL store
(kiosk/store/site.py). Released revisions are never edited
(tests/store/test_released_migrations.py), and 0001 and 0003 wrote their append-only triggers
in SQLite's own syntax; on PostgreSQL those exact statements are given their PostgreSQL form
here, as they are sent: a row trigger calling one function that refuses the change with the
same French message. A statement that is not one of them goes through unchanged (anything else
SQLite-only in a revision says so itself).

Run by hand for development with ``uv run alembic -c kiosk/store/migrations/alembic.ini ...``
(see docs/development.md); the kiosk itself never reads an ini file.
"""

import re
from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine, event

from kiosk.store.models import Base

#: What 0001 and 0003 send to create and drop their triggers (SQLite's syntax).
_SQLITE_TRIGGER = re.compile(
    r"CREATE TRIGGER (\w+) BEFORE (UPDATE|DELETE) ON (\w+)"
    r" BEGIN SELECT RAISE\(ABORT, '([^']*)'\); END"
)
_SQLITE_DROP_TRIGGER = re.compile(r"DROP TRIGGER (\w+)")

#: The function the PostgreSQL triggers call: the message is the trigger's argument.
_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION pn_ajout_seul() RETURNS trigger LANGUAGE plpgsql AS"
    " $body$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0]; END $body$"
)


def postgresql_form(statement: str) -> str:
    """The PostgreSQL form of one of the released revisions' SQLite trigger statements (any
    other statement unchanged)."""
    created = _SQLITE_TRIGGER.fullmatch(statement.strip())
    if created is not None:
        name, operation, table, message = created.groups()
        return (
            f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW"
            f" EXECUTE FUNCTION pn_ajout_seul('{message}')"
        )
    dropped = _SQLITE_DROP_TRIGGER.fullmatch(statement.strip())
    if dropped is not None:
        name = dropped.group(1)  # \w+ from a released revision's own text, never input
        return (
            "DO $body$ DECLARE t regclass; BEGIN"  # noqa: S608
            f" SELECT tgrelid INTO t FROM pg_trigger WHERE tgname = '{name}';"
            f" EXECUTE 'DROP TRIGGER {name} ON ' || t::text; END $body$"
        )
    return statement


def _translate(
    _conn: Any,
    _cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    _executemany: bool,
) -> tuple[str, Any]:
    return postgresql_form(statement), parameters


def _run(connection: Connection) -> None:
    portable = connection.dialect.name != "sqlite"
    if portable:
        connection.exec_driver_sql(_APPEND_ONLY)
        event.listen(connection, "before_cursor_execute", _translate, retval=True)
    try:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if portable:
            event.remove(connection, "before_cursor_execute", _translate)


config = context.config
given = config.attributes.get("connection")

if given is None:
    # Development use (autogenerate against a scratch database).
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///./scratch.sqlite3"
    with create_engine(url).connect() as conn:
        _run(conn)
else:
    _run(given)
