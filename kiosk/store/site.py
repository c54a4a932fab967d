"""A site's shared store: the same models and migrations on the site server's PostgreSQL.

A préfecture with several counters keeps one store on its server (the setting ``stockage.url``,
``kiosk --db-url postgresql://…``); a lone tablet keeps the embedded encrypted SQLite of
``kiosk/store/engine.py``. The use cases cannot tell them apart, because the store keeps the
contract they were written for:

- **one writer at a time.** SQLite's ``BEGIN IMMEDIATE`` makes writers queue; here every write
  unit of work first takes the same transaction-level advisory lock
  (``pg_advisory_xact_lock``), released by its commit or rollback. Taking it at the start keeps
  each use case's reading of a dossier (its state, its outbox row) true until it commits: two
  counters filing, claiming or acknowledging the same dossier queue, and the second sees what
  the first did. Reads never wait (PostgreSQL's snapshots), and nothing slow (a request to the
  national service, a card read) ever runs inside a write.
- **but the counters' dossier writes side by side.** A write of one dossier's rows (an
  autosave, :meth:`Store.writing`; creating a dossier, signing its mandate, validating or
  filing it, ``Store.write(narrow=True)``: the :data:`NARROW` writer) holds that lock
  *shared*: such writes of several counters run together, never beside a whole writer (which
  waits for those under way; those arriving after it wait for it: PostgreSQL serves a lock in
  turn). What a whole writer's lock gave them, they take narrower: the dossier's row first
  (``FOR UPDATE``: two counters on one dossier take turns, and the second reads what the first
  did) and the journal's chain of their own counter (:func:`hold_journal`: the journal has one
  chain per counter, migration 0011). Each commit waits for its own ``fsync`` only, and the
  server writes several counters' commits with one (issue 17: a site-wide lock and chain made
  eight counters saving at once wait for up to seven others' ``fsync``).
- **migrations once.** Two kiosks starting together against a new database: the first migrates
  under a session-level advisory lock, the second waits, then finds the schema current.
- **what the counter shows when the server is away**: a :class:`SiteUnreachable` in French
  (« Le serveur du site … ne répond pas … rien de ce qui est saisi n'est perdu »), never a
  traceback; the screen keeps what was typed and the agent saves again.

TLS and credentials come from the URL, as libpq reads them (docs/sites.md):
``postgresql://borne@site.example/kiosk?sslmode=verify-full&sslrootcert=/etc/pn-kiosk/site-ca.pem``;
a password is better in a ``passfile=`` (mode 600) or replaced by a client certificate
(``sslcert=``/``sslkey=``) than written in the URL; messages and ``kiosk reglages`` never show it.
"""

from __future__ import annotations

import ipaddress
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.messages import Message
from kiosk.store.engine import (
    Store,
    StoreError,
    Writing,
    alembic_config,
    current_revision,
    refuse_if_newer,
)

#: The advisory lock every write unit of work of a site store holds (« pnkiosk » in ASCII).
WRITER_LOCK = 0x706E6B696F736B
#: The advisory lock a kiosk holds while it migrates the schema.
MIGRATION_LOCK = WRITER_LOCK + 1
#: The first half of the advisory locks of the journal's chains, one per counter (the second
#: half is :func:`chain_key`; two-number locks never meet :data:`WRITER_LOCK`'s).
CHAIN_LOCKS = 0x706E6B6A
#: The ``kiosk_writer`` option of a narrow writer's connection (one dossier's rows: an
#: autosave, a filing…): it holds :data:`WRITER_LOCK` shared, its counter's chain and the
#: dossier's row (see the module's docstring).
NARROW = "narrow"
#: Seconds a connection may rest in the pool before it is tested at its next use.
IDLE_PING = 10.0
#: Schemes taken for a site store (libpq's two spellings).
SCHEMES = ("postgresql://", "postgres://")
#: libpq connection parameters the kiosk sets when the URL does not: a server that does not
#: answer is said within seconds, not after the operating system's TCP timeouts (minutes).
_DEFAULTS = {
    "connect_timeout": "5",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "application_name": "pn-kiosk",
}
#: How long a writer waits for the others before saying the server does not answer (the same
#: as SQLite's busy timeout), and how long a statement may run.
_SERVER_OPTIONS = "-c lock_timeout=10000 -c statement_timeout=60000"


