"""How a site's counters share the drain of its outbox (issue 17): claims that neither queue
behind the site's writer lock nor behind one another, each row still taken by one counter only;
a pass that does not wait a whole lease for a row another counter is sending; the next dossier
claimed while the request waits for its place, not after."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.store import Store, open_store
from kiosk.store.models import OutboxItem
from kiosk.sync.outbox import Outbox
from sync.clock import SimClock
from sync.server.run import ServerThread
from tests.sync.conftest import make_kiosk
from tests.sync.support import queue_many

UNUSED = Path("pas-de-fichier/kiosk.sqlite3")  # a site store never touches a file


def _outbox(store: Store, catalog: Catalog) -> Outbox:
    return Outbox(store, catalog, clock=lambda: datetime.now(UTC))


def _dossier_of(store: Store, item_id: int) -> str:
    with store.read() as s:
        return s.get_one(OutboxItem, item_id).dossier_id


def test_a_counter_claims_while_another_holds_the_sites_writer_lock(
    site_url: str, catalog: Catalog
) -> None:
    """A counter saving an answer holds the site's writer lock; another counter's claim does
    not wait for it (it would, for up to 10 s, and then fail, if claims took that lock)."""
    saving, syncing = open_store(UNUSED, url=site_url), open_store(UNUSED, url=site_url)
    try:
        queued = queue_many(syncing, 2, demarche=("changement_adresse", 1))
        with saving.write() as s:
            s.execute(select(OutboxItem.id).limit(1))  # the unit of work has begun: lock held
            claimed = _outbox(syncing, catalog).claim()
        assert claimed is not None
        assert claimed.dossier.dossier_id in queued
    finally:
        saving.close()
        syncing.close()


def test_a_counter_skips_the_row_another_is_claiming_and_takes_it_once_free(
    site_url: str, catalog: Catalog
) -> None:
    first, second = open_store(UNUSED, url=site_url), open_store(UNUSED, url=site_url)
    try:
        queue_many(first, 2, demarche=("changement_adresse", 1))
        outbox = _outbox(second, catalog)
        with first.claiming() as s:
            # A claim in progress at the first counter: the next row, locked, not yet marked.
            held = s.scalars(
                select(OutboxItem)
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(1)
                .with_for_update()
            ).one()
            taken = outbox.claim()  # neither waits for it nor takes it
            assert taken is not None
            assert taken.item_id != held.id
        # The first counter's claim ended without taking it (a dossier held back, say): free.
        again = outbox.claim()
        assert again is not None
        assert again.item_id == held.id
        assert outbox.claim() is None
    finally:
        first.close()
        second.close()


def test_counters_claiming_at_once_take_every_row_exactly_once(
    site_url: str, catalog: Catalog
) -> None:
    stores = [open_store(UNUSED, url=site_url) for _ in range(4)]
    try:
        queued = queue_many(stores[0], 60, demarche=("changement_adresse", 1))
        taken: list[list[int]] = [[] for _ in stores]
        errors: list[BaseException] = []
        start = threading.Barrier(len(stores))

        def counter(n: int) -> None:
            outbox = _outbox(stores[n], catalog)
            try:
                start.wait()
                while (claimed := outbox.claim()) is not None:
                    taken[n].append(claimed.item_id)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=counter, args=(n,)) for n in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        every = [item for mine in taken for item in mine]
        assert max(Counter(every).values()) == 1  # no row claimed by two counters…
        assert sorted(_dossier_of(stores[0], i) for i in every) == sorted(queued)  # …none left
    finally:
        for store in stores:
            store.close()


def test_a_pass_does_not_wait_a_whole_lease_for_a_row_another_counter_is_sending(
    store: Store, catalog: Catalog, national: ServerThread
) -> None:
    """The other counter's row is acknowledged a moment after this pass sent its own: the pass
    ends then, instead of waiting out the other's lease (a minute) before looking again."""
    mine, theirs = queue_many(store, 2, demarche=("changement_adresse", 1))
    k = make_kiosk(store, catalog, national.url, clock=SimClock())
    other = Outbox(store, catalog, clock=lambda: datetime.fromtimestamp(k.clock.time(), UTC))
    sending = other.claim()  # another counter of the site is sending this one
    assert sending is not None
    assert sending.dossier.dossier_id in (mine, theirs)
    reference = sending.dossier.reference
    next_due, sleep = k.outbox.next_due, k.sleeper.sleep
    waiting = False

    def looked(*, skip: Collection[int] = (), held: bool = True) -> datetime | None:
        nonlocal waiting
        due = next_due(skip=skip, held=held)
        waiting = due is not None  # nothing to claim, a row still open: the pass waits
        return due

    def meanwhile(seconds: float) -> None:
        if waiting and other.counts().sending:
            # While this pass waits, the other counter's answer comes: it acknowledges its row.
            DossierService(store, catalog).acknowledge(reference, national_number="NAT-00009999")
        sleep(seconds)

    k.outbox.next_due = looked  # type: ignore[method-assign]
    k.sleeper.sleep = meanwhile  # type: ignore[method-assign]
    started = k.clock.time()
    report = k.worker.run_once()
    k.api.close()
    assert report.sent == 1
    assert report.waiting == 0
    assert k.clock.time() - started < 10.0  # simulated seconds: not the lease's 60


def test_the_next_dossier_is_claimed_while_its_request_waits_for_its_place(
    store: Store,
    catalog: Catalog,
    sim_national: ServerThread,
    shared_clock: SimClock,
    tmp_path: Path,
) -> None:
    """The service books the kiosk's next place; the kiosk claims the next dossier before that
    place comes, so the request leaves at its place (a claim on a busy site server takes a
    while), not at its place plus the claim."""
    httpx.post(f"{sim_national.url}/_control", json={"debit": 10}).raise_for_status()
    queue_many(store, 6, demarche=("changement_adresse", 1))
    k = make_kiosk(store, catalog, sim_national.url, clock=shared_clock)
    report = k.worker.run_once()
    k.api.close()
    assert report.sent == 6
    with store.read() as s:
        rows = s.execute(select(OutboxItem.dossier_id, OutboxItem.last_attempt_at)).all()
    claimed_at = {dossier: at.timestamp() for dossier, at in rows if at is not None}
    with sqlite3.connect(tmp_path / "national.sqlite3") as db:
        filed_at = dict(db.execute("SELECT dossier_id, depose_at FROM depot").fetchall())
    # The service books the first place at once, every later one a tenth of a second after the
    # last: claimed before it, filed at it.
    in_order = sorted(filed_at, key=lambda d: filed_at[d])
    ahead = [claimed_at[d] < filed_at[d] - 1e-3 for d in in_order]
    assert ahead[2:] == [True] * 4
