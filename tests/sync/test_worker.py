"""The worker against the real reference server on loopback, in simulated time: what an agent
sees when the service is up, refuses a dossier, is down, overloaded, or behind a captive portal;
and what the service says of itself honoured (its fleet's window, the places it books)."""

from __future__ import annotations

import hashlib
import itertools
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from kiosk.demarches import Catalog
from kiosk.dossiers.states import DossierState
from kiosk.store import Store
from kiosk.store.models import OutboxItem
from kiosk.sync.outbox import ACKNOWLEDGED, PENDING, REJECTED
from sync.clock import SimClock
from sync.server.app import NationalSimulator
from sync.server.instruction import REFUSALS
from sync.server.run import ServerThread, free_port
from sync.worker import SERVICE_KEY
from tests.support import file_dossier, fill
from tests.sync.conftest import Kiosk, make_kiosk
from tests.sync.support import queue_many

DEMARCHE = ("changement_adresse", 1)


def control(server: ServerThread, **knobs: object) -> dict[str, Any]:
    return dict(httpx.post(f"{server.url}/_control", json=knobs).json())


def outbox_states(store: Store) -> list[str]:
    with store.read() as s:
        return [row.state for row in s.query(OutboxItem).order_by(OutboxItem.id)]


def queue_real(k: Kiosk, catalog: Catalog, piece: Path | None = None) -> str:
    demarche = catalog.latest(DEMARCHE[0])
    ref = k.dossiers.create(demarche.id).reference
    fill(k.dossiers, ref, demarche)
    if piece is not None:
        k.dossiers.add_piece(
            ref,
            "justificatif_domicile",
            file_path=str(piece),
            sha256=hashlib.sha256(piece.read_bytes()).hexdigest(),
            mime_type="application/pdf",
        )
    file_dossier(k.dossiers, ref)
    return ref


