"""The herd model: a fleet of kiosks running the real scheduler against a service of capacity C.

Every simulated kiosk runs :class:`sync.policy.Scheduler` (the worker's own object, not a copy)
in simulated time; the service is modelled with the reference server's quota rule,
:class:`sync.server.quota.FairShareQuota`, and says on every answer what the reference server
says: the kiosk's quota (``RateLimit-Policy``) and its own capacity and fleet size
(``Service-Capacity``). Event-driven: one event per request or wait, nothing per simulated second.

Two ways for a fleet to be cut off for ``outage`` seconds, while dossiers keep being queued at
the kiosks (the fleet's normal load, :data:`LOAD` of the capacity):

- **service down**: nothing answers (connection refused: no ``Retry-After``, the hardest case),
  or, with ``front``, a front still up answers 503 with ``Retry-After`` = the time left;
- **half the fleet back at once**: the service stays up and serves one half of the fleet while
  the other half's network is cut (a region); when it is restored, every kiosk of that half is
  told so by its OS at the same second (``SyncWorker.link_up``: the worst case for a herd).

Figures: the peak of requests reaching the service in one second after the outage, over C; and
the time to file every dossier queued during the outage, over the ideal (that backlog ÷ C).
Beside them, in the same run, naive clients: a fixed 10 s retry, and as fast as they can when
the service answers.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from kiosk.ports.national import QuotaHint
from sync.policy import Scheduler, SyncPolicy
from sync.server.quota import FairShareQuota

#: The fleet's normal load, as a share of the capacity: that of the scenario the herd figure
#: started from (2,000 kiosks queuing 20 dossiers each in 30 minutes, on 100 req/s).
LOAD = 40_000 / (100.0 * 1800.0)
LATENCY = 0.05  # seconds per exchange
NAIVE_RETRY = 10.0  # seconds: the naive client's fixed retry
REJECT_COST = 0.1  # of a request's work: turning one away (TLS, authentication, routing)


@dataclass(frozen=True)
class Cell:
    """One scenario of the grid."""

    kiosks: int
    capacity: float
    outage: float  # seconds
    half: bool = False  # half the fleet cut (the service up), else the service down for all
    front: bool = False  # the service down behind a front answering 503 + Retry-After

    @property
    def ratio(self) -> float:
        """Kiosks per request/s of capacity."""
        return self.kiosks / self.capacity


@dataclass(frozen=True)
class Result:
    """What one run measured."""

    peak: float  # requests reaching the service in its busiest second after the outage, / C
    drain: float  # seconds from the end of the outage to the last of its backlog filed
    ideal: float  # that backlog ÷ C
    filed: int  # dossiers of the backlog filed (all of them: checked)
    backlog: int
    requests: int  # reaching the service, after the outage
    wall: float  # seconds this run took

    @property
    def drain_ratio(self) -> float:
        """Drain time over the ideal."""
        return self.drain / self.ideal if self.ideal > 0 else 0.0


class Service:
    """A service of capacity C requests/s: C served per second, 429 (``Retry-After: 1``) beyond.

    Turning a request away still costs :data:`REJECT_COST` of a request's work, which is how
    retry storms make an overloaded service collapse. Every answer advertises the kiosk's quota
    and the service's capacity and fleet, from the reference server's own rule.
    """

    def __init__(self, capacity: float, kiosks: int) -> None:
        self.capacity = capacity
        # The national service issues the kiosks' credentials: it knows its fleet.
        self.quotas = FairShareQuota(capacity, enrolled=kiosks)
        self._second = -1
        self._work = 0.0

    def handle(self, now: float, client: str, hint: QuotaHint | None, waiting: int | None) -> bool:
        """Serve one request (``True``) or refuse it (429); ``hint`` gets what the answer says
        (``None``: a naive client, which reads none of it).

        ``waiting``: what the kiosk says it has queued after this request (``Queue-Length``).
        """
        if hint is not None:
            hint.rate = self.quotas.seen(client, now, waiting)
            hint.capacity = self.capacity
            hint.fleet = self.quotas.fleet(now)
            hint.next_in = self.quotas.book(client, now) if waiting else None
        second = int(now)
        if second != self._second:
            self._second, self._work = second, 0.0
        if self._work + 1.0 <= self.capacity:
            self._work += 1.0
            return True
        self._work += REJECT_COST
        return False


def simulate(cell: Cell, seed: int, *, naive: bool) -> Result:
    """Run one cell with the kiosks' scheduler (or naive clients); deterministic for a seed."""
    started = time.monotonic()
    rng = random.Random(f"{seed}/{cell}")  # the same dossiers for ours and the naive clients
    n, capacity, outage = cell.kiosks, cell.capacity, cell.outage
    cut = n // 2 if cell.half else n  # kiosks 0 … cut-1 cannot reach the service
    arrivals: list[list[float]] = [[] for _ in range(n)]
    for _ in range(round(LOAD * capacity * outage)):
        arrivals[rng.randrange(n)].append(rng.uniform(0.0, outage))
    for queued in arrivals:
        queued.sort()
    backlog = sum(len(a) for a in arrivals[:cut])
    service = Service(capacity, n)
    policy = SyncPolicy()
    # What the service said before the outage: the quota, its capacity, fleet and their ranks.
    hints = [QuotaHint(rate=capacity / n, capacity=capacity, fleet=n, rank=i) for i in range(n)]
    schedulers = []
    for hint in hints:
        scheduler = Scheduler(policy, random.Random(rng.random()), 0.0, service=hint)
        scheduler.on_success(0.0, hint.rate)  # what the service said before the outage
        schedulers.append(scheduler)
    names = [f"borne-{i}" for i in range(n)]
    sent = [0] * n
    due = [a[0] if a else math.inf for a in arrivals]  # each kiosk's one pending event
    events = [(t, i) for i, t in enumerate(due) if t < math.inf]
    heapq.heapify(events)
    link_up = outage if cell.half and not naive else math.inf
    per_second: Counter[int] = Counter()
    remaining, finished, requests = backlog, outage, 0

    def at(t: float, i: int) -> None:
        due[i] = t
        heapq.heappush(events, (t, i))

    while events and remaining > 0:
        now, i = heapq.heappop(events)
        if now >= link_up:
            # The region's network is back: every kiosk of it is told at this same second.
            heapq.heappush(events, (now, i))
            link_up = math.inf
            for k in range(cut):
                schedulers[k].probe_now(outage)
                if due[k] < math.inf:
                    at(outage, k)
            continue
        if now != due[i]:
            continue  # superseded by a later decision
        queued = arrivals[i]
        waiting = bisect_right(queued, now) - sent[i]
        if waiting <= 0:
            nxt = sent[i]
            at(queued[nxt] if nxt < len(queued) else math.inf, i)
            continue
        scheduler = schedulers[i]
        if not naive:
            wait = scheduler.acquire(now)
            if wait > 0:
                at(now + wait, i)
                continue
        if now < outage and i < cut:
            # Nothing reaches the service (cut, or down): connection refused, or the front.
            if naive:
                # A failure every 10 s until the end: jump there (the same attempts' outcome).
                tries = math.ceil((outage - now) / (NAIVE_RETRY + LATENCY))
                at(now + tries * (NAIVE_RETRY + LATENCY), i)
                continue
            if cell.front:
                delay = scheduler.on_failure(now, "503", retry_after=math.ceil(outage - now))
            else:
                delay = scheduler.on_failure(now, "connexion refusée")
            at(now + max(LATENCY, delay), i)
            continue
        if now >= outage:
            per_second[int(now)] += 1
            requests += 1
        hint = hints[i]
        if service.handle(now, names[i], None if naive else hint, waiting - 1):
            sent[i] += 1
            if i < cut and now >= outage:
                remaining -= 1
                finished = now
            if not naive:
                scheduler.on_success(now, hint.rate)  # RateLimit-Policy, read on every answer
            at(now + LATENCY, i)
        elif naive:
            at(now + LATENCY + NAIVE_RETRY, i)
        else:
            scheduler.on_rate_limited(now, 1.0, hint.rate)  # Retry-After: 1; acquire() waits
            at(now + LATENCY, i)
    filed = backlog - remaining
    peak = max(per_second.values(), default=0) / capacity
    wall = time.monotonic() - started
    return Result(peak, finished - outage, backlog / capacity, filed, backlog, requests, wall)