class SiteUrlError(ValueError):
    """Not a PostgreSQL address the kiosk can use (the message says why, in French)."""


def is_site_url(value: str) -> bool:
    """Whether ``value`` names a site store (a PostgreSQL address)."""
    return value.strip().lower().startswith(SCHEMES)


def parse_site_url(value: str) -> URL:
    """The SQLAlchemy URL of a site store, on the psycopg 3 driver.

    Raises:
        SiteUrlError: not a ``postgresql://`` address, or one without a database name.
    """
    raw = value.strip()
    if not is_site_url(raw):
        raise SiteUrlError("une adresse postgresql://… (serveur du site)")
    try:
        url = make_url("postgresql" + raw[raw.index("://") :])
    except ArgumentError as exc:
        raise SiteUrlError(f"adresse illisible ({exc})") from None
    if not url.database:
        raise SiteUrlError("l'adresse doit nommer la base : postgresql://serveur/base")
    return url.set(drivername="postgresql+psycopg")


def check_tls(url: URL) -> None:
    """Refuse a site server elsewhere than on this machine unless TLS is verified.

    Raises:
        SiteUrlError: the server is reached over the network without ``sslmode=verify-full``
            and the site's authority (``sslrootcert``).
    """
    hosts = [h for h in (url.host, url.query.get("host"), url.query.get("hostaddr")) if h]
    if not all(_on_this_machine(str(h)) for h in hosts):
        mode = str(url.query.get("sslmode") or "prefer")
        if mode != "verify-full" or not url.query.get("sslrootcert"):
            # The dossiers and the audit chain cross the site's network: « require » would talk
            # to anyone presenting a certificate, « prefer » falls back to clear text.
            raise SiteUrlError(
                "un serveur du site hors de ce poste se joint en TLS vérifié :"
                " ajoutez ?sslmode=verify-full&sslrootcert=<l'autorité du site, un fichier PEM>"
            )


def _on_this_machine(host: str) -> bool:
    """Whether libpq's ``host`` is this machine: a Unix socket folder, ``localhost`` or a
    loopback address (the only places the site store is spoken to without TLS)."""
    if host.startswith("/") or host.startswith("@") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def site_label(url: URL) -> str:
    """« serveur:port/base », as messages name the site store (never the password)."""
    host = url.host or str(url.query.get("host") or "localhost")
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}/{url.database}"


def shown(value: str) -> str:
    """The address as ``kiosk reglages`` lists it: the password masked."""
    try:
        return (
            parse_site_url(value)
            .render_as_string(hide_password=True)
            .replace("postgresql+psycopg://", "postgresql://", 1)
        )
    except SiteUrlError:
        return value


class SiteUnreachable(StoreError):
    """The site server cannot be reached or used now; nothing already saved is lost."""


#: What libpq says when the server's certificate does not prove it is the site's server.
_NOT_PROVEN = ("certificate verify failed", "does not match host name", "ssl error")
#: What libpq says when the server refuses this kiosk (its address, role or certificate).
_REFUSED = ("pg_hba.conf", "authentication failed", "no encryption", "permission denied")


