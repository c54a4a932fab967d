"""A dossier the service keeps failing (a 400, a 500, an unreadable answer to its filing, always)
never holds the ones behind it: they are sent; it waits its own backoff, is shown to the agent
after a few failures, and leaves exactly once, with its own key, when the service takes it.
Real server on loopback (its ``echecs_dossier`` knob), simulated time."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from kiosk.store import Store, open_store
from kiosk.store.models import OutboxItem
from kiosk.sync.outbox import ATTENTION_AFTER
from sync.policy import CircuitState
from sync.server.run import ServerThread, free_port
from tests.sync.conftest import Kiosk
from tests.sync.support import queue_many, start_simulator
from tests.sync.test_cli_sync import kiosk as kiosk_cli
from tests.sync.test_worker import DEMARCHE, control


def attempts(store: Store) -> dict[str, int]:
    with store.read() as s:
        return {o.dossier_id: o.attempts for o in s.query(OutboxItem) if o.state != "acquitte"}


def test_dossiers_the_service_always_fails_do_not_hold_the_others(
    kiosk: Kiosk, national: ServerThread
) -> None:
    ids = queue_many(kiosk.store, 5, demarche=DEMARCHE)
    bad = ids[:3]  # at the head of the queue
    control(national, echecs_dossier={bad[0]: 400, bad[1]: 500, bad[2]: 0})  # 0: not JSON
    report = kiosk.worker.run_once()
    assert report.sent == 2 and not report.stopped_open
    refs = {d.id: d.reference for d in kiosk.dossiers.list()}
    assert sorted(report.failing) == sorted(refs[i] for i in bad)
    # The service is up: the kiosk does not say otherwise, nor wait as for an outage.
    assert kiosk.worker.scheduler.state is CircuitState.CLOSED
    assert kiosk.worker.status().online
    assert attempts(kiosk.store) == dict.fromkeys(bad, 3)  # three tries in the pass, then left
    assert kiosk.outbox.needing_attention() == []

    kiosk.worker.run_once()  # the next pass: three more failures each, shown to the agent
    stuck = kiosk.outbox.needing_attention()
    assert {s.reference for s in stuck} == {refs[i] for i in bad}
    assert all(s.attempts >= ATTENTION_AFTER for s in stuck)
    assert {s.last_error for s in stuck} == {
        "Le service national a répondu 400 : Erreur pour ce dossier.",
        "Le service national a répondu 500 : Erreur pour ce dossier.",
        "Réponse illisible du service national à ce dépôt.",
    }
    assert kiosk.worker.status().attention == 3

    control(national, echecs_dossier={})  # the service is fixed
    kiosk.clock.advance(3600)  # past their own backoff
    assert kiosk.worker.run_once().sent == 3
    assert kiosk.outbox.needing_attention() == []
    # Exactly once, each under its own key: one filing per dossier on the service.
    assert national.sim.db.filings_per_dossier() == dict.fromkeys(ids, 1)


def test_a_failing_dossier_is_retried_on_a_growing_backoff_not_every_minute(
    kiosk: Kiosk, national: ServerThread
) -> None:
    [bad, good] = queue_many(kiosk.store, 2, demarche=DEMARCHE)
    control(national, echecs_dossier={bad: 500})
    start = kiosk.clock.time()
    while kiosk.clock.time() < start + 6 * 3600:  # the app's sync thread, six hours
        kiosk.sleeper.sleep(kiosk.worker.step())
    tries = control(national)["statistiques"]["echecs_dossier"]
    assert ATTENTION_AFTER <= tries <= 20  # about 12 to reach an hour apart, then hourly
    assert attempts(kiosk.store) == {bad: tries}
    assert national.sim.db.filings_per_dossier() == {good: 1}


def test_sync_status_lists_the_dossiers_to_check(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    store = open_store(db)
    [bad, _good] = queue_many(store, 2, demarche=("changement_adresse", 1))
    store.close()
    port = free_port()
    server = start_simulator(tmp_path / "n.sqlite3", port, "--delai-instruction", "1000")
    try:
        url = f"http://127.0.0.1:{port}"
        httpx.post(f"{url}/_control", json={"echecs_dossier": {bad: 500}})
        first = kiosk_cli(db, "sync", "--once", "--url", url)
        assert first.returncode == 1
        assert first.stdout.startswith("1 dossier(s) transmis"), first.stdout
        assert "En échec, reste en file : PN-" in first.stdout
        assert "1 dossier(s) restent en file" in first.stderr
        kiosk_cli(db, "sync", "--once", "--url", url)
    finally:
        server.terminate()
        server.wait(10)
    status = kiosk_cli(db, "sync", "status")
    assert "À vérifier : 1 dossier(s) que le service national refuse de prendre" in status.stdout
    assert "6 essais — Le service national a répondu 500" in status.stdout
    data = json.loads(kiosk_cli(db, "sync", "status", "--json").stdout)
    assert [d["essais"] for d in data["a_verifier"]] == [6]
