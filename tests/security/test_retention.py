"""Retention: a purged dossier's person is nowhere left, not in the file, the WAL or the folder."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from app.cli import main
from app.housekeeping import PurgeSchedule, start_purge_schedule
from app.settings import SettingsError, resolve
from devices.capture import FolderSource
from kiosk.demarches import Catalog
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.mandate import MandateService
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.security.audit import AuditAction, AuditLog
from kiosk.security.retention import PurgeReport, RetentionPolicy, RetentionService
from kiosk.store import Store, open_store
from kiosk.store.documents import DocumentStore

NAME = "Zéphirine"
SURNAME = "QUATREBARBES"
PLATE = "1234 ZQ 56"  # an FNI plate: the démarche keeps it as typed
SCAN = b"%PDF-1.4 scan of the identity card of Zephirine QUATREBARBES " * 40


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Store]:
    # Plain on purpose: what is tested here is that erased values leave no bytes behind
    # (secure_delete, WAL truncation), which must hold for whoever also has the key.
    # tests/security/test_encryption.py checks the encrypted store.
    opened = open_store(tmp_path / "kiosk.sqlite3", encrypted=False)
    yield opened
    opened.close()


def _dossier(
    kiosk: Store, catalog: Catalog, clock: Clock, documents: Path, *, scan: bytes = SCAN
) -> str:
    """A succession dossier with the heir's name, a plate, a signed mandate and a scan."""
    service = DossierService(kiosk, catalog, clock=clock)
    ref = service.create("succession").reference
    service.answer(ref, "nom", SURNAME)
    service.answer(ref, "prenoms", NAME)
    service.answer(ref, "immatriculation", PLATE)
    mandates = MandateService(kiosk, clock=clock)
    words = mandates.text_for(
        reference=ref, usager=f"{NAME} {SURNAME}", agent="A", guichet="G", demarche="D"
    )
    mandates.sign(ref, words, b"\x89PNG" + SURNAME.encode() * 20)
    Attachments(kiosk, catalog, DocumentStore(documents), clock=clock).attach(
        ref, "preuve_qualite_heritier", scan, "application/pdf"
    )
    return ref


def _all_bytes(db: Path) -> bytes:
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _found(haystack: bytes) -> list[str]:
    needles = {
        "prénom": NAME.encode(),
        "nom": SURNAME.encode(),
        "plaque": PLATE.encode(),
        "plaque (recherche)": PLATE.replace(" ", "").encode(),
        "scan": SCAN[:40],
    }
    return [label for label, needle in needles.items() if needle in haystack]


def _decide(kiosk: Store, ref: str, state: str) -> None:
    """Put a dossier straight in a national decision (the life cycle is tested elsewhere)."""
    import sqlite3

    conn = sqlite3.connect(kiosk.path, isolation_level=None)
    try:
        conn.execute("UPDATE dossier SET state = ? WHERE reference = ?", (state, ref))
    finally:
        conn.close()


def test_the_person_is_nowhere_left_after_the_purge(
    tmp_path: Path, kiosk: Store, catalog: Catalog, clock: Clock
) -> None:
    documents = tmp_path / "documents"
    ref = _dossier(kiosk, catalog, clock, documents)
    _decide(kiosk, ref, "accepte")
    retention = RetentionService(kiosk, documents, clock=clock)
    clock.now += timedelta(days=29)
    assert retention.purge().dossiers == ()  # not yet: 30 days after the decision
    with kiosk.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert _found(_all_bytes(kiosk.path)) == ["prénom", "nom", "plaque", "plaque (recherche)"]
    assert len(list(documents.iterdir())) == 1

    clock.now += timedelta(days=2)
    report = retention.purge()
    assert [d.reference for d in report.dossiers] == [ref] and report.files_deleted == 1
    kiosk.close()
    assert _found(_all_bytes(kiosk.path)) == []
    assert list(documents.iterdir()) == []

    reopened = open_store(kiosk.path)
    try:
        view = DossierService(reopened, catalog).show(ref)
        # What the audit needs remains: reference, démarche, state, journal.
        assert view.summary.state is DossierState.ACCEPTE and view.answers == {}
        assert view.summary.usager is None and view.summary.immatriculation is None
        assert view.journal[0].kind == "creation"
        last = AuditLog(reopened).entries(limit=1)[0]
        assert last.action == AuditAction.PURGED and last.dossier_ref == ref
        assert last.detail == {"etat": "accepte", "fichiers": 1}
        assert AuditLog(reopened).verify().ok
    finally:
        reopened.close()


