"""A site's shared store on a real PostgreSQL server (tests/postgres.py): the same migrations
as SQLite, one writer at a time across kiosks, the server's absence said in French."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.security import audit
from kiosk.security.audit import AuditLog
from kiosk.store import Store, StoreError, open_store
from kiosk.store import site as site_module
from kiosk.store.engine import current_revision
from kiosk.store.models import Base
from kiosk.store.schema import HEAD_REVISION
from kiosk.store.site import WRITER_LOCK, SiteUnreachable
from tests.postgres import Cluster

UNUSED = Path("pas-de-fichier/kiosk.sqlite3")  # a site store never touches a file


@pytest.fixture
def site(site_url: str) -> Iterator[Store]:
    opened = open_store(UNUSED, url=site_url)
    yield opened
    opened.close()


def test_the_migrations_build_exactly_the_models_schema_on_postgresql(
    site_url: str, tmp_path: Path
) -> None:
    site = open_store(tmp_path / "donnees" / "kiosk.sqlite3", url=site_url)
    with site.engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    site.close()
    assert diff == []
    assert not (tmp_path / "donnees").exists()  # no file, no key, no marker: the server's


def test_the_journals_refuse_updates_and_deletes_on_postgresql(
    site: Store, catalog: Catalog
) -> None:
    DossierService(site, catalog).create("succession")
    for table, message in (("event", "le journal est en ajout seul"), ("audit", "en ajout seul")):
        for statement in (f"UPDATE {table} SET at = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match=message), site.write() as s:
                s.execute(text(statement))
    assert AuditLog(site).verify().ok


def test_a_second_kiosk_opening_a_migrated_site_store_changes_nothing(
    site: Store, site_url: str, catalog: Catalog
) -> None:
    ref = DossierService(site, catalog).create("succession").reference
    other = open_store(UNUSED, url=site_url)
    try:
        # A dossier started at one counter is found at the other.
        assert DossierService(other, catalog).show(ref).summary.reference == ref
    finally:
        other.close()


def test_a_server_that_does_not_answer_is_said_in_french(pg_cluster: Cluster) -> None:
    closed = pg_cluster.url("kiosk").replace(f":{pg_cluster.port}/", ":9/")  # discard: no one
    with pytest.raises(SiteUnreachable) as caught:
        open_store(UNUSED, url=closed)
    message = str(caught.value)
    assert message.startswith("Le serveur du site 127.0.0.1:9/kiosk ne répond pas : ")
    assert "rien de ce qui est saisi n'est perdu" in message


def test_a_server_lost_while_the_counter_types_is_said_and_the_next_save_works(
    site: Store, site_url: str, pg_cluster: Cluster, catalog: Catalog
) -> None:
    service = DossierService(site, catalog)
    ref = service.create("succession").reference
    database = site_url.rsplit("/", 1)[1]
    # The server closes every connection of the kiosk and takes no new one (as a site server
    # restarting, or a cut cable, does for the counter).
    pg_cluster.sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    pg_cluster.sql(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    )
    with pytest.raises(StoreError, match="ne répond pas") as caught:
        service.answer(ref, "nom", "Martin")
    assert isinstance(caught.value, SiteUnreachable)
    pg_cluster.sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    service.answer(ref, "nom", "Martin")  # the screen kept it; saved again, it is stored
    assert service.show(ref).answers["nom"] == "Martin"


def test_a_connection_rested_in_the_pool_is_tested_and_a_dropped_one_replaced(
    site: Store,
    site_url: str,
    pg_cluster: Cluster,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The site server restarted while the counter was idle (overnight): the first save the
    next morning goes through on a new connection, nothing said (kiosk/store/site.py tests a
    connection back from the pool after a rest; here every rest counts)."""
    service = DossierService(site, catalog)
    ref = service.create("succession").reference
    monkeypatch.setattr(site_module, "IDLE_PING", 0.0)
    database = site_url.rsplit("/", 1)[1]
    pg_cluster.sql(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    )
    service.answer(ref, "nom", "Martin")
    assert service.show(ref).answers["nom"] == "Martin"


