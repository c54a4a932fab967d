"""The autosave and the search by name against their references, with the spread over rounds
(issue 18), for ``bench/store_bench.py``.

The autosave (one answer through the answers use case: SQLCipher, the projection into the
person's row, the dossier's time, the audit entry, one commit) is timed in turns with its
reference, a bare ``sqlite3`` insert+commit with the kiosk's pragmas on the same disk: both see
the same disk and the same neighbours' load, sample by sample. Each round gives both p95s and
their ratio (target ≤ 3×); the figures print the median round and the spread of the rounds.

What one autosave does is printed too: its statements (as the driver receives them) and the
pages it appends to the write-ahead log, against the bare insert's; with ``synchronous=FULL`` a
commit is one ``fsync`` of the log, for both (``strace -f -e trace=fsync,fdatasync`` shows it).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import median, percentile, report
from kiosk.dossiers.service import DossierService
from kiosk.store import Store
from kiosk.store.cipher import PAGE_SIZE

_FRAME = PAGE_SIZE + 24  # a WAL frame: its header and one page


class BareInsert:
    """The reference: one row inserted and committed by bare ``sqlite3``, the kiosk's pragmas."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "bare.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute(
            "CREATE TABLE answer (dossier_id TEXT, path TEXT, value TEXT, updated_at TEXT,"
            " PRIMARY KEY (dossier_id, path))"
        )
        self._count = 0

    def once(self) -> float:
        """One insert+commit; its time in seconds."""
        self._count += 1
        t = time.perf_counter()
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute(
            "INSERT INTO answer VALUES (?, ?, ?, ?)",
            (str(uuid.uuid4()), f"p{self._count}", '"valeur"', "2026-01-01T00:00:00.000000Z"),
        )
        self._conn.execute("COMMIT")
        return time.perf_counter() - t

    def close(self) -> None:
        self._conn.close()


def _wal_pages(database: Path, action: Callable[[], object]) -> int:
    """Pages ``action`` appended to ``database``'s write-ahead log (tried again if a
    checkpoint restarted the log meanwhile)."""
    wal = Path(f"{database}-wal")
    for _ in range(5):
        before = wal.stat().st_size if wal.exists() else 0
        action()
        after = wal.stat().st_size if wal.exists() else 0
        if after >= before:
            return (after - before) // _FRAME
    return -1


def _statements(store: Store, action: Callable[[], object]) -> list[str]:
    """The statements ``action`` runs, as the SQLite driver receives them."""
    seen: list[str] = []

    def trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    event.listen(store.engine, "checkout", trace)
    try:
        action()
    finally:
        event.remove(store.engine, "checkout", trace)
        store.close()  # the connections traced are closed: the timed autosaves run untraced
    return [s for s in seen if not s.startswith("PRAGMA")]


def autosave_figures(
    store: Store,
    service: DossierService,
    refs: Sequence[str],
    field: str,
    directory: Path,
    *,
    rounds: int = 5,
    per_round: int = 400,
) -> None:
    """The autosave's p50/p95 and their ratio to the bare insert+commit, round by round."""
    bare = BareInsert(directory)
    counter = iter(range(10**9))

    def save() -> None:
        i = next(counter)
        service.answer(refs[i % len(refs)], field, f"réponse {i}")

    for _ in range(2 * len(refs)):  # warm both; every dossier has its person's row
        save()
        bare.once()
    store.close()  # the next checkout gets the trace callback
    statements = _statements(store, save)
    pages = _wal_pages(store.path, save)
    bare_pages = _wal_pages(bare.path, bare.once)
    print(f"# une autosauvegarde : {len(statements)} instructions SQL, 1 validation (1 fsync)")
    for statement in statements:
        print(f"#   {' '.join(statement.split())[:96]}")
    print(f"# pages écrites dans le journal WAL : {pages} (insert+commit nu : {bare_pages})")
    for _ in range(2 * len(refs)):  # warm again: the traced connections were closed
        save()
        bare.once()
    ratios, p50s, p95s, bare95s = [], [], [], []
    for _ in range(rounds):
        saves, bares = [], []
        for _ in range(per_round):
            t = time.perf_counter()
            save()
            saves.append(time.perf_counter() - t)
            bares.append(bare.once())
        p95, b95 = percentile(saves, 0.95), percentile(bares, 0.95)
        p50s.append(percentile(saves, 0.5))
        p95s.append(p95)
        bare95s.append(b95)
        ratios.append(p95 / b95)
    bare.close()
    print(
        "# séries (p95 autosave / p95 nu) : "
        + ", ".join(
            f"{p * 1e3:.2f}/{b * 1e3:.2f} ms = {r:.2f}×"
            for p, b, r in zip(p95s, bare95s, ratios, strict=True)
        )
    )
    order = sorted(range(rounds), key=lambda r: ratios[r])
    mid = order[rounds // 2]
    spread = f"{min(ratios):.2f}–{max(ratios):.2f}× sur {rounds} séries de {per_round}"
    report("autosave d'une réponse p50", p50s[mid] * 1e3, "ms", "—")
    report(
        "autosave d'une réponse p95",
        p95s[mid] * 1e3,
        "ms",
        "≤ 3× nu",
        f"{ratios[mid]:.2f}× sqlite3 nu ({spread})",
    )
    report(
        "référence : sqlite3 nu insert+commit p95",
        bare95s[mid] * 1e3,
        "ms",
        "—",
        f"{min(bare95s) * 1e3:.3f}–{max(bare95s) * 1e3:.3f} ms",
    )


def search_figures(
    service: DossierService,
    queries: dict[str, list[str]],
    targets: dict[str, float],
    *,
    runs: int = 3,
) -> None:
    """Each kind of search's p95 over ``queries`` (each must find), ``runs`` times: the median
    run, its ratio to the target (ms) and the spread of the runs."""
    for label, texts in queries.items():
        p95s = []
        for _ in range(runs):
            times = []
            for text in texts:
                t = time.perf_counter()
                found = service.list(search=text, limit=50)
                times.append(time.perf_counter() - t)
                assert found, f"search {text!r} found nothing"
            p95s.append(percentile(times, 0.95) * 1e3)
        value, target = median(p95s), targets[label]
        report(
            f"recherche par {label} p95",
            value,
            "ms",
            f"≤ {target:g} ms",
            f"{value / target:.2f}× la cible, {min(p95s):.1f}–{max(p95s):.1f} ms sur {runs}",
        )
