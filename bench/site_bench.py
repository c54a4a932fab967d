"""Site figures (issue 17): several counters on one PostgreSQL site store.

- **autosave**: 2, 4 and 8 kiosk processes on one site store (a throw-away PostgreSQL cluster of
  Debian's, durable: ``fsync`` and ``synchronous_commit`` on, as a site server runs), each
  autosaving the answers of its own dossier and filing one dossier every
  :data:`FILE_EVERY` answers; the p95 of every autosave of every process (target ≤ 10 ms), and
  its ratio to the same processes on one SQLite (SQLCipher) file on this machine, run right
  after.
- **drain**: the site's outbox (:data:`DRAIN` dossiers) drained by 2, 4 and 8 ``kiosk sync
  --once`` processes at once, each with credentials of its own (as each counter has), against
  the reference server limited to R requests/s (its own process): the site's throughput / R
  (target ≥ 0.9), and every dossier filed exactly once (duplicates 0).

The machine has two shared cores: eight processes share them with the database server and the
reference server, so the figures say what eight counters cost on *this* machine, not on a site.
Each configuration runs :data:`ROUNDS` times; the report gives the median and the spread.

    uv run python -m bench.site_bench [--processes 2 4 8] [--answers 200] [--drain 600]
                                      [--rate 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import httpx

from bench.common import median, percentile, report
from kiosk.store import open_store
from sync.server.run import free_port
from tests.postgres import Cluster, start_cluster
from tests.sync.support import queue_many, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
FILE_EVERY = 25  # answers between two filings, per process
ROUNDS = 3
DRAIN = 600
UNUSED = Path("/nonexistent/unused.db")

# ----------------------------------------------------------------------------- autosave


def _counter(
    url: str | None, db: Path, answers: int, barrier: Barrier, think: float = 0.0
) -> list[float]:
    """One counter: autosave ``answers`` answers of its dossier, filing one dossier every
    :data:`FILE_EVERY`; the seconds each autosave took. ``think``: the mean pause between two
    answers (0: one after the other, the worst case; a person needs a second or more)."""
    import random

    from kiosk.demarches import load_catalog
    from kiosk.dossiers.service import DossierService
    from kiosk.settings.paths import assets_dir
    from tests.support import file_dossier, fill

    store = open_store(db, url=url)
    catalog = load_catalog(assets_dir() / "demarches")
    service = DossierService(store, catalog)
    demarche = catalog.latest("changement_adresse")
    reference = service.create("changement_adresse").reference
    service.answer(reference, "nom", "MARTIN")  # the first writes of a dossier, not timed
    barrier.wait()
    timings = []
    pauses = random.Random(os.getpid())  # spreading pauses, not a secret
    try:
        for i in range(answers):
            if think:
                time.sleep(think * pauses.uniform(0.5, 1.5))
            started = time.perf_counter()
            service.answer(reference, "nom", f"MARTIN{i % 2}")
            timings.append(time.perf_counter() - started)
            if (i + 1) % FILE_EVERY == 0:
                filed = service.create("changement_adresse").reference
                fill(service, filed, demarche)
                file_dossier(service, filed)
    finally:
        store.close()
    return timings


def _counter_process(
    url: str | None,
    db: Path,
    answers: int,
    barrier: Barrier,
    results: Queue[list[float]],
    think: float,
) -> None:
    results.put(_counter(url, db, answers, barrier, think))


def _autosaves(
    url: str | None, db: Path, processes: int, answers: int, think: float = 0.0
) -> list[float]:
    """Every autosave's time of ``processes`` counters at once on one store."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results: Queue[list[float]] = context.Queue()
    workers = [
        context.Process(target=_counter_process, args=(url, db, answers, barrier, results, think))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    timings = [t for _ in workers for t in results.get(timeout=1800)]
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise SystemExit(f"a counter failed (exit {worker.exitcode})")
    return timings


def autosave(
    cluster: Cluster,
    counts: Sequence[int],
    answers: int,
    rounds: int,
    work: Path,
    think: float = 0.0,
) -> None:
    """Print the autosave p95 on the site store and on one SQLite file, per process count."""
    pace = (
        f"a pause of {think * 1000:.0f} ms on average between two answers"
        if think
        else "one answer after the other (no pause: the worst case)"
    )
    print(
        f"autosave: {answers} answers per process, {pace}, a filing every {FILE_EVERY};"
        f" {rounds} rounds"
    )
    print()
    print("| processes | PostgreSQL p50 / p95 | SQLite p50 / p95 | p95 ratio PG / SQLite |")
    print("|---:|---:|---:|---:|")
    for count in counts:
        site_p95, lite_p95, site_p50, lite_p50, ratios = [], [], [], [], []
        for n in range(rounds):
            url = cluster.new_database(f"bench_{count}_{n}_{time.monotonic_ns()}")
            open_store(UNUSED, url=url).close()  # migrated once, before the counters start
            site = _autosaves(url, UNUSED, count, answers, think)
            db = work / f"lite-{count}-{n}-{think:g}" / "kiosk.sqlite3"
            db.parent.mkdir(parents=True)
            open_store(db).close()
            lite = _autosaves(None, db, count, answers, think)
            site_p95.append(percentile(site, 0.95) * 1000)
            lite_p95.append(percentile(lite, 0.95) * 1000)
            site_p50.append(percentile(site, 0.50) * 1000)
            lite_p50.append(percentile(lite, 0.50) * 1000)
            ratios.append(site_p95[-1] / lite_p95[-1])
        print(
            f"| {count} | {median(site_p50):.2f} / {median(site_p95):.2f} ms"
            f" ({min(site_p95):.2f}–{max(site_p95):.2f}) | {median(lite_p50):.2f} /"
            f" {median(lite_p95):.2f} ms ({min(lite_p95):.2f}–{max(lite_p95):.2f}) |"
            f" {median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) |"
        )
        report(
            f"autosave p95, {count} processes{', paced' if think else ''}, site store",
            median(site_p95),
            "ms",
            "≤ 10 ms",
            f"{median(ratios):.2f}× SQLite",
        )
    print()


# ----------------------------------------------------------------------------- drain


def _kiosk(url: str, data: Path, national: str, client: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PN_KIOSK_API_CLIENT_ID": f"guichet-{client}",
        "PN_KIOSK_API_CLIENT_SECRET": f"secret-{client}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--db-url", url, "--data-dir", str(data), "--json",
         "sync", "--once", "--url", national],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _drain_once(
    cluster: Cluster, processes: int, dossiers: int, rate: float, work: Path
) -> tuple[float, int, int]:
    """(throughput / rate, duplicates, lost) of one drain of the site's outbox."""
    url = cluster.new_database(f"drain_{processes}_{time.monotonic_ns()}")
    store = open_store(UNUSED, url=url)
    try:
        ids = queue_many(store, dossiers, demarche=("changement_adresse", 1))
    finally:
        store.close()
    port = free_port()
    clients = [arg for n in range(processes) for arg in ("--client", f"guichet-{n}:secret-{n}")]
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "national-sim", "--port", str(port),
         "--db", str(work / f"national-{port}.sqlite3"), "--debit", str(rate),
         "--delai-instruction", "1e9", *clients],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port)
        national = f"http://127.0.0.1:{port}"
        runs = [_kiosk(url, work / f"guichet-{port}-{n}", national, n) for n in range(processes)]
        for run in runs:
            _out, err = run.communicate(timeout=1800)
            if run.returncode != 0:
                raise SystemExit(f"kiosk sync failed: {err}")
        filings = httpx.get(f"{national}/_control/depots").json()["depots"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    # The service's own clock: from its first filing to its last (the processes' start-up, a
    # second or more of imports on this machine, is not the drain).
    with sqlite3.connect(work / f"national-{port}.sqlite3") as db:
        count, first, last = db.execute(
            "SELECT COUNT(*), MIN(depose_at), MAX(depose_at) FROM depot"
        ).fetchone()
    duplicates = sum(n - 1 for n in filings.values())
    lost = len(set(ids) - set(filings))
    return (count - 1) / (last - first) / rate, duplicates, lost


def drain(
    cluster: Cluster, counts: Sequence[int], dossiers: int, rate: float, rounds: int, work: Path
) -> None:
    """Print the site's drain throughput / limit, per number of counters syncing at once."""
    print(
        f"drain: {dossiers} dossiers of the site's outbox against a limit of {rate:g} req/s"
        f" (each counter its own credentials); {rounds} rounds. Throughput: filings per second"
        " from the service's first to its last, by its own clock."
    )
    print()
    print("| processes | throughput / limit | duplicates | lost |")
    print("|---:|---:|---:|---:|")
    for count in counts:
        results = [_drain_once(cluster, count, dossiers, rate, work) for _ in range(rounds)]
        ratios = [r[0] for r in results]
        duplicates = sum(r[1] for r in results)
        lost = sum(r[2] for r in results)
        print(
            f"| {count} | {median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f}) |"
            f" {duplicates} | {lost} |"
        )
        report(f"drain, {count} counters: throughput / limit", median(ratios), "", "≥ 0.9")
        report(f"drain, {count} counters: duplicates / lost", duplicates + lost, "", "0")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the site figures and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--answers", type=int, default=200, help="autosaves per process")
    parser.add_argument("--drain", type=int, default=DRAIN, help="dossiers in the site's outbox")
    parser.add_argument("--rate", type=float, default=50.0, help="the service's limit, req/s")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--think",
        type=float,
        default=0.3,
        help="mean pause between two answers of a counter, seconds, for the paced table (0: none)",
    )
    parser.add_argument("--skip-autosave", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    args = parser.parse_args(argv)
    # Stopped from outside (a terminal closed, a timeout): the cluster below is still stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    # A site server is durable: the tests' cluster settings (no fsync) would flatter it.
    cluster = start_cluster(settings=("fsync=on", "synchronous_commit=on", "full_page_writes=on"))
    try:
        with tempfile.TemporaryDirectory(prefix="pn-site-bench-") as tmp:
            work = Path(tmp)
            if not args.skip_autosave:
                autosave(cluster, args.processes, args.answers, args.rounds, work)
                if args.think:
                    paced = max(1, args.answers // 2)
                    autosave(cluster, args.processes, paced, args.rounds, work, args.think)
            if not args.skip_drain:
                drain(cluster, args.processes, args.drain, args.rate, args.rounds, work)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
