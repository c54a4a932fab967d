"""Sync figures: draining a queue under a rate limit, and a fleet coming back after an outage.

- **drain**: 10,000 queued dossiers against the reference server (its own process) limited to
  R requests/s → achieved throughput / R (target ≥ 0.9), duplicates and losses (target 0).
- **herd**: 2,000 kiosks running the real scheduler (``sync.policy.Scheduler``) in simulated
  time come back after a 30-minute outage against a service of capacity C, which advertises the
  reference server's quota (``sync.server.quota.FairShareQuota``) on every answer → peak request
  rate / C (target ≤ 1.5) and drain time / (backlog ÷ C) (target ≤ 1.3), beside naive clients
  that retry every 10 s and send as fast as they can, in the same run.

    uv run python -m bench.sync_bench [--drain 10000] [--rate 100] [--kiosks 2000] [--skip-drain]
"""

from __future__ import annotations

import argparse
import heapq
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.container import build
from app.settings import Settings
from app.sync_setup import SyncSettings, build_worker
from bench.common import report
from sync.policy import Scheduler, SyncPolicy
from sync.server.quota import FairShareQuota
from sync.server.run import free_port
from tests.sync.support import CREDENTIALS, queue_many, wait_for_port

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- drain (real HTTP)


def drain(count: int, rate: float, workdir: Path) -> None:
    """Queue ``count`` dossiers, sync them against a server limited to ``rate`` requests/s."""
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
    achieved = result.sent / elapsed
    print(f"drain: {result.sent} dossiers in {elapsed:.1f} s against a limit of {rate:g} req/s")
    report("drain: throughput / limit", achieved / rate, "", "≥ 0.9", f"{achieved:.1f}/{rate:g}")
    report("drain: duplicates", duplicates, "", "0")
    report("drain: lost (not filed or still queued)", lost, "", "0")


# ----------------------------------------------------------------------------- herd (simulated)


@dataclass
class Service:
    """A national service of capacity ``capacity`` requests/s, down until ``back_at``.

    Each second it serves ``capacity`` requests and answers 429 with ``Retry-After: 1`` beyond;
    turning a request away still costs ``reject_cost`` of a request's work (TLS, authentication,
    routing), which is how retry storms make an overloaded service collapse. Every answer
    advertises the client's quota (``RateLimit-Policy``) from the reference server's own rule,
    :class:`~sync.server.quota.FairShareQuota`: the capacity shared by the active clients.
    """

    capacity: float
    back_at: float
    reject_cost: float = 0.1
    window: int = -1
    work: float = 0.0
    quotas: FairShareQuota = field(init=False)

    def __post_init__(self) -> None:
        self.quotas = FairShareQuota(self.capacity)

    def handle(self, now: float, client: str) -> tuple[str, float | None]:
        """The outcome of one request (``ok``, ``busy``, ``down``) and the advertised quota."""
        if now < self.back_at:
            return "down", None
        quota = self.quotas.seen(client, now)
        second = int(now)
        if second != self.window:
            self.window, self.work = second, 0.0
        if self.work + 1.0 <= self.capacity:
            self.work += 1.0
            return "ok", quota
        self.work += self.reject_cost
        return "busy", quota


class SimKiosk:
    """One kiosk of the fleet: its backlog and how it decides to send."""

    def __init__(self, arrivals: list[float]) -> None:
        self.arrivals = sorted(arrivals)
        self.sent = 0

    def backlog(self, now: float) -> int:
        return sum(1 for a in self.arrivals if a <= now) - self.sent

    def next_arrival(self, now: float) -> float | None:
        return next((a for a in self.arrivals if a > now), None)


LATENCY = 0.05  # seconds per exchange


