"""The one place that opens the kiosk's SQLite database.

Every connection gets the same pragmas: WAL (readers never block the writer), ``synchronous=FULL``
(a commit that returned survives a power cut), foreign keys on, and a busy timeout. Write units of
work start with ``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way.
Encryption (SQLCipher) will slot in here, and only here.

Migrations run automatically at open. A database written by a newer version of the kiosk is
refused untouched: an older kiosk must never "upgrade" data it does not understand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.store.schema import HEAD_REVISION

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class StoreError(Exception):
    """The database cannot be used; the message is for an agent or support staff, in French."""


class NewerDatabaseError(StoreError):
    """The database was written by a newer version of the kiosk; it has not been touched."""


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit transactions
    # would otherwise defer it and ignore IMMEDIATE).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Deleted content is overwritten, not left in free pages: a purge really erases.
        cursor.execute("PRAGMA secure_delete = ON")
    finally:
        cursor.close()


def _on_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Store:
    """An open database: the engine and the two kinds of unit of work.

    Use ``with store.write() as s:`` for a user action that changes data (one transaction,
    committed at the end of the block) and ``with store.read() as s:`` to look things up.
    """

    path: Path
    engine: Engine
    _writer: sessionmaker[Session]
    _reader: sessionmaker[Session]

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that commits when the block ends, or rolls back on an exception."""
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        with self._reader() as session, session.begin():
            yield session
            session.rollback()

    def close(self) -> None:
        """Release every connection (checkpointing the WAL)."""
        self.engine.dispose()


def _make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", pool_pre_ping=False)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        has_table = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).first()
        if not has_table:
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])


def migrate(engine: Engine, path: Path) -> None:
    """Bring the schema to this version's head, or refuse a database from a newer version."""
    try:
        current = _current_revision(engine)
    except DatabaseError as exc:
        raise StoreError(
            f"Le fichier {path} n'est pas une base de données du kiosque lisible ({exc.orig})."
            " Il n'a pas été modifié."
        ) from exc
    if current == HEAD_REVISION:
        return
    # Alembic is imported only when there is something to do: it costs ~100 ms at start.
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    known = {rev.revision for rev in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise NewerDatabaseError(
            f"La base {path} a été écrite par une version plus récente du kiosque"
            f" (schéma {current}). Elle n'a pas été modifiée : installez la dernière version"
            " du logiciel pour l'ouvrir."
        )
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


def open_store(path: Path) -> Store:
    """Open (creating if needed) the database at ``path`` and apply pending migrations."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = _make_engine(path)
    try:
        migrate(engine, path)
    except BaseException:
        engine.dispose()
        raise
    writer = sessionmaker(
        bind=engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
    )
    reader = sessionmaker(bind=engine, expire_on_commit=False)
    return Store(path=path, engine=engine, _writer=writer, _reader=reader)