def unreachable(label: str, exc: BaseException) -> SiteUnreachable:
    """What the counter shows when the site server cannot be used (see :func:`explain`)."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = detail[0] if detail else type(exc).__name__
    lowered = reason.lower()
    if any(sign in lowered for sign in _NOT_PROVEN):
        return SiteUnreachable(
            Message(
                "Le serveur du site {site} n'a pas prouvé qu'il est bien celui du site"
                " (certificat TLS refusé : {detail}) : rien ne lui a été envoyé, et rien de ce"
                " qui est saisi n'est perdu : l'écran le garde. Prévenez le support du site :"
                " l'autorité (sslrootcert) ou le nom du serveur du réglage stockage.url est à"
                " vérifier.",
                site=label,
                detail=reason,
            )
        )
    if any(sign in lowered for sign in _REFUSED):
        return SiteUnreachable(
            Message(
                "Le serveur du site {site} refuse cette borne : {detail}. Rien de ce qui est"
                " saisi n'est perdu : l'écran le garde. Prévenez le support du site : le"
                " certificat de la borne (sslcert, sslkey) ou ses droits sur le serveur sont à"
                " vérifier.",
                site=label,
                detail=reason,
            )
        )
    return SiteUnreachable(
        Message(
            "Le serveur du site {site} ne répond pas : {detail}. Rien n'a été enregistré à"
            " l'instant, mais rien de ce qui est saisi n'est perdu : l'écran le garde."
            " Réessayez dans un moment ; si cela dure, prévenez le support du site.",
            site=label,
            detail=reason,
        )
    )


def explain(exc: BaseException, label: str) -> StoreError | None:
    """The French reason behind an error of the site store, if it is the server's (``None``: a
    bug or a refusal of the data, let it through)."""
    import psycopg

    if isinstance(exc, StoreError):
        return exc
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    # OperationalError: the connection failed or was cut, the server shut down, a lock or a
    # statement waited too long. InterfaceError: the connection was already closed.
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return unreachable(label, exc)
    if isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return unreachable(label, orig)
    return None


def narrow_begin(chain: str) -> str:
    """What a narrow writer of the counter writing to ``chain`` runs first: the site's writer
    lock shared (beside the other counters' such writes, never beside a whole writer) and its
    counter's chain of the journal (:func:`hold_journal`), in one round trip."""
    return (
        f"SELECT pg_advisory_xact_lock_shared({WRITER_LOCK}),"
        f" pg_advisory_xact_lock({CHAIN_LOCKS}, {chain_key(chain)})"
    )


def _on_begin(conn: Any) -> None:
    options = conn.get_execution_options()
    if options.get("kiosk_begun"):  # Store.writing began it on the driver, its locks taken
        return
    mode = options.get("kiosk_writer")
    if mode == NARROW:
        conn.exec_driver_sql(narrow_begin(str(options.get("audit_chain", ""))))
    elif mode:
        # The counterpart of SQLite's BEGIN IMMEDIATE (see the module's docstring).
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")


def make_engine(url: URL) -> Engine:
    """An engine on the site store; the writer's transactions take :data:`WRITER_LOCK`."""
    query = dict(url.query)
    for key, value in _DEFAULTS.items():
        query.setdefault(key, value)
    if "options" not in query:
        query["options"] = _SERVER_OPTIONS
    engine = create_engine(url.set(query=query), pool_size=2, max_overflow=4)
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "checkout", _ping_if_idle)
    event.listen(engine, "checkin", _note_checkin)
    return engine


def _note_checkin(_driver: Any, record: Any) -> None:
    record.info["back"] = time.monotonic()


def _ping_if_idle(driver: Any, record: Any, _proxy: Any) -> None:
    """A connection back from the pool after :data:`IDLE_PING` seconds or more is tested first
    (a server restarted overnight, a link cut meanwhile): a dead one is replaced, which
    SQLAlchemy does when this raises ``DisconnectionError``. One just used is not: a ping at
    every checkout was a round trip of each autosave (issue 17); a connection lost since is
    told by the statement it fails, as one lost in the middle of a save is."""
    back = record.info.get("back")
    if back is not None and time.monotonic() - back < IDLE_PING:
        return
    import psycopg

    try:
        record.info["back"] = None
        ping = driver.cursor()
        try:
            before = driver.autocommit
            driver.autocommit = True  # no transaction left open by the test
            ping.execute("SELECT 1")
            driver.autocommit = before
        finally:
            ping.close()
    except psycopg.Error as exc:
        raise DisconnectionError(str(exc)) from exc


