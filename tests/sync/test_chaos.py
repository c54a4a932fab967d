"""Exactly once under chaos: 2,000 dossiers, a third of the exchanges broken (5xx, connection
resets, responses lost after the server committed), the server killed and restarted, the kiosk's
sync process killed with SIGKILL mid-way. At the end the national service holds exactly one
filing per dossier and the kiosk has every dossier acknowledged with the right national number."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kiosk.demarches import Catalog
from kiosk.store import Store
from kiosk.store.engine import connect_raw
from sync.server.run import free_port
from tests.support import file_dossier, fill
from tests.sync.conftest import make_kiosk
from tests.sync.support import ROOT, kiosk_env, queue_many, start_simulator

COUNT = 2000
FAULTS = ("--taux-erreur", "0.1", "--taux-coupure", "0.1", "--taux-perte", "0.15")
# A high advertised quota so the kiosk is limited by the faults, not by pacing.
FAST = ("--debit", "5000", "--delai-instruction", "100000", "--graine", "11")


def acknowledged(db: Path) -> int:
    with connect_raw(db, timeout=10) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'acquitte'").fetchone()[0]
        )


def wait_until(db: Path, at_least: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while acknowledged(db) < at_least:
        assert proc.poll() is None, "the sync process ended before it was killed"
        assert time.monotonic() < deadline, f"only {acknowledged(db)} acknowledged"
        time.sleep(0.1)


@pytest.mark.slow
def test_every_dossier_reaches_the_service_exactly_once(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    demarche = catalog.latest("changement_adresse")
    ids = queue_many(store, COUNT, demarche=(demarche.id, demarche.version))
    # A few real ones, queued by the service exactly as at the counter.
    real = make_kiosk(store, catalog, "http://unused")
    for _ in range(3):
        ref = real.dossiers.create(demarche.id).reference
        fill(real.dossiers, ref, demarche)
        ids.append(file_dossier(real.dossiers, ref).id)
    store.close()
    kiosk_db = tmp_path / "kiosk.sqlite3"
    server_db = tmp_path / "national.sqlite3"
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    server = start_simulator(server_db, port, *FAULTS, *FAST)
    errors = (tmp_path / "sync.err").open("wb")
    sync = subprocess.Popen(
        [sys.executable, "-m", "app", "--db", str(kiosk_db), "sync", "--watch", "--url", url],
        cwd=ROOT,
        env=kiosk_env(),
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    try:
        wait_until(kiosk_db, 200, sync)
        server.send_signal(signal.SIGKILL)  # the national service crashes…
        server.wait()
        time.sleep(0.5)
        server = start_simulator(server_db, port, *FAULTS, *FAST)  # …and comes back
        wait_until(kiosk_db, 500, sync)
        sync.send_signal(signal.SIGKILL)  # the kiosk's sync dies mid-request
        sync.wait()
        errors.close()
        assert b"Traceback" not in (tmp_path / "sync.err").read_bytes()

        # A fresh process (in-process here, simulated time) finishes the job.
        from kiosk.store import open_store

        reopened = open_store(kiosk_db)
        k = make_kiosk(reopened, catalog, url)
        report = k.worker.run_once(stop_when_open=False)
        # A pass gives a dossier three tries of its own (a random 500 counts as one): with a
        # tenth of the exchanges failing, a couple of 2,003 meet three in a row and wait their
        # own backoff, as they would under `sync --watch`; the next passes take them.
        for _ in range(5):
            if k.worker.run_once(stop_when_open=False).waiting == 0:
                break
            k.clock.advance(3600)
        k.api.close()

        filings = httpx.get(f"{url}/_control/depots").json()["depots"]
        stats = httpx.get(f"{url}/_control").json()["statistiques"]
    finally:
        errors.close()
        for proc in (sync, server):
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # The service: exactly one filing per dossier, none unknown.
    assert sorted(filings) == sorted(ids)
    assert set(filings.values()) == {1}
    # The hard cases did happen (answers lost after commit, resets, errors), and were replayed.
    assert stats.get("pertes", 0) > 0 and stats.get("coupures", 0) > 0
    assert report.failures > 0 and report.replayed > 0
    # The kiosk: every dossier acknowledged, « transmis », with the service's own number.
    with sqlite3.connect(server_db) as conn:
        numbers = {
            d: f"NAT-{n:08d}" for d, n in conn.execute("SELECT dossier_id, numero FROM depot")
        }
    with connect_raw(kiosk_db) as conn:
        rows = conn.execute(
            "SELECT d.id, d.state, d.national_number, o.state FROM dossier d"
            " JOIN outbox o ON o.dossier_id = d.id"
        ).fetchall()
    reopened.close()
    assert len(rows) == COUNT + 3
    assert {r[1] for r in rows} == {"transmis"}
    assert {r[3] for r in rows} == {"acquitte"}
    assert all(numbers[r[0]] == r[2] for r in rows)
