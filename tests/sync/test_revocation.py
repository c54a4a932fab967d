"""A lost tablet (issue 17): each kiosk reports on itself without personal data, the supervisor
lists the site's kiosks with what needs someone, and a kiosk revoked at the national service
destroys its keys at its next contact and says so in French ever after (docs/sites.md).

Against the real reference server on loopback, in simulated time shared by the server and the
kiosks (no sleeping), with the kiosk's own composition root (app/container.py, sync_setup.py).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.container import Container, build
from app.settings import Settings
from app.sync_setup import SyncSettings, build_worker, site_kiosks_service
from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditAction, AuditLog
from kiosk.security.revocation import MARKER, KioskWithdrawn
from kiosk.store import StoreError, open_store
from kiosk.store.models import Dossier, OutboxItem
from kiosk.sync.fleet import FleetError, SiteKiosksService
from sync.clock import SimClock, SimSleeper, as_datetime
from sync.server.app import NationalSimulator
from sync.server.fleet import REPORT_FIELDS
from sync.server.run import ServerThread
from sync.worker import OnceReport
from tests.sync.support import ROOT, queue_many

CLIENTS = {"borne-demo": "secret-demo", "borne-voisine": "sv", "borne-ailleurs": "sa"}
SITES = {"borne-ailleurs": "autre-site"}
#: A démarche no kiosk has: its dossiers stay queued (held on the kiosk), as a tablet's would
#: while it cannot send them.
HELD = ("demarche_retiree", 1)


@dataclass
class Site:
    server: ServerThread
    clock: SimClock


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    clock = SimClock(time.time())
    sim = NationalSimulator(
        tmp_path / "national.sqlite3",
        clients=CLIENTS,
        sites=SITES,
        clock=clock.time,
        rng=random.Random(1),
    )
    with ServerThread(sim) as server:
        yield Site(server, clock)


def settings_for(folder: Path, url: str, client: str, **extra: object) -> Settings:
    return Settings(
        data_dir=folder,
        api_url=url,
        api_client_id=client,
        api_client_secret=CLIENTS[client],
        **extra,  # type: ignore[arg-type]
    )


def sync_once(container: Container, settings: Settings, clock: SimClock) -> OnceReport:
    worker, api = build_worker(
        container,
        SyncSettings.from_settings(settings),
        clock=clock,
        sleeper=SimSleeper(clock),
        rng=random.Random(2),
    )
    try:
        return worker.run_once()
    finally:
        api.close()


def neighbour(tmp_path: Path, site: Site) -> tuple[Container, SiteKiosksService]:
    settings = settings_for(tmp_path / "voisine", site.server.url, "borne-voisine")
    container = build(settings)
    service = site_kiosks_service(
        container,
        SyncSettings.from_settings(settings),
        clock=lambda: as_datetime(site.clock),  # the flags on the simulated clock
    )
    return container, service


def control(site: Site) -> dict[str, dict[str, object]]:
    kiosks = httpx.get(f"{site.server.url}/_control/bornes").json()["bornes"]
    return {k["id"]: k for k in kiosks}


def test_a_report_names_the_unsent_dossiers_by_reference_and_nothing_personal(
    tmp_path: Path, site: Site
) -> None:
    settings = settings_for(tmp_path / "borne", site.server.url, "borne-demo")
    container = build(settings)
    try:
        queue_many(container.store, 2, demarche=HELD, nom="DUPONT", telephone="06 12 34 56 78")
        references = sorted(s.reference for s in container.dossiers.list())
        report = sync_once(container, settings, site.clock)
    finally:
        container.close()
    assert report.waiting == 2 and not report.revoked
    said = control(site)["borne-demo"]["rapport"]
    assert isinstance(said, dict)
    # Exactly these fields: the service refuses any other, and none of them is personal.
    assert (
        set(said)
        == set(REPORT_FIELDS)
        == {
            "version",
            "file_attente",
            "plus_ancien_non_envoye",
            "derniere_synchro",
            "derniere_erreur",
            "non_envoyes",
            "stockage",
        }
    )
    assert said["file_attente"] == 2 and said["stockage"] == "borne"
    assert sorted(said["non_envoyes"]) == references
    assert said["version"] and said["plus_ancien_non_envoye"]
    text = json.dumps(said, ensure_ascii=False)
    for personal in ("DUPONT", "Jean", "06 12 34 56 78", "0612345678"):
        assert personal not in text


def test_a_report_says_the_last_error_of_a_dossier_the_service_keeps_failing(
    tmp_path: Path, site: Site
) -> None:
    settings = settings_for(tmp_path / "borne", site.server.url, "borne-demo")
    container = build(settings)
    try:
        (failing,) = queue_many(container.store, 1, demarche=("changement_adresse", 1))
        control = {"echecs_dossier": {failing: 500}}
        httpx.post(f"{site.server.url}/_control", json=control).raise_for_status()
        report = sync_once(container, settings, site.clock)
        assert report.failing and report.waiting == 1
        said = httpx.get(f"{site.server.url}/_control/bornes").json()["bornes"]
        mine = next(k for k in said if k["id"] == "borne-demo")["rapport"]
        # The service answers the rest: its error is this dossier's, said to the supervisor.
        assert mine["file_attente"] == 1
        assert mine["derniere_erreur"].startswith("Le service national a répondu 500")
    finally:
        container.close()


def test_the_service_refuses_a_report_with_a_field_more(site: Site) -> None:
    url = site.server.url
    token = httpx.post(
        f"{url}/v1/jetons",
        json={
            "grant_type": "client_credentials",
            "client_id": "borne-demo",
            "client_secret": "secret-demo",
        },
    ).json()["access_token"]
    report = {
        "version": "1.0",
        "file_attente": 0,
        "plus_ancien_non_envoye": None,
        "derniere_synchro": None,
        "derniere_erreur": None,
        "non_envoyes": [],
        "stockage": "borne",
    }
    headers = {"Authorization": f"Bearer {token}"}
    ok = httpx.post(f"{url}/v1/bornes/rapport", json=report, headers=headers)
    assert ok.status_code == 200, ok.text
    extra = httpx.post(
        f"{url}/v1/bornes/rapport", json={**report, "usager": "DUPONT"}, headers=headers
    )
    assert extra.status_code == 400 and "usager" in extra.json()["detail"]


def test_the_supervisor_sees_a_silent_kiosk_and_dossiers_waiting_for_more_than_a_day(
    tmp_path: Path, site: Site
) -> None:
    settings = settings_for(tmp_path / "borne", site.server.url, "borne-demo")
    container = build(settings)
    try:
        queue_many(container.store, 1, demarche=HELD)
        sync_once(container, settings, site.clock)
    finally:
        container.close()
    other, service = neighbour(tmp_path, site)
    try:
        view = service.view()
        rows = {r.kiosk.id: r for r in view.rows}
        # Its own site only; the neighbour itself never reported: silent.
        assert set(rows) == {"borne-demo", "borne-voisine"} and view.error is None
        assert rows["borne-voisine"].this_kiosk and rows["borne-voisine"].silent
        demo = rows["borne-demo"]
        assert not demo.silent and not demo.waiting_too_long
        assert demo.kiosk.report is not None and demo.kiosk.report.queued == 1

        site.clock.advance(timedelta(hours=25).total_seconds())
        demo = next(r for r in service.view().rows if r.kiosk.id == "borne-demo")
        assert demo.waiting_too_long and not demo.silent

        site.clock.advance(timedelta(hours=24).total_seconds())  # 49 h without a report
        demo = next(r for r in service.view().rows if r.kiosk.id == "borne-demo")
        assert demo.silent and demo.waiting_too_long
        fetched = service.view().fetched_at

        site.server.stop()  # offline: said, with the list as last fetched and when
        offline = service.view()
        assert offline.error and "service national" in offline.error
        assert offline.fetched_at == fetched
        assert {r.kiosk.id for r in offline.rows} == {"borne-demo", "borne-voisine"}
    finally:
        other.close()


def test_a_revoked_kiosk_destroys_its_keys_at_its_next_sync_and_says_so_ever_after(
    tmp_path: Path, site: Site
) -> None:
    folder = tmp_path / "borne"
    folder.mkdir()
    config = folder / "kiosk.toml"
    config.write_text(
        '[service_national]\nidentifiant = "borne-demo"\nsecret = "secret-demo"\n'
        '\n[peripheriques]\nimprimante = "guichet"\n',
        encoding="utf-8",
    )
    settings = settings_for(folder, site.server.url, "borne-demo")
    container = build(settings, credentials_file=config)
    paths = container.paths
    try:
        container.documents.store_bytes(b"%PDF-1.4 une piece", "application/pdf")  # its key
        queue_many(container.store, 2, demarche=HELD)
        references = sorted(s.reference for s in container.dossiers.list())
        sync_once(container, settings, site.clock)  # its last report before it is lost
        assert paths.db_key_file.exists() and paths.documents_key_file.exists()

        # A supervisor at another counter of the site revokes the lost tablet.
        other, service = neighbour(tmp_path, site)
        try:
            agents = AgentService(other.store)
            lea = agents.add("lea", "Léa Dubois", "2468")
            with pytest.raises(FleetError, match="superviseur"):
                service.revoke("borne-demo", by=lea)
            cheffe = agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
            with pytest.raises(FleetError, match="Aucune borne de ce site"):
                service.revoke("borne-ailleurs", by=cheffe)  # another site's: unknown here
            revoked = service.revoke("borne-demo", by=cheffe)
            assert revoked.revoked and revoked.revoked_by == "cheffe"
            assert revoked.report is not None
            assert sorted(revoked.report.unsent) == references  # what it had not sent
            entry = AuditLog(other.store).entries(limit=1)[0]
            assert entry.action == AuditAction.KIOSK_REVOKED
            assert entry.detail == {"par": "cheffe", "borne": "borne-demo"}
        finally:
            other.close()

        report = sync_once(container, settings, site.clock)  # its next contact
        assert report.revoked
        with pytest.raises(KioskWithdrawn, match="retirée du service"):
            container.dossiers.list()  # nothing more is read in this process either
    finally:
        container.close()

    assert not paths.db_key_file.exists() and not paths.documents_key_file.exists()
    assert (folder / MARKER).exists()
    left = config.read_text(encoding="utf-8")
    assert "secret-demo" not in left and 'imprimante = "guichet"' in left
    # The encrypted database stays on the disk, unreadable: without its key nothing opens it.
    assert paths.database.exists()
    with pytest.raises(StoreError):
        open_store(paths.database, key_file=paths.db_key_file)
    # Every start says it, the touchscreen's and every command's, in French, no traceback.
    with pytest.raises(KioskWithdrawn, match="Contactez votre superviseur"):
        build(settings)
    for command in (["dossier", "list"], ["audit", "verify"], ["sync", "--once"]):
        run = subprocess.run(
            [sys.executable, "-m", "app", "--data-dir", str(folder), *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={"PATH": "/usr/bin:/bin", "PN_KIOSK_API_URL": site.server.url},
        )
        assert run.returncode == 1, run
        assert "Cette borne a été retirée du service" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr


def test_a_counter_of_a_site_store_revoked_leaves_the_site_store_untouched(
    tmp_path: Path, site: Site, site_url: str
) -> None:
    folder = tmp_path / "guichet"
    settings = settings_for(folder, site.server.url, "borne-demo", database_url=site_url)
    container = build(settings)
    paths = container.paths
    try:
        container.documents.store_bytes(b"%PDF-1.4 une piece", "application/pdf")
        queue_many(container.store, 2, demarche=HELD)
        references = sorted(s.reference for s in container.dossiers.list())
        sync_once(container, settings, site.clock)
        said = control(site)["borne-demo"]["rapport"]
        assert isinstance(said, dict) and said["stockage"] == "site"
        httpx.post(f"{site.server.url}/_control/bornes", json={"revoquer": "borne-demo"})
        assert sync_once(container, settings, site.clock).revoked
    finally:
        container.close()
    # Its own documents key is gone; the site's store is not the counter's to destroy.
    assert not paths.documents_key_file.exists()
    with pytest.raises(KioskWithdrawn):
        build(settings)
    store = open_store(tmp_path / "unused", url=site_url)
    try:
        with store.read() as s:
            kept = sorted(s.scalars(select(Dossier.reference)))
            states = set(s.scalars(select(OutboxItem.state)))
    finally:
        store.close()
    assert kept == references and states == {"en_attente"}  # still the site's to send


def test_kiosk_bornes_lists_the_site_and_revokes_from_the_console(
    tmp_path: Path, site: Site
) -> None:
    folder = tmp_path / "voisine"
    env = {
        "PATH": "/usr/bin:/bin",
        "PN_KIOSK_API_URL": site.server.url,
        "PN_KIOSK_API_CLIENT_ID": "borne-voisine",
        "PN_KIOSK_API_CLIENT_SECRET": CLIENTS["borne-voisine"],
    }

    def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "--data-dir", str(folder), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )

    listing = kiosk("bornes")
    assert listing.returncode == 0, listing.stderr
    assert "Site site-reference — 2 borne(s)" in listing.stdout
    assert "borne-voisine (cette borne)" in listing.stdout
    assert "borne-demo — aucun rapport reçu" in listing.stdout
    assert "⚠ silencieuse depuis plus de 48 h" in listing.stdout
    assert "borne-ailleurs" not in listing.stdout  # another site's

    itself = kiosk("bornes", "revoquer", "borne-voisine")
    assert itself.returncode == 1 and "ne se révoque pas elle-même" in itself.stderr

    done = kiosk("bornes", "revoquer", "borne-demo")
    assert done.returncode == 0, done.stderr
    assert "Borne « borne-demo » révoquée" in done.stdout
    assert control(site)["borne-demo"]["revoquee"] is True
    journal = kiosk("--json", "audit", "show", "--limit", "1")
    entry = json.loads(journal.stdout)[0]
    assert entry["action"] == "borne_revoquee"
    assert entry["detail"] == {"par": "console", "borne": "borne-demo"}
    data = json.loads(kiosk("--json", "bornes").stdout)
    demo = next(b for b in data["bornes"] if b["id"] == "borne-demo")
    assert demo["revoquee"] and demo["revoquee_par"] == "console"

    site.server.stop()
    offline = kiosk("bornes")
    assert offline.returncode == 1
    assert "Liste des bornes non obtenue" in offline.stderr
    assert "dernière liste obtenue le" in offline.stderr
    assert "Traceback" not in offline.stderr
