"""Fixtures of the sync tests: the real reference server on loopback, a worker in simulated time."""

from __future__ import annotations

import random
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.fees.installed import TariffFiles
from kiosk.store import Store
from kiosk.store.documents import DocumentStore
from kiosk.sync.bundles import BundleUpdates
from kiosk.sync.followup import NationalFollowUp
from kiosk.sync.issued import IssuedDocuments
from kiosk.sync.notifications import NotificationQueue
from kiosk.sync.outbox import Outbox
from kiosk.sync.payments import PaymentQueue
from sync.client import DEADLINE, HttpNationalApi
from sync.clock import SimClock, SimSleeper, as_datetime
from sync.policy import SyncPolicy
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from sync.worker import SyncWorker


@pytest.fixture
def national(tmp_path: Path) -> Iterator[ServerThread]:
    """The reference server, fault-free, on a free loopback port, with its own database."""
    sim = NationalSimulator(tmp_path / "national.sqlite3", rng=random.Random(7))
    with ServerThread(sim) as server:
        yield server


@dataclass
class Kiosk:
    """A kiosk's sync side in simulated time, talking real HTTP to the server."""

    store: Store
    dossiers: DossierService
    outbox: Outbox
    followup: NationalFollowUp
    api: HttpNationalApi
    clock: SimClock
    sleeper: SimSleeper
    worker: SyncWorker


def make_kiosk(
    store: Store,
    catalog: Catalog,
    url: str,
    *,
    clock: SimClock | None = None,
    policy: SyncPolicy | None = None,
    chunk: int = 1 << 18,
    transport: httpx.BaseTransport | None = None,
    tls: ssl.SSLContext | None = None,
    deadline: float = DEADLINE,
    read_document: Callable[[Path], bytes] = Path.read_bytes,
    tariffs: TariffFiles | None = None,
    files: DocumentStore | None = None,
    bundles: BundleUpdates | None = None,
) -> Kiosk:
    """Wire a worker on ``store`` against ``url`` with a simulated clock and sleeper
    (``read_document``: the document store's ``read`` when documents are encrypted; ``files``:
    where the documents the service issues are kept, beside the database by default;
    ``tariffs``: the estimates' tariffs; ``bundles``: the signed bundles to install, none
    fetched without)."""
    clock = clock or SimClock()
    sleeper = SimSleeper(clock)

    def now() -> datetime:
        return as_datetime(clock)

    dossiers = DossierService(store, catalog, clock=now, tariffs=tariffs)
    outbox = Outbox(store, catalog, clock=now, read_document=read_document)
    followup = NationalFollowUp(store, dossiers, clock=now)
    api = HttpNationalApi(
        url,
        "borne-demo",
        "secret-demo",
        chunk_size=chunk,
        transport=transport,
        tls=tls,
        deadline=deadline,
    )
    worker = SyncWorker(
        outbox=outbox,
        followup=followup,
        dossiers=dossiers,
        api=api,
        clock=clock,
        sleeper=sleeper,
        rng=random.Random(3),
        policy=policy,
        payments=PaymentQueue(store, clock=now),
        payment_api=api,
        bundles=bundles,  # None: no bundle is fetched
        bundle_api=api,
        notifications=NotificationQueue(store, clock=now),
        issued=IssuedDocuments(store, files or DocumentStore(store_folder(store)), clock=now),
        followup_api=api,
    )
    api.set_throttle(worker.throttle)
    api.set_queue_length(worker.queue_length)
    return Kiosk(store, dossiers, outbox, followup, api, clock, sleeper, worker)


def store_folder(store: Store) -> Path:
    """The documents folder beside the store's database file."""
    return store.path.parent / "documents"


@pytest.fixture
def kiosk(store: Store, catalog: Catalog, national: ServerThread) -> Iterator[Kiosk]:
    """A kiosk wired to the fault-free server."""
    k = make_kiosk(store, catalog, national.url)
    yield k
    k.api.close()


@pytest.fixture
def shared_clock() -> SimClock:
    """One simulated clock for the kiosk and the server (outages and instruction in sim time)."""
    return SimClock()


@pytest.fixture
def sim_national(tmp_path: Path, shared_clock: SimClock) -> Iterator[ServerThread]:
    """The reference server running on the shared simulated clock."""
    sim = NationalSimulator(
        tmp_path / "national.sqlite3", clock=shared_clock.time, rng=random.Random(5)
    )
    with ServerThread(sim) as server:
        yield server


@pytest.fixture
def sim_kiosk(
    store: Store, catalog: Catalog, sim_national: ServerThread, shared_clock: SimClock
) -> Iterator[Kiosk]:
    """A kiosk sharing the server's simulated clock."""
    k = make_kiosk(store, catalog, sim_national.url, clock=shared_clock)
    yield k
    k.api.close()