def lone_kiosk(
    kiosks: int, capacity: float, seed: int, *, event: bool, trials: int = 500
) -> tuple[float, float]:
    """A kiosk alone cut off (its own line) while the service is up, an hour or two.

    Returns the mean and the worst, over ``trials`` random moments and ranks, of the seconds
    from its network coming back to its first request reaching the service. ``event``: its OS
    says so (:meth:`SyncWorker.link_up`); otherwise it finds out at its next probe.
    """
    rng = random.Random(f"{seed}/seul/{kiosks}/{capacity}/{event}")
    delays = []
    for _ in range(trials):
        hint = QuotaHint(capacity=capacity, fleet=kiosks, rank=rng.randrange(kiosks))
        scheduler = Scheduler(SyncPolicy(), random.Random(rng.random()), 0.0, service=hint)
        scheduler.on_success(0.0, capacity)  # alone on the service before its line was cut
        back = rng.uniform(3600.0, 7200.0)
        now, told = 0.0, False
        while True:
            wait = scheduler.acquire(now)
            if wait == 0:
                if now >= back:
                    break  # this request reaches the service
                scheduler.on_failure(now, "réseau coupé")
                continue
            if event and not told and now + wait > back:
                now, told = back, True
                scheduler.probe_now(back)
                continue
            now += wait
        delays.append(now - back)
    return sum(delays) / len(delays), max(delays)