def test_a_shared_file_stays_while_another_dossier_uses_it(
    tmp_path: Path, kiosk: Store, catalog: Catalog, clock: Clock
) -> None:
    documents = tmp_path / "documents"
    old = _dossier(kiosk, catalog, clock, documents)
    _decide(kiosk, old, "refuse")
    clock.now += timedelta(days=20)
    recent = _dossier(kiosk, catalog, clock, documents)  # the same scan, so the same file
    _decide(kiosk, recent, "refuse")
    retention = RetentionService(kiosk, documents, clock=clock)
    clock.now += timedelta(days=15)
    report = retention.purge()
    assert [d.reference for d in report.dossiers] == [old] and report.files_deleted == 0
    (scan,) = documents.iterdir()
    assert DocumentStore(documents).read(scan) == SCAN
    clock.now += timedelta(days=20)
    assert retention.purge().files_deleted == 1
    assert list(documents.iterdir()) == []


def test_untouched_drafts_are_erased_and_closed(
    tmp_path: Path, kiosk: Store, catalog: Catalog, clock: Clock
) -> None:
    documents = tmp_path / "documents"
    draft = _dossier(kiosk, catalog, clock, documents, scan=b"%PDF draft")
    kept = DossierService(kiosk, catalog, clock=clock).create("succession").reference
    clock.now += timedelta(days=89)
    DossierService(kiosk, catalog, clock=clock).answer(kept, "nom", "Garde")
    clock.now += timedelta(days=2)
    retention = RetentionService(kiosk, documents, clock=clock)
    assert [d.reference for d in retention.due()] == [draft]
    retention.purge()
    service = DossierService(kiosk, catalog, clock=clock)
    # An emptied draft cannot be filled in again.
    assert service.show(draft).summary.state is DossierState.ABANDONNE
    assert service.show(kept).answers == {"nom": "Garde"}


def test_the_delays_come_from_the_settings(tmp_path: Path) -> None:
    settings = resolve(
        environ={"PN_KIOSK_RETENTION_DECISION_DAYS": "7", "PN_KIOSK_RETENTION_DRAFT_DAYS": ""},
        default_file=tmp_path / "absent.toml",
    ).settings
    assert settings.retention_policy() == RetentionPolicy(timedelta(days=7), timedelta(days=90))
    with pytest.raises(SettingsError, match="nombre entier de jours"):
        resolve(
            environ={"PN_KIOSK_RETENTION_DRAFT_DAYS": "trois"},
            default_file=tmp_path / "absent.toml",
        )


