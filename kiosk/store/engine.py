"""The one place that opens the kiosk's SQLite database (a site's shared PostgreSQL store is
opened through here too, by ``kiosk/store/site.py``).

The database is encrypted with SQLCipher (``kiosk/store/cipher.py``); its key comes from a key file
(``kiosk/store/keys.py``). Every connection gets the key first, then the same pragmas: WAL
(readers never block the writer), ``synchronous=FULL`` (a commit that returned survives a power
cut), foreign keys on, a busy timeout and ``secure_delete``. Write units of work start with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way.

A plain database written by an earlier version is encrypted in place at open, nothing lost.

Migrations run automatically at open. A database written by a newer version of the kiosk is
refused untouched: an older kiosk must never "upgrade" data it does not understand.

What can go wrong with the disk is named, in French, never as a traceback nor as « wrong key »
(docs/security.md, "When the store is damaged"):

- every page's HMAC is checked at open (``PRAGMA cipher_integrity_check``, ~2.5 ms per MB) and
  the schema read: a flipped byte, a truncated or damaged file is refused before anything is
  written to it (:class:`StoreDamaged`); a page found bad later marks the store damaged too;
- a database missing or emptied beside the marker an earlier open left (or beside stored
  documents) is refused, never recreated with a fresh audit chain (:class:`StoreLost`);
- a read-only data folder opens read-only: lists, dossiers and the audit can be read, every
  write says why it cannot be (:class:`StoreReadOnly`);
- a full disk says so (:class:`StoreFull`); the transaction is rolled back, nothing lost.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DatabaseError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from kiosk.messages import LocalizedError, Message
from kiosk.store import cipher
from kiosk.store.keys import KeyFileError, db_key_file, load_or_create_key, read_key
from kiosk.store.schema import HEAD_REVISION

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: SQLite's primary result codes that name a disk problem (sqlite3.h).
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 8, 10, 11, 13, 14
_SQLITE_NOTADB = 26

#: Below this much free space an I/O error is reported as a full disk (SQLite reports ENOSPC
#: as SQLITE_FULL on a data write, but as a plain I/O error when it grows the WAL's index).
_NEARLY_FULL = 1 << 20


class StoreError(LocalizedError):
    """The database cannot be used; the message is for an agent or support staff, in French
    (translated for the screen when it is a :class:`Message`: a full disk while the person
    types is read by both). Transient unless a subclass says otherwise: the site's server back,
    space freed, the same write works."""

    transient = True


class NewerDatabaseError(StoreError):
    """The database was written by a newer version of the kiosk; it has not been touched."""

    transient = False


class StoreDamaged(StoreError):
    """The file is damaged (bad page, truncated): refused, never written to."""

    transient = False


class StoreLost(StoreError):
    """The database is missing or empty where one existed: refused, not recreated."""

    transient = False


class StoreReadOnly(StoreError):
    """The data folder or the database is read-only: reading only."""


class StoreFull(StoreError):
    """The disk is full: the write was rolled back, nothing already stored is lost."""


def _damaged(path: Path, detail: str) -> StoreDamaged:
    return StoreDamaged(
        Message(
            "La base {path} est endommagée ({detail}). Elle n'a pas été modifiée et ne le sera"
            " pas : n'enregistrez plus de dossier sur cette borne et faites appel au support,"
            " qui la remplacera par sa dernière sauvegarde (le fichier endommagé est à garder).",
            path=str(path),
            detail=detail,
        )
    )


def _read_only_error(path: Path) -> StoreReadOnly:
    return StoreReadOnly(
        Message(
            "Le dossier de données {folder} est en lecture seule : les dossiers peuvent être"
            " consultés, mais rien ne peut être enregistré. Rendez-le accessible en écriture"
            " (droits du dossier, disque monté en lecture seule), puis recommencez.",
            folder=str(path.parent),
        )
    )


def _full_error(path: Path) -> StoreFull:
    return StoreFull(
        Message(
            "Disque plein ({folder}) : la dernière opération n'a pas été enregistrée ; rien de"
            " ce qui l'était déjà n'est perdu. Libérez de la place sur ce disque, puis"
            " recommencez.",
            folder=str(path.parent),
        )
    )


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def explain(exc: BaseException, path: Path) -> StoreError | None:
    """The French reason behind a database or file error about the store at ``path``, if it is
    one of the disk problems the kiosk names (``None``: not one of them, let it through)."""
    if isinstance(exc, StoreError):
        return exc
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlite_errorcode", None)
    if code is None:
        if isinstance(orig, OSError):
            if orig.errno in (errno.ENOSPC, errno.EDQUOT):
                return _full_error(path)
            if orig.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                return _read_only_error(path)
        return None
    primary = int(code) & 0xFF
    if primary == _SQLITE_FULL or (primary == _SQLITE_IOERR and _nearly_full(path.parent)):
        return _full_error(path)
    if primary == _SQLITE_READONLY:
        return _read_only_error(path)
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return _damaged(path, str(orig))
    if primary in (_SQLITE_IOERR, _SQLITE_CANTOPEN):
        return StoreError(
            f"La base {path} ne peut pas être lue ou écrite ({orig}). Rien n'a été enregistré :"
            " vérifiez le disque et les droits du dossier de données, puis recommencez."
        )
    return None


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
    options = conn.get_execution_options()
    if options.get("kiosk_begun"):  # a unit of work of Store.writing began it on the driver
        return
    mode = options.get("sqlite_begin", "DEFERRED")
    statement = f"BEGIN {mode}"
    # On the driver's connection itself: through SQLAlchemy's execution it cost ~20 µs of each
    # autosave (issue 18). A database busy past the timeout is SQLAlchemy's error, as before.
    _on_driver(conn.connection.driver_connection, statement, conn.dialect)


def _checked_out(engine: Engine) -> PoolProxiedConnection:
    """A connection of the pool, its driver's error (a site server that does not answer)
    wrapped as SQLAlchemy's, as a :class:`Connection` would."""
    error = engine.dialect.loaded_dbapi.Error
    try:
        return engine.raw_connection()
    except error as exc:
        raise DBAPIError.instance(
            None, None, exc, error, connection_invalidated=True, dialect=engine.dialect
        ) from exc


