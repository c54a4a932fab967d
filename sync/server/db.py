"""The reference server's own SQLite file (never the kiosk's): filings, idempotency records,
uploads, and the feed of decisions.

Every filing records the kiosk that made it (``borne``, the client id of its token): a kiosk sees
and touches only its own filings, their uploads, decisions, documents and payments, and its
idempotency keys never meet another kiosk's.

A filing and its idempotency record are written in one transaction, so a response lost after the
commit is replayed, byte for byte, when the kiosk asks again with the same key. ``depot`` has no
unique constraint on the dossier UUID on purpose: de-duplication is the idempotency logic's job,
and the chaos test counts rows per dossier to prove it works.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS depot (
    numero INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id TEXT NOT NULL,
    borne TEXT,
    reference TEXT,
    corps TEXT NOT NULL,
    statut TEXT NOT NULL,
    depots INTEGER NOT NULL DEFAULT 1,
    depose_at REAL,
    motif TEXT,
    manquant TEXT
);
CREATE INDEX IF NOT EXISTS ix_depot_dossier ON depot(dossier_id);
CREATE INDEX IF NOT EXISTS ix_depot_statut ON depot(statut, depose_at);
CREATE TABLE IF NOT EXISTS idem (
    cle TEXT PRIMARY KEY,
    empreinte TEXT NOT NULL,
    statut_http INTEGER NOT NULL,
    reponse TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS piece (
    id TEXT PRIMARY KEY,
    numero INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    taille INTEGER NOT NULL,
    type_mime TEXT,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_piece_numero ON piece(numero);
CREATE TABLE IF NOT EXISTS changement (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id TEXT NOT NULL,
    numero INTEGER NOT NULL,
    statut TEXT NOT NULL,
    motif TEXT,
    manquant TEXT,
    at REAL NOT NULL
);
"""


def national_number(numero: int) -> str:
    """The number the national service gives a filing (printed on the kiosk's follow-up)."""
    return f"NAT-{numero:08d}"


def fingerprint(body: bytes) -> str:
    """The hash compared on replay: same key + same body = same answer."""
    return hashlib.sha256(body).hexdigest()


class SimDatabase:
    """One connection shared by the server's handlers, serialised by a lock (a simulator)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.uploads_dir = path.with_name(path.name + ".pieces")
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        # WAL + NORMAL: a committed filing survives the server process being killed (the case
        # the chaos test exercises); a power cut of the simulator's host is not our concern.
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(_SCHEMA)
        # A database of before has no ``borne``: its filings belong to no kiosk (none sees them).
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(depot)")}
        if "borne" not in columns:
            self._conn.execute("ALTER TABLE depot ADD COLUMN borne TEXT")
        self._conn.execute("CREATE INDEX IF NOT EXISTS ix_depot_borne ON depot(borne, numero)")
        self._lock = threading.Lock()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction (``BEGIN IMMEDIATE``), committed at the end of the block."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def upload_path(self, upload_id: str) -> Path:
        """Where the bytes received for an upload are appended."""
        return self.uploads_dir / upload_id

    def filings_per_dossier(self) -> dict[str, int]:
        """How many filing rows each dossier UUID has (1 everywhere, or a duplicate slipped in)."""
        with self.tx() as c:
            rows = c.execute("SELECT dossier_id, COUNT(*) FROM depot GROUP BY dossier_id")
            return {str(r[0]): int(r[1]) for r in rows}

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
