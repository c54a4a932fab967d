"""The scheduler in simulated time: jittered backoff under its cap, Retry-After as a floor, a
token bucket under the advertised quota, and a circuit that stops sending when the service is
down; at a fleet's scale, probes once per window of the fleet at the kiosk's own place in it
(after a cut, a front's 503, a link back), and the places the service books honoured."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest

from kiosk.ports.national import QuotaHint
from sync.policy import Backoff, CircuitState, Scheduler, SyncPolicy, TokenBucket


def test_backoff_grows_is_jittered_and_capped() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(1))
    delays = [backoff.next() for _ in range(40)]
    assert all(1.0 <= d <= 60.0 for d in delays)
    assert max(delays[:3]) < 30 and max(delays[10:]) > 30  # it grows…
    assert len({round(d, 3) for d in delays}) > 30  # …and two kiosks rarely pick the same delay


def test_the_bucket_paces_requests_at_its_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=2.0, now=0.0)
    now, sent = 0.0, 0
    while now < 100.0:
        wait = bucket.wait_time(now)
        if wait == 0:
            bucket.take(now)
            sent += 1
        else:
            now += wait
    assert 995 <= sent <= 1002


def test_the_circuit_opens_then_lets_one_probe_through() -> None:
    scheduler = Scheduler(SyncPolicy(failure_threshold=3), random.Random(2), now=0.0)
    now = 0.0
    for _ in range(3):
        now += scheduler.delay(now)
        scheduler.on_failure(now, "injoignable")
    assert scheduler.state is CircuitState.OPEN
    wait = scheduler.delay(now)
    assert wait > 0  # nothing is sent while open: no busy loop offline
    now += wait
    assert scheduler.delay(now) <= 2.0  # only the bucket's pacing is left
    states = [scheduler.state]
    scheduler.on_failure(now, "toujours injoignable")
    states.append(scheduler.state)  # one failed probe reopens at once
    now += scheduler.delay(now)
    scheduler.on_success(now, advertised_rate=20.0)
    states.append(scheduler.state)
    assert states == [CircuitState.HALF_OPEN, CircuitState.OPEN, CircuitState.CLOSED]
    assert scheduler.bucket.rate == 20.0 * SyncPolicy().rate_margin


def test_retry_after_is_a_floor_and_429_does_not_open_the_circuit() -> None:
    scheduler = Scheduler(SyncPolicy(), random.Random(3), now=0.0)
    for _ in range(5):
        waited = scheduler.on_rate_limited(0.0, retry_after=30.0)
        assert 30.0 <= waited <= 36.0
    assert scheduler.state is CircuitState.CLOSED
    assert scheduler.delay(0.0) >= 30.0
    assert scheduler.on_failure(100.0, "503", retry_after=120.0) >= 120.0


def test_a_retry_after_of_days_still_leaves_the_queue_tried_within_the_hour() -> None:
    """A proxy with a wrong clock or a hostile answer must not park the dossiers for days."""
    scheduler = Scheduler(SyncPolicy(), random.Random(3), now=0.0)
    ten_days = 10 * 86400.0
    assert scheduler.on_rate_limited(0.0, retry_after=ten_days) <= 3600.0 * 1.2
    assert scheduler.on_failure(0.0, "503", retry_after=ten_days) <= 3600.0 * 1.2
    assert scheduler.delay(0.0) <= 3600.0 * 1.2


def test_a_link_up_event_allows_a_probe_at_once() -> None:
    scheduler = Scheduler(SyncPolicy(failure_threshold=1, backoff_base=50.0), random.Random(4), 0.0)
    scheduler.on_failure(0.0, "injoignable")
    assert scheduler.delay(1.0) > 10
    scheduler.probe_now(1.0)
    assert scheduler.delay(1.0) <= 1 / SyncPolicy().default_rate


def test_a_tiny_advertised_quota_does_not_park_the_queue_for_a_day() -> None:
    """« RateLimit-Policy: q=0.00001 » (one request a day) from a hostile or broken service."""
    scheduler = Scheduler(SyncPolicy(), random.Random(3), now=0.0)
    now = 0.0
    now += scheduler.acquire(now)
    scheduler.on_success(now, advertised_rate=0.00001)
    waits = []
    for _ in range(3):
        wait = scheduler.acquire(now)
        waits.append(wait)
        now += wait
        scheduler.on_success(now, advertised_rate=0.00001)
    assert max(waits) <= 3600 * 1.2  # at least about one request an hour, not one a day


# ---------------------------------------------------------------------- a fleet, its windows


def failing(scheduler: Scheduler, start: float, until: float) -> list[float]:
    """When ``scheduler`` sends while every request fails, from ``start`` to ``until``."""
    sent, now = [], start
    while now < until:
        wait = scheduler.acquire(now)
        if wait > 0:
            now += wait
            continue
        sent.append(now)
        scheduler.on_failure(now, "connexion refusée")
    return sent


def test_a_kiosk_of_a_large_fleet_probes_once_per_window_at_its_own_slot() -> None:
    # 10,000 kiosks on 100 req/s: the probes of the fleet may take half the capacity, 50 a
    # second, so each kiosk probes once per 10,000 ÷ 50 = 200 s.
    hint = QuotaHint(capacity=100.0, fleet=10_000, rank=3)
    scheduler = Scheduler(SyncPolicy(), random.Random(1), 0.0, hint)
    assert scheduler.probe_window() == 200.0
    probes = failing(scheduler, 0.0, 3600.0)
    opened = probes[SyncPolicy().failure_threshold :]  # after the first tries, the circuit open
    assert [round(b - a, 6) for a, b in itertools.pairwise(opened)] == [200.0] * (len(opened) - 1)
    # Rank 3 is 0.11 in binary: its place is three quarters into each window.
    assert {round(t % 200.0, 6) for t in opened} == {150.0}
    # A service that never said its size: once a minute, as before.
    alone = failing(Scheduler(SyncPolicy(), random.Random(1), 0.0), 0.0, 3600.0)
    assert max(b - a for a, b in itertools.pairwise(alone)) <= 60.0 + 1e-6


def test_a_fleet_cut_at_once_probes_at_half_the_capacity_and_evenly() -> None:
    # 1,000 kiosks on 10 req/s (the same ratio), all cut at the same second.
    fleet = [
        Scheduler(SyncPolicy(), random.Random(i), 0.0, QuotaHint(capacity=10.0, fleet=1000, rank=i))
        for i in range(1000)
    ]
    per_second = Counter(int(t) for s in fleet for t in failing(s, 0.0, 1200.0) if t >= 1000.0)
    assert sum(per_second.values()) == 1000  # each once in the 200 s window…
    assert max(per_second.values()) <= 6  # …5 a second: half of 10, never in bunches
    # With random places (a service that gives no rank), still once each per window.
    unranked = [
        Scheduler(SyncPolicy(), random.Random(i), 0.0, QuotaHint(capacity=10.0, fleet=1000))
        for i in range(1000)
    ]
    assert sum(1 for s in unranked for t in failing(s, 0.0, 1200.0) if t >= 1000.0) == 1000


def test_a_front_saying_when_brings_the_fleet_back_after_it_at_half_the_capacity() -> None:
    fleet = [
        Scheduler(SyncPolicy(), random.Random(i), 0.0, QuotaHint(capacity=10.0, fleet=1000, rank=i))
        for i in range(1000)
    ]
    back = []
    for i, scheduler in enumerate(fleet):
        told_at = i * 1.7  # asked at various moments; the maintenance ends at 1800 s
        scheduler.on_failure(told_at, "503", retry_after=math.ceil(1800.0 - told_at))
        back.append(comeback_from(scheduler, told_at))
    # Not before the end (to half a second: Retry-After counts whole seconds)…
    assert min(back) >= 1800.0 - 0.5
    assert max(back) < 1800.0 + 200.0 + 1.0  # …and within the fleet's window after it,
    assert max(Counter(int(t) for t in back).values()) <= 6  # 5 a second, half of 10


def comeback_from(scheduler: Scheduler, now: float) -> float:
    """When the scheduler next lets a request out."""
    while (wait := scheduler.delay(now)) > 0:
        now += wait
    return now


def test_a_link_back_probes_at_the_kiosks_place_in_the_window() -> None:
    # A region's network restored: 1,000 kiosks told by their OS at the same second.
    fleet = []
    for i in range(1000):
        scheduler = Scheduler(
            SyncPolicy(), random.Random(i), 0.0, QuotaHint(capacity=10.0, fleet=1000, rank=i)
        )
        failing(scheduler, 0.0, 1800.0)  # cut for 30 minutes, probing in vain
        scheduler.probe_now(1800.0)
        fleet.append(comeback_from(scheduler, 1800.0))
    assert min(fleet) >= 1800.0
    assert max(fleet) < 2000.0
    assert max(Counter(int(t) for t in fleet).values()) <= 6


def test_the_place_the_service_booked_is_the_wait_whatever_the_kiosks_own_pace() -> None:
    hint = QuotaHint()
    scheduler = Scheduler(SyncPolicy(), random.Random(2), 0.0, hint)
    scheduler.on_success(0.0, advertised_rate=0.001)  # its own pace: one request in 17 minutes
    hint.next_in = 12.5  # the answer booked its next place
    assert scheduler.acquire(0.0) == pytest.approx(12.5)
    assert scheduler.acquire(12.5) == 0.0  # sent then, not in 17 minutes
    assert scheduler.acquire(12.5) > 900.0  # no place booked: its own pace again, no burst
    # A 429 that books a place: that place, not Retry-After plus a random fifth.
    hint.next_in = 3.25
    assert scheduler.on_rate_limited(20.0, retry_after=4.0) == 3.25
    assert comeback_from(scheduler, 20.0) == pytest.approx(23.25)


def test_what_a_hostile_service_says_of_itself_cannot_park_the_queue() -> None:
    hint = QuotaHint(capacity=0.000001, fleet=10_000_000)
    scheduler = Scheduler(SyncPolicy(), random.Random(2), 0.0, hint)
    assert scheduler.probe_window() == SyncPolicy().probe_cap  # an hour, not years
    hint.next_in = 10 * 86400.0
    assert scheduler.delay(0.0) <= SyncPolicy().retry_after_cap