def _on_driver(
    driver: Any, statement: str, dialect: Dialect, pooled: PoolProxiedConnection | None = None
) -> None:
    """Run ``statement`` on a driver's connection; its error wrapped as SQLAlchemy's. A site
    server gone away (``pooled`` given): the connection invalidated, as SQLAlchemy does, so
    that the pool never hands it out again."""
    error = dialect.loaded_dbapi.Error
    try:
        if statement == "COMMIT":
            driver.commit()
        elif statement == "ROLLBACK":
            driver.rollback()
        else:
            driver.execute(statement)
    except error as exc:
        gone = pooled is not None and dialect.is_disconnect(exc, driver, None)
        if gone and pooled is not None:
            pooled.invalidate(exc)
        raise DBAPIError.instance(
            statement, (), exc, error, connection_invalidated=gone, dialect=dialect
        ) from exc


class Writing:
    """A write unit of work on one connection: what :meth:`Store.writing` yields.

    Statements compiled once (kiosk/store/prepared.py) run on :attr:`driver`, the pool's
    connection itself, in a transaction begun and ended on it (:meth:`Store.writing` says what
    that saves), on SQLite as on a site's PostgreSQL store. A use case that also needs the ORM
    (a rarer branch) takes :attr:`session`, made on first use and joined to the same
    transaction, flushed before each such statement and before the commit.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        pooled: PoolProxiedConnection | None = None,
    ) -> None:
        self.dialect = engine.dialect
        self._engine = engine
        self._pooled = pooled
        #: SQLAlchemy's connection, made when the ORM is needed (:attr:`connection`).
        self._connection: Connection | None = None
        #: The driver's connection the statements run on.
        self.driver: Any = None if pooled is None else pooled.driver_connection
        self._session: Session | None = None

    @property
    def options(self) -> Mapping[str, Any]:
        """The execution options of the unit's writers (the site's lock mode, its chain)."""
        return self._engine.get_execution_options()

    def gone(self, exc: BaseException) -> None:
        """The server went away under a statement: the connection is never handed out again."""
        if self._pooled is not None:
            self._pooled.invalidate(exc)

    @property
    def connection(self) -> Connection:
        """SQLAlchemy's connection, in this unit of work's transaction."""
        if self._connection is None:
            assert self._pooled is not None
            # Joined to the transaction begun on the driver (no BEGIN of its own); it commits
            # it from now on, and gives the connection back to the pool.
            connection = Connection(self._engine, self._pooled)
            connection.execution_options(kiosk_begun=True)
            connection.begin()
            self._connection = connection
        return self._connection

    @property
    def session(self) -> Session:
        """An ORM session in this unit of work's transaction."""
        if self._session is None:
            self._session = Session(
                bind=self.connection,
                join_transaction_mode="rollback_only",  # the unit of work commits
                expire_on_commit=False,
            )
        return self._session

    def flush(self) -> None:
        """Write what the ORM session holds (if one was taken)."""
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        """Forget the ORM session's objects (the unit of work is over)."""
        if self._session is not None:
            self._session.close()

    def _finish(self, *, commit: bool) -> None:
        """Commit or roll back, then give the connection back to the pool."""
        try:
            self.close()
            if self._pooled is not None and not self._pooled.is_valid:
                return  # the server went away (gone): nothing to end, the pool drops it
            if self._connection is None:
                statement = "COMMIT" if commit else "ROLLBACK"
                _on_driver(self.driver, statement, self.dialect, self._pooled)
            elif (transaction := self._connection.get_transaction()) is not None:
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
        finally:
            self._release()

    def _release(self) -> None:
        if self._connection is not None:
            self._connection.close()
        elif self._pooled is not None:
            self._pooled.close()


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
    #: Opened from a read-only folder or file: every :meth:`write` is refused, with the reason.
    read_only: bool = False
    #: Set when a page turns out damaged after the open: no write from then on.
    damage: StoreDamaged | None = None
    #: Reads every page's authentication again (None for a plain database: tests and tools).
    _integrity: Callable[[], list[str]] | None = None
    #: A site's shared store on PostgreSQL (kiosk/store/site.py): its « server/database »
    #: (``path`` is then that label, not a file).
    site: str | None = None
    #: Set when the kiosk is withdrawn from service (kiosk/security/revocation.py): nothing is
    #: read nor written from then on, whatever its connections still hold.
    withdrawn: StoreError | None = None
    #: The narrow writers' units of work on a site store (kiosk/store/site.py, ``NARROW``: the
    #: site's writer lock shared with the other counters' such writes); None: the writers'
    #: own (SQLite).
    _narrow: sessionmaker[Session] | None = None
    #: What begins a narrow writer's transaction on a site store (its locks, one statement).
    _narrow_begin: str | None = None

    def check(self) -> None:
        """Read every page of the file again and check it (``kiosk audit verify`` does first).

        Raises:
            StoreDamaged: a page does not authenticate, or the file is cut short; from then
                on nothing is written to it.
        """
        if self.damage is not None:
            raise self.damage
        problems = self._integrity() if self._integrity is not None else []
        if problems and self._integrity is not None:
            problems = self._integrity()  # confirmed by a second pass (a torn read of a page
            # being checkpointed by another process is not damage)
        if problems:
            shown = "; ".join(problems[:3]) + ("…" if len(problems) > 3 else "")
            self.damage = _damaged(self.path, shown)
            raise self.damage

    @contextmanager
    def write(self, *, narrow: bool = False) -> Iterator[Session]:
        """A unit of work that commits when the block ends, or rolls back on an exception.

        ``narrow``: it writes one dossier's rows only (creating one, signing its mandate,
        filing it), and locks that dossier's row first (``FOR UPDATE``, the use case's own
        query). On a site store it then holds the site's writer lock shared with the other
        counters' such writes, as an autosave does (:meth:`writing`, kiosk/store/site.py); on
        SQLite it is the same as any write.

        Raises:
            StoreReadOnly, StoreDamaged, StoreFull, StoreError: the disk's problem, in French
                (the transaction is rolled back).
        """
        if self.withdrawn is not None:
            raise self.withdrawn
        if self.read_only:
            raise _read_only_error(self.path)
        if self.damage is not None:
            raise self.damage
        maker = self._narrow if narrow and self._narrow is not None else self._writer
        try:
            with maker.begin() as session:
                yield session
        except (DBAPIError, OSError) as exc:
            raise self._named(exc) from exc

    @contextmanager
    def writing(self) -> Iterator[Writing]:
        """:meth:`write` without the ORM session's own cost (~60 µs a unit of work) nor, on
        SQLite, SQLAlchemy's connection and transaction (~15 µs, twice that with the caches
        cold after a commit's ``fsync``): for the autosave, run at every answer (issue 18).
        Same transaction on SQLite (``BEGIN IMMEDIATE``), same errors; committed when the block
        ends, rolled back on an exception.

        On a site store it holds the site's writer lock *shared* with the other counters'
        autosaves (kiosk/store/site.py): what it writes must be one dossier's, whose row it
        locks first (``FOR UPDATE``), and its journal entries go to its counter's chain.
        """
        if self.withdrawn is not None:
            raise self.withdrawn
        if self.read_only:
            raise _read_only_error(self.path)
        if self.damage is not None:
            raise self.damage
        # The writers' options (BEGIN IMMEDIATE), or on a site store the autosave's own.
        engine: Engine = (self._narrow or self._writer).kw["bind"]
        # SQLite: BEGIN IMMEDIATE. A site store: the narrow writer's locks (kiosk/store/site.py);
        # psycopg begins the transaction with them. Either on the driver's connection: on a
        # site store SQLAlchemy's connection, transaction and event cost ~0.2 ms of the
        # counter's CPU per autosave (issue 17: eight counters on two cores were bound by it).
        begin = "BEGIN IMMEDIATE" if self._narrow_begin is None else self._narrow_begin
        try:
            # The pool's connection, the one reads use too (its page cache stays warm: a
            # connection of its own would have every search after an autosave read its pages
            # again, 5 → 19 ms at 100,000 dossiers).
            pooled = _checked_out(engine)
            unit = Writing(engine, pooled=pooled)
            try:
                _on_driver(unit.driver, begin, engine.dialect, pooled)
            except BaseException:
                unit._release()
                raise
            try:
                yield unit
                unit.flush()
            except BaseException:
                # The error to say is the one that stopped the work: a rollback failing too
                # (the server gone) only leaves the connection out of the pool.
                with suppress(DBAPIError):
                    unit._finish(commit=False)
                raise
            unit._finish(commit=True)
        except (DBAPIError, OSError) as exc:
            raise self._named(exc) from exc

    @contextmanager
    def claiming(self) -> Iterator[Session]:
        """A unit of work that only marks rows of a queue as taken (the outbox's claims),
        committed when the block ends.

        On SQLite it is :meth:`write` (``BEGIN IMMEDIATE``). On a site store it does not take
        the site's writer lock: the rows it changes are locked one by one, and those another
        kiosk holds are skipped (``FOR UPDATE SKIP LOCKED`` in the caller's statement), so the
        counters' claims neither queue behind one another nor behind the site's other writes.
        Nothing in it may append to the audit chain (which would take the lock anyway).
        """
        if self.site is None:
            with self.write() as session:
                yield session
            return
        if self.withdrawn is not None:
            raise self.withdrawn
        try:
            with self._reader() as session, session.begin():
                yield session
        except (DBAPIError, OSError) as exc:
            raise self._named(exc) from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        if self.withdrawn is not None:
            raise self.withdrawn
        try:
            with self._reader() as session, session.begin():
                yield session
                session.rollback()
        except DBAPIError as exc:
            raise self._named(exc) from exc

    def _named(self, exc: BaseException) -> BaseException:
        if self.site is not None:
            from kiosk.store import site

            return site.explain(exc, self.site) or exc
        problem = explain(exc, self.path)
        if problem is None:
            return exc
        if isinstance(problem, StoreDamaged):
            self.damage = problem
        return problem

    def close(self) -> None:
        """Release every connection (checkpointing the WAL)."""
        self.engine.dispose()

    def withdraw(self, reason: StoreError) -> None:
        """Refuse every unit of work from now on with ``reason``, and close the connections
        (the kiosk was withdrawn from service: its key is gone from the disk)."""
        self.withdrawn = reason
        self.engine.dispose()


