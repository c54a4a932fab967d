"""The quota the service advertises follows its active clients: a kiosk left alone gets the
whole service, a crowd shares it, joining kiosks find room; the reference server says it in
``RateLimit-Policy`` on every answer, and a kiosk paces itself on what it was last told. The
service books the places of kiosks that say what they have queued, in turn, at its capacity,
and says its size (``Service-Capacity``), its front too while it is down."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from kiosk.demarches import Catalog
from kiosk.store import Store
from kiosk.sync.outbox import Outbox
from sync.client import parse_next_request, parse_rate_policy, parse_service_capacity
from sync.clock import SimClock
from sync.policy import Scheduler, SyncPolicy
from sync.server.app import NationalSimulator
from sync.server.faults import policy_value
from sync.server.quota import ARRIVAL_WINDOW, FairShareQuota
from sync.server.run import ServerThread
from sync.worker import QUOTA_KEY
from tests.sync.conftest import make_kiosk
from tests.sync.support import queue_many


def pace(quotas: FairShareQuota, clients: list[str], start: float, end: float) -> float:
    """Each client sends one request per slot of the quota it was last told; returns the end."""
    due = dict.fromkeys(clients, start)
    now = start
    while now < end:
        client = min(due, key=due.__getitem__)
        now = due[client]
        due[client] = now + 1.0 / quotas.seen(client, now)
    return now


def test_the_share_grows_as_clients_leave_and_a_paced_client_is_never_forgotten() -> None:
    quotas = FairShareQuota(100.0)
    fleet = [f"borne-{i}" for i in range(200)]
    now = pace(quotas, fleet, 0.0, 120.0)
    assert quotas.active(now) == 200  # every one paced at ~21 s, none dropped
    assert quotas.quota(now, "borne-0") == pytest.approx(0.5)
    # 150 kiosks have drained their queue and fall silent; the 50 others keep going.
    now = pace(quotas, fleet[:50], now, now + 60.0)
    assert quotas.active(now) == 50
    assert quotas.quota(now, "borne-0") == pytest.approx(2.0)
    now = pace(quotas, fleet[:1], now, now + 10.0)
    assert quotas.quota(now, "borne-0") == pytest.approx(100.0)  # alone: the whole service


def test_joining_clients_find_room_and_the_quota_stays_within_its_bounds() -> None:
    quotas = FairShareQuota(100.0, floor=0.5, ceiling=40.0)
    assert quotas.seen("seule", 0.0) == 40.0  # ceiling, even alone
    pace(quotas, ["seule"], 0.0, 10.0)
    # 60 kiosks reconnect within a second: their first requests come whatever the quota says,
    # so room is kept for the arrivals (at most 60 % of the service).
    for i in range(60):
        quotas.seen(f"retour-{i}", 10.0 + i / 60)
    share = quotas.quota(11.0, "seule")
    assert share == pytest.approx(40.0 / 61)
    assert quotas.quota(11.0 + ARRIVAL_WINDOW, "seule") == pytest.approx(100.0 / 61)
    for i in range(1000):
        quotas.seen(f"foule-{i}", 12.0)
    assert quotas.quota(12.0 + ARRIVAL_WINDOW, "seule") == 0.5  # the floor


def test_the_reference_server_advertises_the_share_of_the_active_kiosks(tmp_path: Path) -> None:
    clock = SimClock()
    sim = NationalSimulator(
        tmp_path / "n.sqlite3",
        clients={"borne-a": "sa", "borne-b": "sb"},
        clock=clock.time,
        rng=random.Random(1),
    )
    sim.app.configure({"debit": 10})
    with ServerThread(sim) as server, httpx.Client(base_url=server.url) as http:

        def quota_of(client: str) -> float | None:
            token = http.post(
                "/v1/jetons",
                json={"grant_type": "client_credentials", "client_id": client,
                      "client_secret": {"borne-a": "sa", "borne-b": "sb"}[client]},
            ).json()["access_token"]  # fmt: skip
            answer = http.get("/v1/paquets", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
            return parse_rate_policy(answer.headers["RateLimit-Policy"])

        quota_of("borne-a")
        clock.advance(ARRIVAL_WINDOW)
        assert quota_of("borne-a") == 10.0  # alone
        quota_of("borne-b")
        clock.advance(ARRIVAL_WINDOW)
        assert quota_of("borne-a") == 5.0  # shared
        assert quota_of("borne-b") == 5.0
        clock.advance(ARRIVAL_WINDOW)
        assert quota_of("borne-a") == 5.0
        clock.advance(ARRIVAL_WINDOW)  # borne-b silent for two of its slots: it has left
        assert quota_of("borne-a") == 10.0
        control = http.post("/_control", json={"quota_client": 2.5}).json()
        assert control["reglages"]["quota_client"] == 2.5
        assert quota_of("borne-a") == 2.5  # a fixed quota, when the operator sets one


def test_every_answer_carries_the_policy_even_without_a_debit(tmp_path: Path) -> None:
    """The national service always has a quota and says it on every answer, errors included;
    the reference server without ``debit`` refuses nothing and says its nominal capacity."""
    sim = NationalSimulator(tmp_path / "n.sqlite3", clients={"borne-a": "sa"}, rng=random.Random(1))
    credentials = {"grant_type": "client_credentials", "client_id": "borne-a"}
    credentials["client_secret"] = "sa"
    with ServerThread(sim) as server, httpx.Client(base_url=server.url) as http:
        said = {
            answer.status_code: answer.headers.get("RateLimit-Policy")
            for answer in (
                http.post("/v1/jetons", json=credentials),
                http.post("/v1/jetons", json={"grant_type": "autre"}),
                http.get("/v1/changements"),  # no token
                http.get("/v1/nulle-part"),
                http.delete("/v1/dossiers"),
            )
        }
    assert said == dict.fromkeys((200, 400, 401, 404, 405), "borne;q=100;w=1")


def test_the_policy_header_is_written_as_the_ietf_draft_writes_it_within_one_percent() -> None:
    # A named policy, a whole quota per window of whole seconds (q=0.05 is not one).
    written = [policy_value(r) for r in (100.0, 10.0, 2.5, 0.05, 1 / 30, 1e-6)]
    assert written == [
        "borne;q=100;w=1",
        "borne;q=100;w=10",
        "borne;q=150;w=60",
        "borne;q=180;w=3600",
        "borne;q=120;w=3600",
        "borne;q=1;w=3600",  # never under one request an hour
    ]
    for rate in (0.084, 0.9, 4.99, 7.3, 49.9, 1234.5):
        assert parse_rate_policy(policy_value(rate)) == pytest.approx(rate, rel=0.01)
    assert parse_rate_policy("q=0.05;w=1") == 0.05  # the form of before still reads


def test_a_kiosk_adopts_a_larger_advertised_quota_at_once(
    store: Store, catalog: Catalog, sim_national: ServerThread, shared_clock: SimClock
) -> None:
    httpx.post(f"{sim_national.url}/_control", json={"debit": 20})
    queue_many(store, 20, demarche=("changement_adresse", 1))
    # A busy day before: one request every 20 s was its share, remembered across restarts.
    Outbox(store, catalog, clock=lambda: datetime.now(UTC)).set_marker(QUOTA_KEY, 0.05)
    k = make_kiosk(store, catalog, sim_national.url, clock=shared_clock)
    assert k.worker.scheduler.bucket.rate == pytest.approx(0.05 * 0.95)
    started = shared_clock.time()
    report = k.worker.run_once()
    k.api.close()
    assert report.sent == 20
    # Restarted, it waits one slot of its old share (21 s) before its first request; alone on
    # the service now, it is told so by the first answer and sends the rest at once, instead
    # of taking the 400 s its old share would have taken.
    assert shared_clock.time() - started < 30.0
    assert k.worker.scheduler.bucket.rate > 0.9 * 20 * 0.95
    assert k.outbox.get_marker(QUOTA_KEY) > 10


def test_a_kiosk_adopts_the_quota_given_with_a_429_and_paces_without_a_busy_loop() -> None:
    scheduler = Scheduler(SyncPolicy(), random.Random(5), now=0.0)
    scheduler.on_success(0.0, advertised_rate=10.0)
    waited = scheduler.on_rate_limited(0.0, retry_after=1.0, advertised_rate=0.5)
    assert 1.0 <= waited <= 1.2
    assert scheduler.bucket.rate == pytest.approx(0.5 * 0.95)
    now, sent, steps = 0.0, 0, 0
    while now < 1000.0:
        steps += 1
        wait = scheduler.acquire(now)
        if wait == 0:
            sent += 1
        now += wait
    assert 0.9 * 475 <= sent <= 1.1 * 475  # its quota's pace, on average…
    assert steps <= 2 * sent + 2  # …one wait per request, never spinning


def comeback(scheduler: Scheduler) -> float:
    """When the scheduler next lets a request out, from time 0."""
    now = 0.0
    while (wait := scheduler.delay(now)) > 0:
        now += wait
    return now


def test_kiosks_refused_together_do_not_come_back_together() -> None:
    rng = random.Random(6)
    fleet = [Scheduler(SyncPolicy(), random.Random(rng.random()), now=0.0) for _ in range(100)]
    for scheduler in fleet:
        scheduler.on_success(0.0, advertised_rate=0.05)
        scheduler.on_rate_limited(0.0, retry_after=1.0, advertised_rate=0.05)
    comebacks = sorted(comeback(s) for s in fleet)
    # One interval of the quota (21 s) later on average, spread over about an interval.
    assert 10.0 <= sum(comebacks) / len(comebacks) <= 32.0
    assert comebacks[-1] - comebacks[0] > 15.0
    assert max(sum(1 for c in comebacks if int(c) == second) for second in range(40)) <= 15


def take_turns(
    quotas: FairShareQuota, queues: dict[str, int], start: float, end: float
) -> list[tuple[float, str]]:
    """Each client sends at the place booked for it, saying what it still has queued."""
    due = dict.fromkeys(queues, start)
    sent = []
    while due:
        client = min(due, key=due.__getitem__)
        now = due[client]
        if now >= end:
            break
        queues[client] -= 1
        sent.append((now, client))
        quotas.seen(client, now, queues[client])
        if queues[client]:
            due[client] = now + quotas.book(client, now)
        else:
            del due[client]
    return sent


def test_the_service_books_places_in_turn_at_its_capacity() -> None:
    quotas = FairShareQuota(10.0)
    queues = {"a": 200, "b": 200}
    sent = take_turns(quotas, queues, 0.0, 30.0)
    steady = [(t, c) for t, c in sent if t >= 10.0]  # once their arrival is behind them
    per_second = Counter(int(t) for t, _ in steady)
    assert len(steady) == pytest.approx(200, abs=1)  # the capacity, 10 a second, no more…
    assert set(per_second.values()) <= {9, 10, 11}  # …a place on a second's edge aside
    assert Counter(c for _, c in steady)["a"] == pytest.approx(len(steady) / 2, abs=1)
    # « a » says it has nothing left: it stops counting at once, « b » gets every place.
    quotas.seen("a", 30.0, 0)
    assert quotas.active(30.0) == 1
    alone = take_turns(quotas, {"b": 100}, 30.0, 35.0)
    assert len(alone) >= 49


def test_a_site_whose_counters_are_all_there_gets_the_whole_capacity_from_the_start() -> None:
    """A site's counters starting their sync together are a wave of arrivals: the service
    keeps room for the rest of its fleet only while some of it may still come (issue 17)."""
    queues = {f"guichet-{i}": 400 for i in range(4)}
    # The service serves these four: once they are all there, nobody else is coming.
    known = take_turns(FairShareQuota(50.0, enrolled=4), dict(queues), 0.0, 3.0)
    assert set(Counter(int(t) for t, _ in known).values()) <= {50, 51}
    # Four of eight: the other four may come any moment, room is kept for them…
    half = take_turns(FairShareQuota(50.0, enrolled=8), dict(queues), 0.0, 3.0)
    assert len(half) < 0.6 * len(known)
    # …as for a fleet the service does not know (the kiosks it has seen are only a floor of it).
    unknown = take_turns(FairShareQuota(50.0), dict(queues), 0.0, 3.0)
    assert len(unknown) == len(half)


def test_the_reference_server_says_its_size_and_books_places(tmp_path: Path) -> None:
    clock = SimClock()
    sim = NationalSimulator(
        tmp_path / "n.sqlite3", clients={"borne-a": "sa"}, clock=clock.time, rng=random.Random(1)
    )
    sim.app.configure({"debit": 10, "flotte": 3000})
    with ServerThread(sim) as server, httpx.Client(base_url=server.url) as http:
        token = http.post(
            "/v1/jetons",
            json={
                "grant_type": "client_credentials",
                "client_id": "borne-a",
                "client_secret": "sa",
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        busy = http.get("/v1/paquets", headers={**auth, "Queue-Length": "3"})
        assert busy.headers["Service-Capacity"] == "c=10;n=3000;r=0"
        assert parse_service_capacity(busy.headers["Service-Capacity"]) == (10.0, 3000, 0)
        assert 0.0 <= float(busy.headers["Next-Request-In"]) <= 1.0
        done = http.get("/v1/paquets", headers={**auth, "Queue-Length": "0"})
        assert "Next-Request-In" not in done.headers  # nothing left: no place booked
        assert "Next-Request-In" not in http.get("/v1/paquets", headers=auth).headers
        http.post("/_control", json={"panne": 600})
        down = http.get("/v1/paquets", headers={**auth, "Queue-Length": "3"})
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "600"  # the front: when, and the service's size
        assert down.headers["Service-Capacity"] == "c=10;n=3000;r=0"
        assert "Next-Request-In" not in down.headers


def test_what_a_service_says_of_its_size_and_places_is_read_within_bounds() -> None:
    assert parse_service_capacity("c=100;n=10000;r=42") == (100.0, 10000, 42)
    assert parse_service_capacity("n=3, c=0.5") == (0.5, 3, None)
    # Nothing absurd is kept: a zero or huge capacity, a fleet of billions, exponents, junk.
    assert parse_service_capacity("c=0;n=5") == (None, 5, None)
    assert parse_service_capacity("c=1e9;n=5") == (None, 5, None)
    assert parse_service_capacity("c=10;n=99999999999;r=3") == (10.0, None, 3)
    assert parse_service_capacity("c=10.5.5;n=²") == (None, None, None)
    assert parse_service_capacity("9" * 5000) == (None, None, None)
    assert parse_next_request("0.250") == 0.25
    assert [parse_next_request(v) for v in ("-1", "1e5", "100000", "²", "inf", "")] == [None] * 6