def test_a_queued_dossier_is_transmitted_with_its_national_number(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue_real(kiosk, catalog)
    report = kiosk.worker.run_once()
    view = kiosk.dossiers.show(ref)
    assert view.summary.state is DossierState.TRANSMIS
    assert view.national_number == "NAT-00000001"
    assert report.sent == 1 and report.waiting == 0
    assert outbox_states(kiosk.store) == [ACKNOWLEDGED]


def test_a_broken_upload_resumes_where_it_stopped(
    tmp_path: Path, store: Store, catalog: Catalog, national: ServerThread
) -> None:
    scan = tmp_path / "justificatif.pdf"
    scan.write_bytes(bytes(range(256)) * 800)  # 200 KiB
    sent: list[int] = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "PATCH":
                sent.append(len(request.content))
            return super().handle_request(request)

    k = make_kiosk(store, catalog, national.url, chunk=16 * 1024, transport=Counting())
    ref = queue_real(k, catalog, piece=scan)
    control(national, taux_coupure=0.2, taux_perte=0.2)
    k.worker.run_once(stop_when_open=False)
    k.api.close()
    assert k.dossiers.show(ref).summary.state is DossierState.TRANSMIS
    uploads = list(national.sim.db.uploads_dir.iterdir())
    assert [u.read_bytes() for u in uploads] == [scan.read_bytes()]
    # Resumed, not restarted: far less than the file sent again after every cut.
    assert sum(sent) < 2 * scan.stat().st_size


def test_a_captive_portal_answering_200_is_not_taken_for_the_service(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    def login_page(request: object) -> HTMLResponse:
        return HTMLResponse("<html>Connectez-vous au Wi-Fi de la mairie</html>")

    portal = Starlette(
        routes=[Route("/{path:path}", login_page, methods=["GET", "POST", "HEAD", "PATCH"])]
    )
    sim = NationalSimulator(tmp_path / "unused.sqlite3")
    queue_many(store, 2, demarche=DEMARCHE)
    with ServerThread(sim, app=portal) as server:
        k = make_kiosk(store, catalog, server.url)
        report = k.worker.run_once()
        k.api.close()
    assert report.sent == 0 and report.stopped_open
    assert "portail captif" in (k.worker.scheduler.last_error or "")
    assert outbox_states(store) == [PENDING, PENDING]
    assert {d.state for d in k.dossiers.list()} == {DossierState.EN_FILE}


def test_an_invalid_dossier_goes_back_to_the_counter_with_the_reason_in_french(
    kiosk: Kiosk, national: ServerThread
) -> None:
    queue_many(kiosk.store, 1, demarche=DEMARCHE, nom=None)
    report = kiosk.worker.run_once()
    [dossier] = kiosk.dossiers.list()
    assert dossier.state is DossierState.A_COMPLETER
    reason = kiosk.dossiers.show(dossier.reference).state_reason or ""
    assert "usager.nom : Le nom de l'usager est obligatoire." in reason
    assert report.refused == [dossier.reference]
    assert outbox_states(kiosk.store) == [REJECTED]
    assert national.sim.db.filings_per_dossier() == {}
    stats = control(national)["statistiques"]
    assert stats == {"requetes": 3, "200": 2, "422": 1}  # token, 422 once (never retried), pull


def test_an_outage_is_waited_out_without_hammering_and_retry_after_is_honoured(
    sim_kiosk: Kiosk, sim_national: ServerThread
) -> None:
    queue_many(sim_kiosk.store, 5, demarche=DEMARCHE)
    control(sim_national, panne=1800)  # 30 minutes of maintenance, announced by Retry-After
    started = sim_kiosk.clock.time()
    report = sim_kiosk.worker.run_once(stop_when_open=False)
    assert report.sent == 5
    assert sim_kiosk.clock.time() - started >= 1800
    stats = control(sim_national)["statistiques"]
    assert stats["503"] <= 2  # told to come back in 30 minutes, it did not knock in between


def test_offline_the_worker_sleeps_and_probes_at_most_every_minute(
    store: Store, catalog: Catalog
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    k = make_kiosk(store, catalog, dead)
    queue_many(store, 3, demarche=DEMARCHE)
    start = k.clock.time()
    attempts: list[float] = []
    original = k.api._send

    def counting(method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempts.append(k.clock.time())
        return original(method, path, **kwargs)

    k.api._send = counting  # type: ignore[method-assign]
    while k.clock.time() < start + 3600:
        k.sleeper.sleep(k.worker.step())
    k.api.close()
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert 30 <= len(attempts) <= 200  # ~1 probe a minute for an hour, not a busy loop
    assert max(gaps) <= 60 * 1.01 + 1  # and never more than the cap between probes
    assert k.worker.scheduler.state.value == "ouvert"
    assert outbox_states(store) == [PENDING] * 3


def test_decisions_come_back_and_the_agent_sees_whom_to_contact(
    sim_kiosk: Kiosk, sim_national: ServerThread, catalog: Catalog, shared_clock: SimClock
) -> None:
    k = sim_kiosk
    refs = []
    for parts in ([1.0, 0.0], [0.0, 1.0], [0.0, 0.0]):  # accepted, refused, à compléter
        refs.append(queue_real(k, catalog))
        k.worker.run_once()
        control(sim_national, parts=parts)
        shared_clock.advance(61)
        k.worker.run_once()
    states = [k.dossiers.show(r).summary.state for r in refs]
    assert states == [DossierState.ACCEPTE, DossierState.REFUSE, DossierState.A_COMPLETER]
    people = k.followup.list_to_contact()
    assert [(p.reference, p.state) for p in people] == list(zip(refs, states, strict=True))
    assert people[0].usager == "MARTIN MARTIN" and people[0].contact_mode == "guichet"
    assert people[1].what in REFUSALS
    assert "À fournir :" in (people[2].what or "")
    k.followup.mark_contacted(people[0].notice_id)
    assert len(k.followup.list_to_contact()) == 2

    # The person comes back with what was missing: the dossier is filed again (new key) and the
    # national service completes the same filing instead of creating a second one.
    k.dossiers.file(refs[2])
    k.worker.run_once()
    shared_clock.advance(61)
    k.worker.run_once()
    assert k.dossiers.show(refs[2]).summary.state is DossierState.ACCEPTE
    assert set(sim_national.sim.db.filings_per_dossier().values()) == {1}


def test_a_kiosk_that_lost_the_service_probes_once_per_window_of_the_fleet_it_was_told(
    tmp_path: Path, store: Store, catalog: Catalog, shared_clock: SimClock
) -> None:
    # A service of 10 req/s serving 3,000 kiosks: their probes may take half of it, so each
    # kiosk probes once per 3,000 ÷ 5 = 600 s (not every minute: 50 a second, 5 times the
    # service, when it comes back).
    sim = NationalSimulator(tmp_path / "n.sqlite3", clock=shared_clock.time, rng=random.Random(5))
    sim.app.configure({"debit": 10, "flotte": 3000})
    with ServerThread(sim) as server:
        k = make_kiosk(store, catalog, server.url, clock=shared_clock)
        queue_many(store, 1, demarche=DEMARCHE)
        assert k.worker.run_once().sent == 1
    assert k.outbox.get_marker(SERVICE_KEY) == {"capacite": 10.0, "bornes": 3000, "rang": 0}
    queue_many(store, 3, demarche=DEMARCHE)  # and now nothing answers on its port

    def probes(kiosk: Kiosk) -> list[float]:
        attempts: list[float] = []
        original = kiosk.api._send

        def counting(method: str, path: str, **kwargs: Any) -> httpx.Response:
            attempts.append(kiosk.clock.time())
            return original(method, path, **kwargs)

        kiosk.api._send = counting  # type: ignore[method-assign]
        start = kiosk.clock.time()
        while kiosk.clock.time() < start + 7200:
            kiosk.sleeper.sleep(kiosk.worker.step())
        return attempts

    for kiosk in (k, make_kiosk(store, catalog, server.url, clock=shared_clock)):
        # The kiosk running on, then one restarted meanwhile (it read the size in its store).
        attempts = probes(kiosk)
        kiosk.api.close()
        gaps = [round(b - a) for a, b in itertools.pairwise(attempts)]
        # Three tries, and once the circuit is open: once per window, at the kiosk's place in
        # it (rank 0: the window's start on the clock).
        assert gaps[2] <= 600
        assert gaps[3:] == [600] * (len(gaps) - 3)
        assert all(min(t % 600, 600 - t % 600) < 1e-3 for t in attempts[3:])
    assert outbox_states(store)[1:] == [PENDING] * 3


def test_the_worker_sends_at_the_places_the_service_books(
    store: Store, catalog: Catalog, sim_national: ServerThread, shared_clock: SimClock
) -> None:
    # The service takes 5 requests a second but advertises a fixed quota of one in 2 s: what
    # it books is what the kiosk follows (20 dossiers in 4 s, not in 40).
    control(sim_national, debit=5, quota_client=0.5)
    seen: list[tuple[float, str | None, str | None]] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = super().handle_request(request)
            booked = answer.headers.get("Next-Request-In")
            seen.append((shared_clock.time(), request.headers.get("Queue-Length"), booked))
            return answer

    queue_many(store, 20, demarche=DEMARCHE)
    k = make_kiosk(store, catalog, sim_national.url, clock=shared_clock, transport=Recording())
    report = k.worker.run_once()
    k.api.close()
    assert report.sent == 20
    assert "429" not in control(sim_national)["statistiques"]
    filings = seen[1:21]  # after the token
    assert filings[-1][0] - filings[0][0] < 6.0
    assert [int(q or -1) for _, q, _ in filings] == list(range(19, -1, -1))  # Queue-Length
    for (at, _, booked), (then, _, _) in itertools.pairwise(filings):
        assert booked is not None
        assert then == pytest.approx(at + float(booked), abs=1e-6)  # at the place, exactly