def test_a_server_lost_in_the_middle_of_a_save_is_said_and_the_next_save_works(
    site: Store,
    site_url: str,
    pg_cluster: Cluster,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection cut between two of an autosave's statements (run on psycopg's own
    connection, kiosk/store/prepared.py): said as the server's absence, nothing half-saved,
    and the pool does not hand the dead connection out again."""
    service = DossierService(site, catalog)
    ref = service.create("succession").reference
    database = site_url.rsplit("/", 1)[1]
    real = audit.entry_hash

    def cut(*args: object) -> str:  # the server goes away as the journal entry is computed
        pg_cluster.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "entry_hash", cut)
    with pytest.raises(StoreError, match="ne répond pas") as caught:
        service.answer(ref, "nom", "Martin")
    assert isinstance(caught.value, SiteUnreachable)
    monkeypatch.setattr(audit, "entry_hash", real)
    assert "nom" not in service.show(ref).answers  # rolled back whole
    service.answer(ref, "nom", "Martin")  # the screen kept it; saved again, it is stored
    assert service.show(ref).answers["nom"] == "Martin"
    assert AuditLog(site).verify().ok


def test_a_wrong_address_is_refused_with_the_setting_named() -> None:
    with pytest.raises(StoreError, match=r"Réglage stockage\.url : .*postgresql://serveur/base"):
        open_store(UNUSED, url="postgresql://serveur-sans-base")


def _waiting_for_the_writer_lock(cluster: Cluster, database: str) -> bool:
    rows = cluster.sql(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        f" WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = '{database}'"
        f" AND ((l.classid::bigint << 32) | l.objid::bigint) = {WRITER_LOCK}"
    )
    return bool(rows and rows[0][0])


def test_two_kiosks_write_one_at_a_time_and_the_second_sees_the_first(
    site: Store, site_url: str, pg_cluster: Cluster
) -> None:
    """The counterpart of SQLite's BEGIN IMMEDIATE: a second counter's write waits for the
    first's commit, then reads what it wrote (never a decision taken on a stale read)."""
    other = open_store(UNUSED, url=site_url)
    database = site_url.rsplit("/", 1)[1]
    seen: list[str | None] = []
    try:
        with site.write() as s:
            s.execute(text("INSERT INTO setting(key, value) VALUES ('compteur', '1')"))

            def second_kiosk() -> None:
                with other.write() as t:
                    seen.append(
                        t.execute(text("SELECT value FROM setting WHERE key = 'compteur'")).scalar()
                    )

            thread = threading.Thread(target=second_kiosk)
            thread.start()
            for _ in range(2000):  # until the server shows it waiting (bounded, not timed)
                if _waiting_for_the_writer_lock(pg_cluster, database):
                    break
            else:
                pytest.fail("la seconde borne n'attend pas la première")
            assert seen == []
        thread.join()
        assert seen == ["1"]
    finally:
        other.close()


def test_two_kiosks_saving_at_once_on_one_chain_never_fork_it(
    site: Store, site_url: str, catalog: Catalog
) -> None:
    """Two counters without an identifier yet (their journal's chain is the same, « »): saving
    at the same moment they take turns on it, never fork it nor lose an entry (the chains of
    counters with identifiers: tests/store/test_site_chains.py)."""
    other = open_store(UNUSED, url=site_url)
    try:
        refs = [DossierService(st, catalog).create("succession").reference for st in (site, other)]
        before = AuditLog(site).verify().count
        errors: list[BaseException] = []

        def counter(store: Store, ref: str) -> None:
            service = DossierService(store, catalog)
            try:
                for i in range(25):
                    service.answer(ref, "nom", f"Martin{i}")
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [
            threading.Thread(target=counter, args=(st, ref))
            for st, ref in zip((site, other), refs, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        result = AuditLog(site).verify()
        assert result.ok
        assert result.count == before + 50
    finally:
        other.close()
