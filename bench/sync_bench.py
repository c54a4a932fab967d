"""Sync figures: draining a queue under a rate limit, and fleets coming back after an outage.

- **drain**: 10,000 queued dossiers against the reference server (its own process) limited to
  R requests/s → achieved throughput / R (target ≥ 0.95), duplicates and losses (target 0).
- **herd grid** (``bench/herd.py``): fleets of 1,000 to 50,000 kiosks running the real scheduler
  (``sync.policy.Scheduler``) in simulated time, on services of 10 to 1,000 requests/s (up to
  100 kiosks per request/s), cut off for 30 minutes or 6 hours: the service down (nothing
  answers), the service down behind a front answering 503 + ``Retry-After``, or half the fleet
  cut and restored at once (a region). The service is the reference server's rule
  (``sync.server.quota.FairShareQuota``: quotas, booked places, its size). Per cell: peak
  requests/s after the outage / C (target ≤ 1.2) and the drain time / the ideal (backlog ÷ C,
  target ≤ 1.2), beside naive clients (a fixed 10 s retry, as fast as they can otherwise) in
  the same run; then how long a kiosk alone waits once its own line is back.

Six-hour cells on more than 50 requests/s are *sampled*: simulated at a smaller scale with the
same ratio of kiosks to capacity (10,000 kiosks on 1,000 req/s as 500 on 50), the table says
which; the behaviour depends on that ratio (windows, shares), and a smaller service is the
coarser one (a request is a larger share of a second). ``--full-scale`` simulates them as they
are (an hour or more).

    uv run python -m bench.sync_bench [--drain 10000] [--rate 100] [--seed 1] [--jobs 2]
                                      [--skip-drain] [--skip-grid] [--full-scale]
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx

from app.container import build
from app.settings import Settings
from app.sync_setup import SyncSettings, build_worker
from bench.common import report
from bench.herd import LOAD, Cell, Result, lone_kiosk, simulate
from sync.policy import SyncPolicy
from sync.server.run import free_port
from tests.sync.support import CREDENTIALS, queue_many, wait_for_port

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- drain (real HTTP)


def drain(count: int, rate: float, workdir: Path) -> None:
    """Queue ``count`` dossiers, sync them against a server limited to ``rate`` requests/s.

    Then the same with no limit, a fifth as many: what the kiosk and the server do on this
    machine (two shared cores) when nothing holds them back, to tell the limit from the machine.
    """
    sent, elapsed, duplicates, lost = _drain(count, rate, workdir / "limite")
    achieved = sent / elapsed
    print(f"drain: {sent} dossiers in {elapsed:.1f} s against a limit of {rate:g} req/s")
    report("drain: throughput / limit", achieved / rate, "", "≥ 0.95", f"{achieved:.1f}/{rate:g}")
    report("drain: duplicates", duplicates, "", "0")
    report("drain: lost (not filed or still queued)", lost, "", "0")
    free, took, _, _ = _drain(max(1, count // 5), 1e6, workdir / "sans-limite")
    print(f"drain with no limit (this machine's ceiling): {free / took:.1f} dossiers/s")


def _drain(count: int, rate: float, workdir: Path) -> tuple[int, float, int, int]:
    """(sent, seconds, duplicates, lost) of one drain against its own server."""
    workdir.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "national-sim", "--port", str(port),
         "--db", str(workdir / "national.sqlite3"), "--debit", str(rate),
         "--delai-instruction", "1e9"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port)
        container = build(Settings(data_dir=workdir))
        ids = queue_many(container.store, count, demarche=("changement_adresse", 1))
        settings = SyncSettings(
            url=f"http://127.0.0.1:{port}",
            client_id=CREDENTIALS["PN_KIOSK_API_CLIENT_ID"],
            client_secret=CREDENTIALS["PN_KIOSK_API_CLIENT_SECRET"],
            policy=SyncPolicy(),
        )
        worker, api = build_worker(container, settings)
        worker.pull_changes()  # first contact: learns the advertised quota
        started = time.monotonic()
        result = worker.run_once()
        elapsed = time.monotonic() - started
        api.close()
        filings = httpx.get(f"{settings.url}/_control/depots").json()["depots"]
        container.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    duplicates = sum(n - 1 for n in filings.values())
    lost = len(set(ids) - set(filings)) + result.waiting
    return result.sent, elapsed, duplicates, lost


# ----------------------------------------------------------------------------- herd (simulated)

#: (kiosks, capacity in requests/s): 10 to 100 kiosks per request/s, 1,000 to 50,000 kiosks.
FLEETS = (
    (1_000, 100.0),
    (1_000, 10.0),
    (10_000, 1_000.0),
    (10_000, 500.0),
    (10_000, 100.0),
    (50_000, 1_000.0),
    (50_000, 500.0),
)
OUTAGES = (1800.0, 21_600.0)
CASES = ("panne", "frontal", "moitie")  # service down; down behind a front; half the fleet
CASE_LABELS = {"panne": "service down", "frontal": "down, front 503", "moitie": "half back"}
SAMPLED_CAPACITY = 50.0  # six-hour cells above it are simulated at this capacity


def grid_cells(full_scale: bool) -> list[tuple[Cell, Cell]]:
    """Each (cell as stated, cell as simulated) of the grid."""
    cells = []
    for outage in OUTAGES:
        for kiosks, capacity in FLEETS:
            for case in CASES:
                stated = Cell(kiosks, capacity, outage, half=case == "moitie",
                              front=case == "frontal")  # fmt: skip
                scale = 1.0
                if outage > 1800 and capacity > SAMPLED_CAPACITY and not full_scale:
                    scale = capacity / SAMPLED_CAPACITY
                simulated = Cell(round(kiosks / scale), capacity / scale, outage,
                                 half=stated.half, front=stated.front)  # fmt: skip
                cells.append((stated, simulated))
    return cells


def _run(task: tuple[Cell, int, bool]) -> Result:
    cell, seed, naive = task
    return simulate(cell, seed, naive=naive)


def herd_grid(seed: int, jobs: int, full_scale: bool) -> None:
    """Print the grid's table, ours beside naive clients, and the worst figures."""
    cells = grid_cells(full_scale)
    # The naive clients ignore Retry-After: behind a front they do as with the service down.
    tasks = sorted(
        {(sim, seed, naive) for _, sim in cells for naive in (False, True)
         if not (naive and sim.front)},
        key=lambda t: -(t[0].capacity * t[0].outage),  # the longest first, for the pool
    )  # fmt: skip
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        results = dict(zip(tasks, pool.map(_run, tasks, chunksize=1), strict=True))
    wall = time.monotonic() - started
    simulated = sum(r.wall for r in results.values())
    print(
        f"herd grid (seed {seed}): fleet load {LOAD:.2f} C queued during the outage, no new"
        f" dossier after; peak = busiest second after it / C; drain = last of that backlog"
        f" filed / (backlog ÷ C). {len(tasks)} runs, {simulated:.0f} s of simulation,"
        f" {wall:.0f} s on {jobs} processes."
    )
    print()
    print("| kiosks | C req/s | kiosks/C | outage | case | simulated as | ours: peak | drain"
          " | naive: peak | drain | ideal drain |")  # fmt: skip
    print("|---:|---:|---:|---|---|---|---:|---:|---:|---:|---:|")
    worst_peak = worst_drain = 0.0
    naive_peak = 0.0
    for stated, sim in cells:
        ours = results[(sim, seed, False)]
        naive = results[(replace(sim, front=False), seed, True)]
        assert ours.filed == ours.backlog
        assert naive.filed == naive.backlog
        worst_peak, worst_drain = max(worst_peak, ours.peak), max(worst_drain, ours.drain_ratio)
        naive_peak = max(naive_peak, naive.peak)
        sampled = "" if sim == stated else f"{sim.kiosks:,} on {sim.capacity:g}"
        case = "moitie" if stated.half else "frontal" if stated.front else "panne"
        print(
            f"| {stated.kiosks:,} | {stated.capacity:g} | {stated.ratio:g} |"
            f" {stated.outage / 3600:g} h | {CASE_LABELS[case]} | {sampled} |"
            f" {ours.peak:.2f} | {ours.drain_ratio:.2f} | {naive.peak:.2f} |"
            f" {naive.drain_ratio:.2f} | {ours.ideal:.0f} s |"
        )
    print()
    report("herd grid, ours: worst peak / capacity", worst_peak, "", "≤ 1.2")
    report("herd grid, ours: worst drain / ideal", worst_drain, "", "≤ 1.2")
    report("herd grid, naive: worst peak / capacity", naive_peak, "", "≤ 1.2")