def _make_engine(path: Path, key: bytes | None, *, read_only: bool = False) -> Engine:
    if key is None:
        engine = create_engine(f"sqlite:///{path}", pool_pre_ping=False)
    else:
        # ``module`` makes SQLAlchemy wrap sqlcipher3's exceptions like sqlite3's; ``creator``
        # applies the key before the dialect's own first queries. The key stays out of the URL
        # (URLs end up in logs and reprs).
        engine = create_engine(
            f"sqlite:///{path}",
            module=sqlcipher3,
            creator=partial(
                cipher.connect, path, key, read_only=read_only, check_same_thread=False
            ),
            pool_pre_ping=False,
        )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def current_revision(conn: Connection) -> str | None:
    """The schema revision the database at ``conn`` is at (``None``: an empty database)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def alembic_config() -> Any:
    """Alembic's configuration for the kiosk's migrations (no ini file read)."""
    return _alembic_config()


def _alembic_config() -> Any:
    # Alembic is imported only when there is something to do: it costs ~100 ms at start.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def refuse_if_newer(current: str | None, path: Path | str) -> None:
    """Refuse, untouched, a database whose schema a newer version of the kiosk wrote."""
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


def _is_notadb(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and int(code) & 0xFF == _SQLITE_NOTADB


def migrate(
    engine: Engine,
    path: Path,
    *,
    encrypted: bool = False,
    key_file: Path | None = None,
    read_only: bool = False,
) -> None:
    """Bring the schema to this version's head, or refuse a database from a newer version.

    ``key_file`` is only named in the message when the key does not open the database.
    """
    try:
        current = _current_revision(engine)
    except DatabaseError as exc:
        problem = explain(exc, path)
        if problem is not None and not (
            encrypted and isinstance(exc.orig, sqlcipher3.DatabaseError) and _is_notadb(exc)
        ):
            raise problem from exc
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
    refuse_if_newer(current, path)
    if read_only:
        raise StoreReadOnly(
            f"La base {path} est d'une version précédente (schéma {current}) et son dossier est"
            " en lecture seule : elle ne peut pas être mise à jour pour être lue. Rendez le"
            " dossier accessible en écriture, puis relancez."
        )
    from alembic import command

    config = _alembic_config()
    try:
        with engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
    except (DBAPIError, OSError) as exc:
        problem = explain(exc, path)
        if problem is None:
            raise
        raise problem from exc


def _database_key(path: Path, key_file: Path, *, read_only: bool = False) -> bytes:
    """The key of the database at ``path``, encrypting a plain one from an earlier version."""
    plain = cipher.is_plain(path)
    if read_only:
        if plain:
            raise StoreReadOnly(
                f"La base {path} est d'une version précédente, non chiffrée, et son dossier est"
                " en lecture seule : elle ne peut être ni chiffrée ni mise à jour. Rendez le"
                " dossier accessible en écriture, puis relancez."
            )
        try:
            return read_key(key_file)
        except KeyFileError as exc:
            raise StoreError(
                f"{exc} La base {path} n'a pas été ouverte ; elle n'a pas été modifiée."
            ) from exc
    cipher.clean_leftovers(path)
    if plain:
        try:
            refuse_if_newer(cipher.plain_revision(path), path)
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


def marker_file(path: Path) -> Path:
    """The file an open leaves beside the database: proof that a store exists there."""
    return path.with_name(path.name + ".existe")


def _has_content(path: Path) -> bool:
    try:
        if path.is_dir():
            return any(path.iterdir())
        return path.exists()
    except OSError:
        return False


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


def _refuse_if_lost(path: Path, evidence: Sequence[Path]) -> None:
    """A missing or emptied database where one existed is refused, never recreated."""
    if not _is_empty(path):
        return
    proofs = [p for p in (marker_file(path), *evidence) if _has_content(p)]
    if proofs:
        raise StoreLost(
            f"La base {path} est absente ou vide, alors qu'une base existait ici"
            f" ({', '.join(str(p) for p in proofs)}). Elle n'a pas été recréée : une base neuve"
            " repartirait d'un journal d'audit vierge et perdrait le lien avec les dossiers et"
            " documents existants. Faites remettre la base (dernière sauvegarde) par le"
            " support ; pour repartir de zéro volontairement, déplacez tout le dossier de"
            " données."
        )


def _mark(path: Path) -> None:
    marker = marker_file(path)
    if marker.exists():
        return
    # A full disk must not stop the kiosk here: the marker is written at the next open.
    with contextlib.suppress(OSError):
        marker.write_text(
            "Ce fichier montre qu'une base du kiosque existe à côté : si elle disparaît, le"
            " kiosque refuse d'en créer une neuve. Ne pas le supprimer.\n",
            encoding="utf-8",
        )


def _check_intact(path: Path, key: bytes, key_file: Path) -> None:
    """Refuse, before any write, a file whose pages do not authenticate or that is truncated.

    Read through a read-only connection. A page being checkpointed by another process at that
    very moment can read torn: a problem is confirmed by a second pass before it is reported.
    """
    problems: list[str] = []
    for _attempt in range(2):
        problems = _integrity_problems(path, key)
        if not problems:
            return
    pages = max(1, path.stat().st_size // cipher.PAGE_SIZE)
    hmac_failures = [p for p in problems if "HMAC" in p]
    if len(hmac_failures) >= pages > 1 or problems == ["file is not a database"]:
        # Every page fails: the key is not this database's (or its salt, the first 16 bytes,
        # is damaged, which no key can tell apart).
        raise StoreError(
            f"Clé de chiffrement incorrecte pour {path}, ou début du fichier endommagé. Il n'a"
            f" pas été modifié : vérifiez le fichier de clé {key_file} (réglage"
            " stockage.cle_base)."
        )
    shown = "; ".join(problems[:3]) + ("…" if len(problems) > 3 else "")
    raise _damaged(path, shown)


def _integrity_problems(path: Path, key: bytes) -> list[str]:
    conn = cipher.connect(path, key, read_only=True)
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check")]
        if problems:
            return problems
        # A file cut at a page boundary authenticates page by page: the schema read sees the
        # header's page count beyond the end.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return []
    except sqlcipher3.DatabaseError as exc:
        if int(getattr(exc, "sqlite_errorcode", 0)) & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return [str(exc)]
        # Not the file's content: the disk (full, read-only, failing) is named instead.
        raise explain(exc, path) or StoreError(
            f"La base {path} ne peut pas être lue ({exc}). Elle n'a pas été modifiée."
        ) from exc
    finally:
        conn.close()


def _is_read_only(path: Path) -> bool:
    folder = path.parent
    if not folder.exists():
        return False
    if not os.access(folder, os.W_OK):
        return True
    return path.exists() and not os.access(path, os.W_OK)


def open_store(
    path: Path,
    *,
    key_file: Path | None = None,
    encrypted: bool = True,
    evidence: Sequence[Path] = (),
    url: str | None = None,
    chain: str = "",
) -> Store:
    """Open (creating if needed) the database at ``path`` and apply pending migrations.

    Args:
        path: the database file.
        url: a site's shared store (``postgresql://…``, the setting ``stockage.url``): used
            instead of ``path``, whose key, evidence and disk checks are SQLite's
            (kiosk/store/site.py).
        key_file: the database key (the setting ``stockage.cle_base``); by default
            ``keys/db.key`` beside the database (created at the first start).
        encrypted: ``False`` opens a plain SQLite file, as earlier versions wrote it (tests and
            tools that need one; the kiosk itself never does).
        evidence: files or folders whose content proves a store existed (the documents
            folder): a missing database beside them is refused. So does the key file in its
            default place, beside the data, which only the kiosk writes, with the database
            (a key provisioned elsewhere may come before the first start).
        chain: on a site store, the journal's chain this counter writes to (its identifier
            at the national service); a lone kiosk's store has one chain.

    Raises:
        StoreError: and its kinds, with the reason in French; the file was not modified.
    """
    if url is not None:
        from kiosk.store.site import open_site_store

        return open_site_store(url, chain=chain)
    key_file = key_file or db_key_file(path)
    try:
        read_only = _is_read_only(path)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        own_key = [key_file] if key_file == db_key_file(path) else []
        _refuse_if_lost(path, [*evidence, *own_key])
        if read_only and not path.exists():
            raise _read_only_error(path)
        wal = path.with_name(path.name + "-wal")
        if read_only and cipher.needs_immutable(path) and not _is_empty(wal):
            raise StoreReadOnly(
                f"Les derniers enregistrements de la base sont encore dans {wal}, qui ne peut"
                " être lu que si le dossier de données est accessible en écriture : rendez-le"
                " accessible, puis recommencez. Rien n'a été modifié."
            )
        key = _database_key(path, key_file, read_only=read_only) if encrypted else None
        if key is not None and not _is_empty(path):
            _check_intact(path, key, key_file)
    except OSError as exc:  # a folder named as the file, a file named as the folder, no right
        problem = explain(exc, path)
        if problem is not None and not isinstance(problem, StoreReadOnly):
            raise problem from exc
        where = exc.filename or path
        raise StoreError(
            f"La base {path} ne peut pas être ouverte ({where} : {exc.strerror or exc})."
            " Vérifiez le dossier de données et la base choisis (--data-dir, --db ; réglages"
            " stockage.donnees, stockage.base). Rien n'a été modifié."
        ) from exc
    engine = _make_engine(path, key, read_only=read_only)
    try:
        migrate(engine, path, encrypted=encrypted, key_file=key_file, read_only=read_only)
    except BaseException:
        engine.dispose()
        raise
    if not read_only:
        _mark(path)
    writer = sessionmaker(
        bind=engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
    )
    reader = sessionmaker(bind=engine, expire_on_commit=False)
    return Store(
        path=path,
        engine=engine,
        _writer=writer,
        _reader=reader,
        read_only=read_only,
        _integrity=None if key is None else partial(_integrity_problems, path, key),
    )


def connect_raw(path: Path, *, key_file: Path | None = None, timeout: float = 10.0) -> Any:
    """A bare ``sqlcipher3`` connection to the kiosk's database, for support and tests.

    It bypasses the triggers' purpose no more than ``sqlite3`` on a plain file would: whoever
    holds the key file can do anything. Autocommit (``isolation_level=None``).
    """
    key = read_key(key_file or db_key_file(path))
    return cipher.connect(path, key, isolation_level=None, timeout=timeout)
