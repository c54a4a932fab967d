"""Counters saving side by side on a site store (issue 17, migration 0011): an autosave holds the
site's writer lock shared, its dossier's row and its counter's chain of the journal; a whole
writer (a filing) still has the store to itself. Real PostgreSQL, two stores as two counters."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kiosk.demarches import Catalog
from kiosk.dossiers.reference import verification_code
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.security import audit
from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditLog
from kiosk.store import Store, open_store
from kiosk.store.site import CHAIN_LOCKS, WRITER_LOCK, chain_key
from tests.postgres import Cluster
from tests.support import file_dossier, fill

UNUSED = Path("pas-de-fichier/kiosk.sqlite3")


@pytest.fixture
def counters(site_url: str) -> Iterator[tuple[Store, Store]]:
    """Two counters of one site, each with its identifier at the national service."""
    first = open_store(UNUSED, url=site_url, chain="guichet-1")
    second = open_store(UNUSED, url=site_url, chain="guichet-2")
    yield first, second
    first.close()
    second.close()


@dataclass
class Hold:
    """A unit of work held at its journal entry: ``inside`` once there, ``let_go`` to go on."""

    inside: threading.Event
    let_go: Callable[[], None]


@contextmanager
def held_at_its_journal_entry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hold]:
    """Hold the next unit of work that appends to the journal as it computes its entry (its
    locks taken, its other rows written, nothing committed)."""
    inside, release = threading.Event(), threading.Event()
    real = audit.entry_hash

    def hold(*args: Any) -> str:
        if not inside.is_set():
            inside.set()
            release.wait()
        return real(*args)

    monkeypatch.setattr(audit, "entry_hash", hold)
    try:
        yield Hold(inside, release.set)
    finally:
        release.set()
        monkeypatch.setattr(audit, "entry_hash", real)


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    done: list[object] = []

    def run() -> None:
        try:
            done.append(work())
        except BaseException as exc:  # reported by the test's thread
            done.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def _succeeded(done: list[object]) -> object:
    """What the work of :func:`_in_thread` returned; the error it raised fails the test."""
    assert done, "le travail n'a pas fini"
    assert not isinstance(done[0], BaseException), done
    return done[0]


def _waiting(cluster: Cluster, database: str) -> int:
    rows = cluster.sql(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        f" WHERE NOT l.granted AND a.datname = '{database}'"
    )
    return int(rows[0][0]) if rows else 0


def _until_waiting(cluster: Cluster, site_url: str, done: list[object]) -> None:
    """Until the server shows the second counter waiting (bounded, not timed)."""
    database = site_url.rsplit("/", 1)[1]
    for _ in range(2000):
        if _waiting(cluster, database):
            return
        assert done == [], "la seconde borne n'a pas attendu la première"
    pytest.fail("la seconde borne n'attend pas la première")


def _hold_inside(hold: Hold, work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Start ``work`` in a thread and return once it is held at its journal entry."""
    thread, done = _in_thread(work)
    for _ in range(20000):  # bounded, not timed
        assert done == [], "l'enregistrement de la première borne n'a rien écrit au journal"
        if hold.inside.wait(0.001):
            return thread, done
    pytest.fail("la première borne n'a pas commencé son enregistrement")


