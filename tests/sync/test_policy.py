"""The scheduler in simulated time: jittered backoff under its cap, Retry-After as a floor, a
token bucket under the advertised quota, and a circuit that stops sending when the service is
down."""

from __future__ import annotations

import random

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
