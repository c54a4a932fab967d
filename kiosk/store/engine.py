"""The one place that opens the kiosk's SQLite database.

The database is encrypted with SQLCipher (``kiosk/store/cipher.py``); its key comes from a key file
(``kiosk/store/keys.py``). Every connection gets the key first, then the same pragmas: WAL
(readers never block the writer), ``synchronous=FULL`` (a commit that returned survives a power
cut), foreign keys on, a busy timeout and ``secure_delete``. Write units of work start with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way.

A plain database written by an earlier version is encrypted in place at open, nothing lost.

Migrations run automatically at open. A database written by a newer version of the kiosk is
refused untouched: an older kiosk must never "upgrade" data it does not understand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.store import cipher
from kiosk.store.keys import KeyFileError, db_key_file, load_or_create_key, read_key
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
        # 32 MiB of page cache (SQLite's default is 2 MiB): with SQLCipher every page read from
        # the file is decrypted and authenticated, so keeping the hot pages (indexes, recent
        # dossiers) decrypted in memory is what keeps a name search in milliseconds.
        cursor.execute("PRAGMA cache_size = -32768")
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


def _make_engine(path: Path, key: bytes | None) -> Engine:
    if key is None:
        engine = create_engine(f"sqlite:///{path}", pool_pre_ping=False)
    else:
        # ``module`` makes SQLAlchemy wrap sqlcipher3's exceptions like sqlite3's; ``creator``
        # applies the key before the dialect's own first queries. The key stays out of the URL
        # (URLs end up in logs and reprs).
        engine = create_engine(
            f"sqlite:///{path}",
            module=sqlcipher3,
            creator=partial(cipher.connect, path, key, check_same_thread=False),
            pool_pre_ping=False,
        )
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


def _alembic_config() -> Any:
    # Alembic is imported only when there is something to do: it costs ~100 ms at start.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _refuse_if_newer(current: str | None, path: Path) -> None:
    if current is None or current == HEAD_REVISION:
        return
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    if current not in {rev.revision for rev in scripts.walk_revisions()}:
        raise NewerDatabaseError(
            f"La base {path} a été écrite par une version plus récente du kiosque"
            f" (schéma {current}). Elle n'a pas été modifiée : installez la dernière version"
            " du logiciel pour l'ouvrir."
        )


def migrate(
    engine: Engine, path: Path, *, encrypted: bool = False, key_file: Path | None = None
) -> None:
    """Bring the schema to this version's head, or refuse a database from a newer version.

    ``key_file`` is only named in the message when the key does not open the database.
    """
    try:
        current = _current_revision(engine)
    except DatabaseError as exc:
        if encrypted:
            # SQLCipher cannot tell a wrong key from a file that is not a database: both fail
            # the first page's HMAC.
            raise StoreError(
                f"Clé de chiffrement incorrecte pour {path}, ou fichier qui n'est pas une base"
                " du kiosque. Il n'a pas été modifié : vérifiez le fichier de clé"
                f" {key_file or db_key_file(path)} (réglage stockage.cle_base)."
            ) from exc
        raise StoreError(
            f"Le fichier {path} n'est pas une base de données du kiosque lisible ({exc.orig})."
            " Il n'a pas été modifié."
        ) from exc
    if current == HEAD_REVISION:
        return
    _refuse_if_newer(current, path)
    from alembic import command

    config = _alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


def _database_key(path: Path, key_file: Path) -> bytes:
    """The key of the database at ``path``, encrypting a plain one from an earlier version."""
    cipher.clean_leftovers(path)
    plain = cipher.is_plain(path)
    if plain:
        try:
            _refuse_if_newer(cipher.plain_revision(path), path)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"Le fichier {path} n'est pas une base de données du kiosque lisible ({exc})."
                " Il n'a pas été modifié."
            ) from exc
    fresh = not path.exists() or path.stat().st_size == 0
    try:
        # A new key only when nothing is encrypted yet: a missing key beside an encrypted
        # database means the key's medium is absent, and a new key would lose every dossier.
        key = load_or_create_key(key_file, may_create=fresh or plain)
    except KeyFileError as exc:
        raise StoreError(
            f"{exc} La base {path} n'a pas été ouverte ; elle n'a pas été modifiée."
        ) from exc
    if plain:
        try:
            cipher.encrypt_in_place(path, key)
        except (sqlite3.DatabaseError, sqlcipher3.DatabaseError) as exc:
            raise StoreError(
                f"La base {path} (non chiffrée, d'une version précédente) n'a pas pu être"
                f" chiffrée ({exc}). Ses données sont intactes, toujours en clair : fermez tout"
                " autre programme qui l'utilise, puis relancez le kiosque."
            ) from exc
    return key


def open_store(path: Path, *, key_file: Path | None = None, encrypted: bool = True) -> Store:
    """Open (creating if needed) the database at ``path`` and apply pending migrations.

    Args:
        path: the database file.
        key_file: the database key (the setting ``stockage.cle_base``); by default
            ``keys/db.key`` beside the database (created at the first start).
        encrypted: ``False`` opens a plain SQLite file, as earlier versions wrote it (tests and
            tools that need one; the kiosk itself never does).
    """
    key_file = key_file or db_key_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = _database_key(path, key_file) if encrypted else None
    except OSError as exc:  # a folder named as the file, a file named as the folder, no right
        where = exc.filename or path
        raise StoreError(
            f"La base {path} ne peut pas être ouverte ({where} : {exc.strerror or exc})."
            " Vérifiez le dossier de données et la base choisis (--data-dir, --db ; réglages"
            " stockage.donnees, stockage.base). Rien n'a été modifié."
        ) from exc
    engine = _make_engine(path, key)
    try:
        migrate(engine, path, encrypted=encrypted, key_file=key_file)
    except BaseException:
        engine.dispose()
        raise
    writer = sessionmaker(
        bind=engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
    )
    reader = sessionmaker(bind=engine, expire_on_commit=False)
    return Store(path=path, engine=engine, _writer=writer, _reader=reader)


def connect_raw(path: Path, *, key_file: Path | None = None, timeout: float = 10.0) -> Any:
    """A bare ``sqlcipher3`` connection to the kiosk's database, for support and tests.

    It bypasses the triggers' purpose no more than ``sqlite3`` on a plain file would: whoever
    holds the key file can do anything. Autocommit (``isolation_level=None``).
    """
    key = read_key(key_file or db_key_file(path))
    return cipher.connect(path, key, isolation_level=None, timeout=timeout)
