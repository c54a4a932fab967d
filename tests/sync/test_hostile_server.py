"""A hostile or broken server cannot exhaust nor stall the kiosk: an answer that never ends is
dropped past a bound, one that trickles is dropped at the request's deadline (body or headers),
each as a failed attempt with its backoff and a French message; the queue is kept and leaves
once the service behaves. Real HTTP on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from kiosk.demarches import Catalog
from kiosk.ports.national import ServiceUnavailable
from kiosk.store import Store
from kiosk.updates import MAX_BUNDLE_BYTES
from sync.client import MAX_ANSWER, HttpNationalApi
from sync.server.bundles import shipped_files
from sync.server.run import ServerThread
from tests.sync.conftest import Kiosk, make_kiosk
from tests.sync.support import queue_many
from tests.sync.test_worker import DEMARCHE, control, outbox_states


def test_an_answer_that_never_ends_is_dropped_past_the_bound_and_retried_later(
    kiosk: Kiosk, national: ServerThread
) -> None:
    queue_many(kiosk.store, 2, demarche=DEMARCHE)
    control(national, taux_sans_fin=1.0)
    report = kiosk.worker.run_once()
    assert report.sent == 0 and report.stopped_open  # three failed attempts: the circuit opens
    error = kiosk.worker.scheduler.last_error or ""
    assert error == "Réponse démesurée du service national (plus de 8 Mo) : abandonnée."
    assert kiosk.worker.status().next_attempt_in > 0  # a backoff, not a busy loop
    assert outbox_states(kiosk.store) == ["en_attente"] * 2
    assert control(national)["statistiques"]["sans_fin"] == 3
    control(national, taux_sans_fin=0.0)
    kiosk.worker.link_up()  # e.g. the next « sync --once »: it probes at once
    assert kiosk.worker.run_once().sent == 2


def test_an_answer_trickled_a_byte_at_a_time_is_dropped_at_the_deadline(
    store: Store, catalog: Catalog, national: ServerThread
) -> None:
    k = make_kiosk(store, catalog, national.url, deadline=0.3)
    queue_many(store, 1, demarche=DEMARCHE)
    control(national, taux_goutte=1.0, goutte_ms=20)  # each read returns at once: no timeout
    report = k.worker.run_once()
    assert report.sent == 0 and report.stopped_open
    assert k.worker.scheduler.last_error == (
        "Le service national répond trop lentement (réponse abandonnée après 0.3 s)."
    )
    assert outbox_states(store) == ["en_attente"]
    control(national, taux_goutte=0.0)
    # The service answers normally again: the deadline of a normal kiosk (0.3 s is too short
    # for a filing on a loaded machine; the CI run of 2026-12-05 met it once).
    k.api._deadline = 60.0  # the same worker and its way back, a normal deadline
    k.worker.link_up()
    assert k.worker.run_once().sent == 1
    k.api.close()


@pytest.fixture
def trickling_headers() -> Iterator[str]:
    """A server that accepts, then sends its status line and headers one byte at a time."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Lent: " + b"a" * 100_000:
                    if stop.wait(0.02):
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break  # the kiosk left

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()
    thread.join(5)


def test_headers_trickled_a_byte_at_a_time_are_dropped_at_the_deadline(
    trickling_headers: str,
) -> None:
    api = HttpNationalApi(trickling_headers, "borne-demo", "secret-demo", deadline=0.3)
    with pytest.raises(ServiceUnavailable, match="trop lentement"):
        api.bundles()  # the token request never gets its headers
    api.close()


def test_the_bound_is_far_above_the_largest_answer_of_the_contract(
    kiosk: Kiosk, national: ServerThread
) -> None:
    # The largest answer: the démarches' signed bundle, itself bounded below the answers' bound.
    listed = {p.kind: p.size for p in kiosk.api.bundles()}
    largest = listed["demarches"]
    assert 5 * largest < MAX_BUNDLE_BYTES < MAX_ANSWER  # the démarches may grow fivefold
    bundle = kiosk.api.bundle("demarches", 1, MAX_BUNDLE_BYTES)
    assert len(bundle.files) == len(shipped_files("demarches"))