def lone_kiosks(seed: int) -> None:
    """How long a kiosk alone waits once its own line is back (the price of the windows)."""
    print()
    print("a kiosk alone, its line back after 1–2 h cut (service up): seconds to its first"
          " request, mean / worst of 500")  # fmt: skip
    print()
    print("| kiosks | C req/s | kiosks/C | told by its OS (link up) | not told (next probe) |")
    print("|---:|---:|---:|---:|---:|")
    for kiosks, capacity in ((1, 100.0), *FLEETS):
        told = lone_kiosk(kiosks, capacity, seed, event=True)
        probe = lone_kiosk(kiosks, capacity, seed, event=False)
        print(
            f"| {kiosks:,} | {capacity:g} | {kiosks / capacity:g} | {told[0]:.0f} / {told[1]:.0f}"
            f" | {probe[0]:.0f} / {probe[1]:.0f} |"
        )


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drain", type=int, default=10_000, help="dossiers to drain")
    parser.add_argument("--rate", type=float, default=100.0, help="server limit, requests/s")
    parser.add_argument("--seed", type=int, default=1, help="the herd grid's seed")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the herd grid")
    parser.add_argument("--full-scale", action="store_true", help="no sampled cell (slow)")
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument("--skip-grid", action="store_true")
    args = parser.parse_args()
    if not args.skip_grid:
        herd_grid(args.seed, args.jobs, args.full_scale)
        lone_kiosks(args.seed)
    if not args.skip_drain:
        with tempfile.TemporaryDirectory(prefix="pn-sync-bench-") as tmp:
            drain(args.drain, args.rate, Path(tmp))


if __name__ == "__main__":
    main()
