"""The screen and the sync service in two processes (app/sync_link.py): the badge read from
what the sync saves, and a filing at the screen nudging the sync to send it at once."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.sync_link import PULL, WAKE, Doorbell, StatusWatch, badge_of, doorbell_path, ring
from kiosk.demarches import Catalog
from kiosk.ports.devices import ConnectionBadge
from kiosk.store import Store
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from tests.support import file_dossier, fill
from tests.sync.conftest import make_kiosk
from tests.sync.support import ROOT, kiosk_env


class Recorder:
    """The reference server's app, noting the path of each request once answered."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.answered: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.answered.append(scope["path"])


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[ServerThread, Recorder]]:
    sim = NationalSimulator(tmp_path / "national.sqlite3", rng=random.Random(7))
    recorder = Recorder(sim.app)
    with ServerThread(sim, app=recorder) as server:
        yield server, recorder


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_doorbell_wakes_or_pulls_and_a_ring_nobody_hears_is_harmless(tmp_path: Path) -> None:
    path = doorbell_path(tmp_path)
    assert not ring(path, WAKE)  # no sync process: nothing happens, nothing raises
    path.write_bytes(b"")  # a socket file left by a killed process is taken over
    woken, pulled = threading.Event(), threading.Event()
    bell = Doorbell.open(tmp_path, on_wake=woken.set, on_pull=pulled.set)
    assert bell is not None
    try:
        assert ring(path, b"autre chose")  # unknown: ignored
        assert ring(path, PULL)
        assert pulled.wait(10) and not woken.is_set()
        assert ring(path, WAKE)
        assert woken.wait(10)
    finally:
        bell.close()
    assert not path.exists()
    assert not ring(path, WAKE)
    too_long = tmp_path / ("d" * 120)
    assert Doorbell.open(too_long, on_wake=woken.set, on_pull=pulled.set) is None  # said, not fatal


def test_the_badge_says_what_the_sync_service_last_saved() -> None:
    assert badge_of(None, 3) == ConnectionBadge(configured=True, online=False, waiting=3)
    saved = {"circuit": "ferme", "derniere_erreur": None, "decisions_appliquees": 2}
    assert badge_of(saved, 0) == ConnectionBadge(
        configured=True, online=True, waiting=0, detail="service joignable", decisions=2
    )
    down = {"circuit": "ouvert", "derniere_erreur": "connexion refusée"}
    assert not badge_of(down, 1).online
    assert badge_of({"circuit": "?"}, 1).detail.startswith("service injoignable")


def test_a_dossier_filed_at_the_screen_leaves_at_once_through_the_sync_service(
    tmp_path: Path, store: Store, catalog: Catalog, recorded: tuple[ServerThread, Recorder]
) -> None:
    national, requests = recorded
    # The screen's side: the use cases on the kiosk's store, and its badge.
    counter = make_kiosk(store, catalog, "http://unused")
    watch = StatusWatch(counter.outbox, interval=0.1)
    badges: list[ConnectionBadge] = []
    watch.subscribe(badges.append)
    # The sync service's side: `kiosk sync --watch` on the same data folder.
    errors = tmp_path / "sync.err"
    with errors.open("wb") as err:
        sync = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "--data-dir",
                str(tmp_path),
                "sync",
                "--watch",
                "--url",
                national.url,
            ],
            cwd=ROOT,
            env=kiosk_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        # Up: it pulled the decisions and saved its status, then sent its report to the site, its
        # last errand at start; it now waits minutes before its next look (300 s).
        wait_for(lambda: bool(badges) and badges[-1].online, "the sync service never said online")
        wait_for(
            lambda: "/v1/bornes/rapport" in requests.answered, "the sync service never started"
        )
        assert sync.poll() is None
        demarche = catalog.latest("changement_adresse")
        reference = counter.dossiers.create(demarche.id).reference
        fill(counter.dossiers, reference, demarche)
        file_dossier(counter.dossiers, reference)
        wait_for(lambda: badges[-1].waiting == 1, "the filed dossier is not counted as waiting")
        assert ring(doorbell_path(tmp_path), WAKE)  # what the review screen does after filing
        wait_for(
            lambda: counter.outbox.counts().acknowledged == 1 and badges[-1].waiting == 0,
            "the nudged sync service did not send the dossier",
        )
    finally:
        sync.send_signal(signal.SIGINT)  # the sync unit's KillSignal
        code = sync.wait(timeout=30)
        watch.stop()
    assert code == 0, errors.read_text()
    assert not doorbell_path(tmp_path).exists()  # removed on its way out


def test_a_revocation_the_sync_service_carried_out_stops_the_screen_at_once(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from kiosk.security.revocation import KioskWithdrawn, Withdrawal, plan_for
    from kiosk.settings.paths import Paths
    from kiosk.sync.outbox import Outbox

    plan = plan_for(Paths.resolve(data_dir=tmp_path, database=store.path))
    screen_side = Withdrawal(plan, store=store)
    told: list[KioskWithdrawn] = []
    screen_side.subscribe(told.append)
    outbox = Outbox(store, catalog, clock=lambda: datetime.now(UTC))
    watch = StatusWatch(outbox, interval=0.05, withdrawal=screen_side)
    try:
        assert told == []
        # The sync process learns of the revocation: its own Withdrawal marks and destroys.
        Withdrawal(plan).carry_out()
        wait_for(lambda: bool(told), "the screen never learnt the kiosk was withdrawn", 10.0)
        assert screen_side.done is not None
    finally:
        watch.stop()