def test_the_purge_command_simulates_then_erases(
    tmp_path: Path, kiosk: Store, catalog: Catalog, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    documents = tmp_path / "documents"
    ref = _dossier(kiosk, catalog, clock, documents)
    DossierService(kiosk, catalog, clock=clock).abandon(ref)
    kiosk.close()
    base = ["--db", str(kiosk.path), "--data-dir", str(tmp_path)]
    # The dossier was changed « in 2026-03 »: by the real clock, long past 90 days.
    assert main([*base, "--json", "purge", "--dry-run"]) == 0
    simulated = json.loads(capsys.readouterr().out)
    assert simulated["simulation"] is True and simulated["dossiers"][0]["reference"] == ref
    assert len(list(documents.iterdir())) == 1
    assert main([*base, "purge"]) == 0
    out = capsys.readouterr().out
    assert "1 dossier(s) effacé(s), 1 fichier(s) supprimé(s)." in out and ref in out
    assert list(documents.iterdir()) == []


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_kiosk_purges_by_itself_without_anyone_running_the_command(
    tmp_path: Path, kiosk: Store, catalog: Catalog, clock: Clock
) -> None:
    """The app and ``kiosk sync --watch`` start this schedule; here with a short first delay."""
    documents = tmp_path / "documents"
    ref = _dossier(kiosk, catalog, clock, documents)  # last changed in March 2026
    _decide(kiosk, ref, "refuse")
    schedule = PurgeSchedule(RetentionService(kiosk, documents), interval=3600, first_delay=0.01)
    schedule.start()
    try:
        assert _wait_for(lambda: schedule.runs >= 1)
    finally:
        schedule.stop()
    assert schedule.last is not None and [d.reference for d in schedule.last.dossiers] == [ref]
    assert DossierService(kiosk, catalog).show(ref).summary.usager is None
    assert list(documents.iterdir()) == []


def test_a_failed_purge_is_retried_at_the_next_round(
    tmp_path: Path, kiosk: Store, catalog: Catalog, clock: Clock
) -> None:
    documents = tmp_path / "documents"
    ref = _dossier(kiosk, catalog, clock, documents)
    _decide(kiosk, ref, "accepte")

    class DiskFullTwice(RetentionService):
        failures = 0

        def purge(self, *, dry_run: bool = False) -> PurgeReport:
            if self.failures < 2:
                self.failures += 1
                raise OSError(28, "No space left on device")
            return super().purge(dry_run=dry_run)

    schedule = PurgeSchedule(DiskFullTwice(kiosk, documents), interval=0.01, first_delay=0.01)
    schedule.start()
    try:
        assert _wait_for(lambda: schedule.last is not None)  # the thread survived two failures
    finally:
        schedule.stop()
    assert schedule.runs >= 3
    assert DossierService(kiosk, catalog).show(ref).summary.usager is None


def test_the_purge_interval_comes_from_the_settings(kiosk: Store, tmp_path: Path) -> None:
    def hours(value: str) -> float:
        environ = {"PN_KIOSK_PURGE_HOURS": value} if value else {}
        return resolve(environ=environ, default_file=tmp_path / "absent.toml").settings.purge_hours

    assert hours("") == 6
    assert hours("0,5") == 0.5  # as a French agent writes it
    for typo in ("chaque nuit", "-3"):
        with pytest.raises(SettingsError, match="nombre d'heures"):
            hours(typo)
    policy = RetentionPolicy()
    assert start_purge_schedule(kiosk, tmp_path, policy=policy, hours=hours("0")) is None
    schedule = start_purge_schedule(kiosk, tmp_path, policy=policy, hours=hours("0.5"))
    assert schedule is not None
    schedule.stop()


def _left_scans(tmp_path: Path) -> tuple[Path, FolderSource]:
    """A scanner's folder (the default one of ``tmp_path``) with a scan nobody attached and
    training mode's made-up page."""
    folder = tmp_path / "numerisations"
    folder.mkdir()
    Image.new("RGB", (20, 10), "white").save(folder / "oubliee.png", "PNG")
    sample = folder / "exemple.png"
    Image.new("RGB", (20, 10), "white").save(sample, "PNG")
    return folder, FolderSource(folder, keep=[sample])


def test_the_kiosk_sweeps_scans_left_in_the_scanner_folder_after_an_hour(
    tmp_path: Path, kiosk: Store
) -> None:
    """A crash or a power cut skipped the end of a session: its scans go at the next round
    (the first comes two minutes after start)."""
    folder, scans = _left_scans(tmp_path)
    two_hours_on = datetime.now(UTC) + timedelta(hours=2)
    schedule = PurgeSchedule(
        RetentionService(kiosk, tmp_path / "documents"),
        interval=3600,
        first_delay=0.01,
        scans=scans,
        clock=lambda: two_hours_on,
    )
    schedule.start()
    try:
        assert _wait_for(lambda: schedule.runs >= 1)
    finally:
        schedule.stop()
    assert [p.name for p in folder.iterdir()] == ["exemple.png"]  # training's made-up page stays


def test_the_purge_command_leaves_a_scan_of_the_hour(
    tmp_path: Path, kiosk: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scan of the last hour may be a session's under way: ``kiosk purge`` keeps it."""
    folder, _ = _left_scans(tmp_path)
    kiosk.close()
    base = ["--db", str(kiosk.path), "--data-dir", str(tmp_path)]
    assert main([*base, "--json", "purge"]) == 0
    assert json.loads(capsys.readouterr().out)["numerisations_supprimees"] == 0
    assert (folder / "oubliee.png").exists()
    assert main([*base, "purge"]) == 0
    assert "0 numérisation(s) laissée(s) supprimée(s)" in capsys.readouterr().out