def simulate(
    kiosks: int, capacity: float, outage: float, per_kiosk: int, seed: int, *, naive: bool
) -> tuple[float, float, int]:
    """Run the fleet; returns (peak requests/s after the outage, drain seconds, dossiers)."""
    rng = random.Random(seed)
    service = Service(capacity=capacity, back_at=outage)
    quota = capacity / kiosks  # advertised before the outage, the whole fleet being active
    fleet = [SimKiosk([rng.uniform(0, outage) for _ in range(per_kiosk)]) for _ in range(kiosks)]
    schedulers: list[Scheduler] = []
    for _ in fleet:
        s = Scheduler(SyncPolicy(), random.Random(rng.random()), 0.0)
        s.on_success(0.0, quota)  # known from before the outage
        schedulers.append(s)
    events = [(k.arrivals[0], i) for i, k in enumerate(fleet)]
    heapq.heapify(events)
    per_second: Counter[int] = Counter()
    total = kiosks * per_kiosk
    done = 0
    finished_at = outage
    while events and done < total:
        now, i = heapq.heappop(events)
        kiosk = fleet[i]
        if kiosk.backlog(now) <= 0:
            nxt = kiosk.next_arrival(now)
            if nxt is not None:
                heapq.heappush(events, (nxt, i))
            continue
        if not naive:
            wait = schedulers[i].acquire(now)
            if wait > 0:
                heapq.heappush(events, (now + wait, i))
                continue
        outcome, advertised = service.handle(now, str(i))
        if now >= outage:
            per_second[int(now)] += 1
        if outcome == "ok":
            kiosk.sent += 1
            done += 1
            finished_at = now
        delay = step_outcome(schedulers[i], now, outcome, advertised, naive)
        heapq.heappush(events, (now + LATENCY + delay, i))
    peak = max(per_second.values()) if per_second else 0
    return peak / capacity, finished_at - outage, done


def step_outcome(
    scheduler: Scheduler, now: float, outcome: str, advertised: float | None, naive: bool
) -> float:
    """What the client does after an answer: the real scheduler, or a fixed 10 s retry."""
    if naive:
        return 0.0 if outcome == "ok" else 10.0
    if outcome == "ok":
        scheduler.on_success(now, advertised)  # RateLimit-Policy, re-read on every answer
        return 0.0
    if outcome == "busy":
        scheduler.on_rate_limited(now, 1.0, advertised)  # Retry-After: 1; acquire() waits
        return 0.0
    scheduler.on_failure(now, "connexion refusée")
    return 0.0


def herd(kiosks: int, capacity: float, per_kiosk: int) -> None:
    """Print the herd figures for the kiosk scheduler and for naive clients."""
    outage = 30 * 60.0
    ideal = kiosks * per_kiosk / capacity
    print(
        f"herd: {kiosks} kiosks, {kiosks * per_kiosk} dossiers queued during a 30-minute outage,"
        f" capacity {capacity:g} req/s, ideal drain {ideal:.0f} s"
    )
    for naive in (False, True):
        t0 = time.monotonic()
        peak, drained, done = simulate(kiosks, capacity, outage, per_kiosk, 42, naive=naive)
        wall = time.monotonic() - t0
        who = "naive (fixed 10 s retry)" if naive else "kiosk scheduler"
        report(f"herd {who}: peak / capacity", peak, "", "≤ 1.5", f"{peak * capacity:.0f}/s")
        report(
            f"herd {who}: drain / ideal", drained / ideal, "", "≤ 1.3",
            f"{drained:.0f} s/{ideal:.0f} s, {done} filed, simulated in {wall:.1f} s",
        )  # fmt: skip


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drain", type=int, default=10_000, help="dossiers to drain")
    parser.add_argument("--rate", type=float, default=100.0, help="server limit, requests/s")
    parser.add_argument("--kiosks", type=int, default=2000)
    parser.add_argument("--capacity", type=float, default=100.0, help="service capacity, req/s")
    parser.add_argument("--per-kiosk", type=int, default=20, help="dossiers queued per kiosk")
    parser.add_argument("--skip-drain", action="store_true")
    args = parser.parse_args()
    herd(args.kiosks, args.capacity, args.per_kiosk)
    if not args.skip_drain:
        with tempfile.TemporaryDirectory(prefix="pn-sync-bench-") as tmp:
            drain(args.drain, args.rate, Path(tmp))


if __name__ == "__main__":
    main()