def hold_journal(unit: Session | Writing) -> str:
    """Make sure the caller's transaction may append to its journal's chain; returns the chain's
    name (« » on SQLite and for a unit of work not told one).

    On SQLite, nothing to do: write transactions are serialised by ``BEGIN IMMEDIATE``. On a
    site store, a unit of work of :meth:`Store.write` took the site's writer lock at its start:
    nothing to do either, not even a round trip. A narrow one (:meth:`Store.writing`, holding
    the lock shared with the other counters' autosaves) took its chain's lock as it began
    (:func:`_on_begin`), which only this counter's other writers ask for: a transaction-level
    lock, held to its commit, so two entries never chain onto the same one. Taken first, before
    the dossier's row, so that no two writers ever wait for each other's (a counter's second
    autosave waits for its first before it holds anything). Any other transaction takes the
    site's writer lock here.
    """
    if isinstance(unit, Writing):
        if unit.dialect.name != "postgresql":
            return ""  # SQLite: BEGIN IMMEDIATE, and a lone kiosk's one chain
        options = unit.options  # Store.writing's: a narrow writer, its locks taken
    else:
        bind = unit.get_bind()
        if bind.dialect.name != "postgresql":
            return ""
        options = bind.get_execution_options()
    if not options.get("kiosk_writer"):
        lock = text(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")
        if isinstance(unit, Writing):
            unit.flush()
            unit.connection.execute(lock)
        else:
            unit.execute(lock)
    return str(options.get("audit_chain", ""))


def chain_key(chain: str) -> int:
    """The second half of a chain's advisory lock: a 32-bit signed number from its name (two
    names sharing one only make their counters wait for each other)."""
    value = zlib.crc32(chain.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """Hold :data:`MIGRATION_LOCK` on ``conn`` for the block (released even on an error)."""
    conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    conn.commit()
    try:
        yield
    finally:
        # A connection the server cut holds no lock any more: the original error is the one
        # to report.
        with suppress(DBAPIError):
            conn.rollback()
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
            conn.commit()


def _migrate(engine: Engine, label: str) -> None:
    """Bring the site's schema to this version's head, one kiosk at a time; refuse a schema
    written by a newer version (an older kiosk never touches it)."""
    with engine.connect() as conn, _migration_lock(conn):
        current = current_revision(conn)
        refuse_if_newer(current, label)
        if current is not None and current == _head():
            return
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


def _head() -> str:
    from kiosk.store.schema import HEAD_REVISION

    return HEAD_REVISION


def open_site_store(value: str, *, chain: str = "") -> Store:
    """Open the site store at the address ``value`` and apply pending migrations; this
    counter's journal entries go to the chain ``chain`` (kiosk/security/audit.py).

    Raises:
        StoreError: not an address the kiosk can use; :class:`SiteUnreachable`: the server does
            not answer (or refuses the connection, the credentials, the certificate).
    """
    try:
        url = parse_site_url(value)
        check_tls(url)
    except SiteUrlError as exc:
        raise StoreError(
            f"Réglage stockage.url : « {shown(value)} » n'est pas valable ({exc})."
        ) from None
    label = site_label(url)
    engine = make_engine(url)
    try:
        _migrate(engine, label)
    except (DBAPIError, OSError) as exc:
        engine.dispose()
        raise explain(exc, label) or exc from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(
        path=Path(label),
        engine=engine,
        _writer=sessionmaker(
            bind=engine.execution_options(kiosk_writer=True, audit_chain=chain[:64]),
            expire_on_commit=False,
        ),
        _reader=sessionmaker(bind=engine, expire_on_commit=False),
        site=label,
        _narrow=sessionmaker(
            bind=engine.execution_options(kiosk_writer=NARROW, audit_chain=chain[:64]),
            expire_on_commit=False,
        ),
        _narrow_begin=narrow_begin(chain[:64]),
    )