def test_a_counter_saves_while_another_counters_save_is_under_way(
    counters: tuple[Store, Store], catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counters saving at once no longer queue behind one another's commit: the second saves
    and commits while the first is still inside its own (before 0011 it waited for it, ten
    seconds at most, then was told the server did not answer)."""
    first, second = counters
    mine = DossierService(first, catalog)
    theirs = DossierService(second, catalog)
    ref_1 = mine.create("succession").reference
    ref_2 = theirs.create("succession").reference
    with held_at_its_journal_entry(monkeypatch) as hold:
        thread, done = _hold_inside(hold, lambda: mine.answer(ref_1, "nom", "MARTIN"))
        assert theirs.answer(ref_2, "nom", "DUPONT").value == "DUPONT"
        assert theirs.show(ref_2).answers["nom"] == "DUPONT"  # committed, seen by a new read
        assert done == []  # the first is still inside its save
        hold.let_go()
        thread.join()
    _succeeded(done)
    assert theirs.show(ref_1).answers["nom"] == "MARTIN"
    result = AuditLog(first).verify()
    assert result.ok
    assert {c.name for c in result.chains} >= {"guichet-1", "guichet-2"}


def test_a_filing_waits_for_the_saves_under_way_and_files_what_they_saved(
    counters: tuple[Store, Store],
    catalog: Catalog,
    pg_cluster: Cluster,
    site_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two writes of one dossier take turns: the filing at the second counter waits for the
    first counter's save of the same dossier to commit, then files the answer it saved."""
    first, second = counters
    mine = DossierService(first, catalog)
    theirs = DossierService(second, catalog)
    demarche = catalog.latest("changement_adresse")
    ref = mine.create("changement_adresse").reference
    fill(mine, ref, demarche)
    with held_at_its_journal_entry(monkeypatch) as hold:
        saving, saved = _hold_inside(hold, lambda: mine.answer(ref, "nom", "NOUVEAUNOM"))
        filing, filed = _in_thread(lambda: file_dossier(theirs, ref))
        _until_waiting(pg_cluster, site_url, filed)
        hold.let_go()
        saving.join()
        filing.join()
    _succeeded(saved)
    _succeeded(filed)
    assert theirs.show(ref).summary.state is DossierState.EN_FILE
    assert theirs.show(ref).answers["nom"] == "NOUVEAUNOM"
    assert AuditLog(second).verify().ok


def test_a_counter_files_and_starts_a_dossier_while_another_counters_save_is_under_way(
    counters: tuple[Store, Store], catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating a dossier, signing its mandate and filing it write that dossier's rows only:
    at the second counter they go through while the first counter's save is held open (before,
    each waited for every other counter's write)."""
    first, second = counters
    mine = DossierService(first, catalog)
    theirs = DossierService(second, catalog)
    demarche = catalog.latest("changement_adresse")
    ref_1 = mine.create("succession").reference
    ref_2 = theirs.create("changement_adresse").reference
    fill(theirs, ref_2, demarche)
    with held_at_its_journal_entry(monkeypatch) as hold:
        saving, saved = _hold_inside(hold, lambda: mine.answer(ref_1, "nom", "MARTIN"))
        assert file_dossier(theirs, ref_2).state is DossierState.EN_FILE
        started = theirs.create("succession").reference
        assert saved == []  # the first is still inside its save
        hold.let_go()
        saving.join()
    _succeeded(saved)
    assert theirs.show(started).summary.state is DossierState.BROUILLON
    assert AuditLog(first).verify().ok


def test_two_counters_filing_the_sites_first_dossiers_at_once_share_one_receipt_secret(
    counters: tuple[Store, Store],
    catalog: Catalog,
    pg_cluster: Cluster,
    site_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The secret behind receipts' codes is made at the site's first filing. Two counters
    filing at once both find it missing: the second waits for the first's, then uses it (it
    would otherwise insert its own and fail, its filing lost)."""
    first, second = counters
    mine, theirs = DossierService(first, catalog), DossierService(second, catalog)
    demarche = catalog.latest("changement_adresse")
    refs = [service.create("changement_adresse").reference for service in (mine, theirs)]
    for service, ref in zip((mine, theirs), refs, strict=True):
        fill(service, ref, demarche)
    inside, release = threading.Event(), threading.Event()
    real = verification_code

    def held(*args: Any) -> str:  # the first filing holds, its secret written, not committed
        if not inside.is_set():
            inside.set()
            release.wait()
        return real(*args)

    monkeypatch.setattr("kiosk.sync.outbox.verification_code", held)
    try:
        filing, filed = _in_thread(lambda: file_dossier(mine, refs[0]))
        assert inside.wait(30)
        other, other_filed = _in_thread(lambda: file_dossier(theirs, refs[1]))
        _until_waiting(pg_cluster, site_url, other_filed)
    finally:
        release.set()
    filing.join()
    other.join()
    for result in (filed, other_filed):
        _succeeded(result)
    with first.read() as s:
        secrets = s.execute(text("SELECT count(*) FROM setting WHERE key = 'receipt_key'"))
        assert secrets.scalar() == 1
    assert all(theirs.show(ref).summary.state is DossierState.EN_FILE for ref in refs)


def test_a_whole_writer_still_waits_for_the_saves_under_way(
    counters: tuple[Store, Store],
    catalog: Catalog,
    pg_cluster: Cluster,
    site_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What is not one dossier's write (here a supervisor creating an agent) still has the
    store to itself: it waits for the other counter's save under way, then goes through."""
    first, second = counters
    mine = DossierService(first, catalog)
    ref = mine.create("succession").reference
    with held_at_its_journal_entry(monkeypatch) as hold:
        saving, saved = _hold_inside(hold, lambda: mine.answer(ref, "nom", "MARTIN"))
        adding, added = _in_thread(lambda: AgentService(second).add("lea", "Léa Dubois", "2468"))
        _until_waiting(pg_cluster, site_url, added)
        hold.let_go()
        saving.join()
        adding.join()
    _succeeded(saved)
    _succeeded(added)
    assert AuditLog(first).verify().ok


def test_two_counters_saving_one_dossier_take_turns_and_the_second_sees_the_first(
    counters: tuple[Store, Store],
    catalog: Catalog,
    pg_cluster: Cluster,
    site_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dossier's row is the autosave's to hold: a second counter saving the same validated
    dossier waits for the first's commit, then reads what it did (back to « brouillon »,
    once) rather than moving it back a second time from a stale reading."""
    first, second = counters
    mine = DossierService(first, catalog)
    theirs = DossierService(second, catalog)
    demarche = catalog.latest("changement_adresse")
    ref = mine.create("changement_adresse").reference
    fill(mine, ref, demarche)
    assert mine.validate(ref).state is DossierState.PRET
    with held_at_its_journal_entry(monkeypatch) as hold:
        saving, saved = _hold_inside(hold, lambda: mine.answer(ref, "nom", "NOUVEAUNOM"))
        other, answered = _in_thread(lambda: theirs.answer(ref, "prenoms", "Jeanne"))
        _until_waiting(pg_cluster, site_url, answered)
        hold.let_go()
        saving.join()
        other.join()
    _succeeded(saved)
    _succeeded(answered)
    view = theirs.show(ref)
    assert view.summary.state is DossierState.BROUILLON
    assert {k: view.answers[k] for k in ("nom", "prenoms")} == {
        "nom": "NOUVEAUNOM",
        "prenoms": "Jeanne",
    }
    back = [
        e for e in AuditLog(first).entries(limit=50, dossier_ref=ref) if e.action == "etat_change"
    ]
    assert [e.detail for e in back][-1:] == [{"de": "pret", "vers": "brouillon"}]
    assert [e.detail["vers"] for e in back].count("brouillon") == 1


def test_an_autosave_holds_the_shared_lock_its_chain_and_its_dossier_never_the_whole(
    counters: tuple[Store, Store], catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an autosave holds while it writes, as the server sees it: the site's writer lock
    shared, its counter's chain, its dossier's row; never the writer lock whole."""
    first, second = counters
    mine = DossierService(first, catalog)
    ref = mine.create("succession").reference
    with held_at_its_journal_entry(monkeypatch) as hold:
        saving, saved = _hold_inside(hold, lambda: mine.answer(ref, "nom", "MARTIN"))
        with second.engine.connect() as conn:
            locks = conn.execute(
                text(
                    "SELECT (classid::bigint << 32) | objid::bigint, classid::bigint,"
                    " objid::bigint, objsubid, mode FROM pg_locks"
                    " WHERE locktype = 'advisory' AND granted"
                )
            ).all()
            with pytest.raises(DBAPIError, match="could not obtain lock"):
                conn.execute(
                    text("SELECT id FROM dossier WHERE reference = :ref FOR UPDATE NOWAIT"),
                    {"ref": ref},
                )
        hold.let_go()
        saving.join()
    _succeeded(saved)
    writer = [
        mode for whole, _high, _low, subid, mode in locks if subid == 1 and whole == WRITER_LOCK
    ]
    chain = [
        mode
        for _whole, high, low, subid, mode in locks
        if subid == 2 and high == CHAIN_LOCKS and low == chain_key("guichet-1") & 0xFFFFFFFF
    ]
    assert writer == ["ShareLock"]
    assert chain == ["ExclusiveLock"]


def test_counters_saving_at_once_keep_every_chain_whole(
    counters: tuple[Store, Store], site_url: str, catalog: Catalog
) -> None:
    """Two counters and a third process of the first counter (its sync, say: the same chain)
    saving at once: every entry is kept, no chain forks, and each is in its counter's chain."""
    first, second = counters
    again = open_store(UNUSED, url=site_url, chain="guichet-1")
    stores = (first, second, again)
    try:
        refs = [DossierService(st, catalog).create("succession").reference for st in stores]
        before = AuditLog(first).verify()
        counts = {c.name: c.count for c in before.chains}
        errors: list[BaseException] = []

        def counter(store: Store, ref: str) -> None:
            service = DossierService(store, catalog)
            try:
                for i in range(20):
                    service.answer(ref, "nom", f"Martin{i}")
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [
            threading.Thread(target=counter, args=(st, ref))
            for st, ref in zip(stores, refs, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        after = AuditLog(first).verify()
        assert after.ok
        grown = {c.name: c.count - counts.get(c.name, 0) for c in after.chains}
        assert grown == {"guichet-1": 40, "guichet-2": 20}
        assert after.head != before.head
    finally:
        again.close()
