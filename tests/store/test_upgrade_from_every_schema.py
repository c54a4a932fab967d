"""A kiosk of every earlier release, upgraded: nothing lost, and what was queued is sent.

Each folder of ``tests/store/fixtures/upgrade/`` is a data folder (database, keys, documents)
filled by the code of one earlier release — the last commit of each on-disk format: schema 0001,
0002, 0003 in plain SQLite, 0003 encrypted — with the manifest of what that release showed
(``tests/store/make_upgrade_fixtures.py`` made them, docs/architecture.md says when to add one).
Today's kiosk opens a copy the way it starts (``app.container.build``: the database encrypted in
place if plain, migrated, the plain documents re-stored encrypted); then every dossier, answer,
document and queued item must be as the old kiosk left it, and every dossier the old kiosk had
queued must be counted by ``kiosk sync status`` and sent by the real sync worker to the
reference national server on loopback.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from app.container import Container, build
from app.settings import Settings
from app.sync_setup import SyncSettings, build_worker
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.service import utc_now
from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditLog
from kiosk.store import cipher
from kiosk.store.models import Dossier, OutboxItem
from kiosk.store.schema import HEAD_REVISION
from kiosk.sync.outbox import ACKNOWLEDGED, PENDING, Outbox
from sync.clock import SimClock, SimSleeper
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from sync.worker import OnceReport
from tests.store import make_upgrade_fixtures
from tests.sync.support import ROOT, kiosk_env

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upgrade"
POINTS = sorted(p.name for p in FIXTURES.iterdir() if (p / "manifest.json").is_file())


def test_every_on_disk_format_has_a_fixture() -> None:
    # One point per format (make_upgrade_fixtures.POINTS), each made and committed.
    assert sorted(p.name for p in make_upgrade_fixtures.POINTS) == POINTS
    assert len(POINTS) >= 4  # 0001, 0002, 0003 plain, 0003 encrypted


@dataclass(frozen=True)
class OldKiosk:
    """A copy of one fixture's data folder, and what the old release said was in it."""

    data_dir: Path
    manifest: dict[str, Any]

    @property
    def database(self) -> Path:
        """The database file."""
        return self.data_dir / "kiosk.sqlite3"

    def dossiers(self) -> list[dict[str, Any]]:
        """Each dossier as the old release showed it (``dossier show --json``) + its documents."""
        return list(self.manifest["dossiers"])

    def open(self) -> Container:
        """Start today's kiosk on it: what ``scripts/run`` and every command do first."""
        return build(Settings(database=self.database, data_dir=self.data_dir))

    def sync_once(self, url: str) -> OnceReport:
        """One pass of the sync worker as the kiosk wires it (``kiosk sync --once``: the
        document store's decrypting reader…), on simulated time: its pacing never sleeps."""
        settings = Settings(
            database=self.database,
            data_dir=self.data_dir,
            api_url=url,
            api_client_id="borne-demo",
            api_client_secret="secret-demo",  # the reference server's demo client
        )
        container = build(settings)
        clock = SimClock()
        worker, api = build_worker(
            container,
            SyncSettings.from_settings(settings),
            clock=clock,
            sleeper=SimSleeper(clock),
            rng=random.Random(3),
        )
        try:
            return worker.run_once()
        finally:
            api.close()
            container.close()

    def kiosk(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Today's ``kiosk`` command on this data folder, in its own process."""
        return subprocess.run(
            [sys.executable, "-m", "app", "--data-dir", str(self.data_dir), *args],
            cwd=ROOT,
            env=kiosk_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(params=POINTS)
def old(request: pytest.FixtureRequest, tmp_path: Path) -> OldKiosk:
    """The data folder of one earlier release, copied to ``tmp_path``."""
    fixture = FIXTURES / str(request.param)
    manifest = json.loads((fixture / "manifest.json").read_text(encoding="utf-8"))
    with tarfile.open(fixture / "donnees.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    # Unpacked elsewhere than where it was made: every release recorded each document's
    # absolute path, and a data folder restored or moved elsewhere must still find them.
    data_dir = tmp_path / "donnees"
    assert not Path(manifest["dossier_donnees"]).exists()
    return OldKiosk(data_dir, manifest)


def _answers(value: dict[str, Any]) -> dict[str, Any]:
    """Answers as JSON says them (dates and numbers compared as the old kiosk printed them)."""
    return dict(json.loads(json.dumps(value, ensure_ascii=False, default=str)))


def test_every_dossier_answer_and_document_survives_the_upgrade(old: OldKiosk) -> None:
    # The fixture is the format it claims to be (« clair »: plain SQLite, plain documents).
    assert cipher.is_plain(old.database) == old.manifest["point"]["nom"].endswith("-clair")
    container = old.open()
    try:
        assert not cipher.is_plain(old.database)  # encrypted in place when it was plain
        with container.store.read() as s:
            assert s.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
                HEAD_REVISION
            )
            count = len(s.scalars(select(Dossier.id)).all())
        assert count == len(old.dossiers())
        attachments = Attachments(container.store, container.catalog, container.documents)
        for before in old.dossiers():
            seen = before["vu"]
            view = container.dossiers.show(seen["reference"])
            now = view.to_json()
            for key in ("id", "reference", "demarche", "version", "etat", "numero_national"):
                assert now[key] == seen[key], (seen["reference"], key)
            assert _answers(view.answers) == seen["reponses"], seen["reference"]
            provided = [(p["type"], p["pour"], p["fournie"]) for p in now["pieces"]]
            assert provided == [(p["type"], p["pour"], p["fournie"]) for p in seen["pieces"]]
            assert [(e["type"], e["de"], e["vers"]) for e in now["journal"]] == [
                (e["type"], e["de"], e["vers"]) for e in seen["journal"]
            ]
            # Every document, decrypted, is the very file the old kiosk was given.
            stored = Counter(
                (a.kind, a.item_path, hashlib.sha256(container.documents.read(a.path)).hexdigest())
                for a in attachments.list(seen["reference"])
            )
            given = Counter((d["type"], d["pour"], d["sha256"]) for d in before["documents"])
            assert stored == given, seen["reference"]
        # Nothing of the old documents is left in the clear.
        files = [p for p in container.documents.root.iterdir() if not p.name.startswith(".")]
        assert files and all(p.suffix == ".enc" for p in files), files
        agent = old.manifest["agent"]
        assert (
            AgentService(container.store).sign_in(agent["identifiant"], agent["pin"]).nom
            == (agent["nom"])
        )
        assert AuditLog(container.store).verify().ok
    finally:
        container.close()


def test_every_queued_dossier_is_counted_then_sent_after_the_upgrade(
    old: OldKiosk, tmp_path: Path
) -> None:
    queued = set(old.manifest["en_file"])
    assert queued  # every release could queue a dossier
    keys_before = {r["reference"]: r["cle"] for r in old.manifest["file_d_envoi"]}
    container = old.open()
    try:
        with container.store.read() as s:
            rows = s.execute(
                select(Dossier.reference, Dossier.id, OutboxItem).join(
                    OutboxItem, OutboxItem.dossier_id == Dossier.id
                )
            ).all()
            ids = dict(s.execute(select(Dossier.reference, Dossier.id)).all())
            items = [(ref, item.seq, item.state, item.idempotency_key) for ref, _, item in rows]
    finally:
        container.close()
    # Exactly one pending item per queued dossier, the one the old kiosk wrote when it had an
    # outbox (its key kept: a server that received it answers a replay), a new one otherwise.
    pending = sorted((ref, seq) for ref, seq, state, _key in items if state == PENDING)
    assert pending == sorted((ref, 1) for ref in queued)
    for ref, _seq, state, key in items:
        if ref in keys_before:
            assert key == keys_before[ref], ref
        else:
            assert key == ids[ref], ref  # a first filing's key: the dossier's id
        if ref in old.manifest["transmis"]:
            assert state == ACKNOWLEDGED, ref
    assert len(items) == len(queued) + len(old.manifest["transmis"])

    status = old.kiosk("sync", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["file"]["en_attente"] == len(queued)

    sim = NationalSimulator(tmp_path / "national.sqlite3")
    with ServerThread(sim) as national:
        report = old.sync_once(national.url)
        with sim.db.tx() as c:
            filed = c.execute(
                "SELECT d.reference, d.dossier_id, p.sha256, p.complete"
                " FROM depot d LEFT JOIN piece p ON p.numero = d.numero"
            ).fetchall()
    assert report.sent == len(queued), report
    assert report.refused == [], report  # none sent back to the counter
    assert report.waiting == 0, report
    # The national service has each queued dossier once, with every document complete.
    assert {r[0] for r in filed} == queued
    assert Counter(r[1] for r in filed if r[2] is None or r[3]) == Counter(r[1] for r in filed)
    for before in old.dossiers():
        ref = before["vu"]["reference"]
        if ref in queued:
            received = Counter(r[2] for r in filed if r[0] == ref and r[2] is not None)
            assert received == Counter(d["sha256"] for d in before["documents"]), ref
    container = old.open()
    try:
        assert Outbox(container.store, container.catalog, clock=utc_now).counts().waiting == 0
        for ref in queued:
            assert container.dossiers.show(ref).summary.state.value != "en_file", ref
    finally:
        container.close()
