"""The audit journal on real SQLite files: what it records, and tampering it reveals.

Triggers stop ordinary tampering, so these tests tamper as an attacker holding the raw file would:
drop the triggers through a raw SQLCipher connection (key file in hand), then edit, delete or
reorder rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from app.cli import main
from kiosk.demarches import Catalog
from kiosk.dossiers.mandate import MandateService
from kiosk.dossiers.service import DossierService
from kiosk.security.agents import AgentService
from kiosk.security.audit import GENESIS, AuditAction, AuditLog, entry_hash
from kiosk.store import Store, open_store
from kiosk.store.engine import connect_raw


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.sqlite3"


@pytest.fixture
def kiosk(db: Path) -> Iterator[Store]:
    opened = open_store(db)
    yield opened
    opened.close()


def _some_activity(store: Store, catalog: Catalog) -> str:
    """Seven entries: an agent created, a dossier created, three answers, abandoned, viewed."""
    agent = AgentService(store).add("alice", "Alice", "1234").id
    service = DossierService(store, catalog)
    ref = service.create("succession", agent_id=agent).reference
    service.answer(ref, "nom", "Martin", agent_id=agent)
    service.answer(ref, "prenoms", "Léonie", agent_id=agent)
    service.answer(ref, "nom", "Dupont", agent_id=agent)
    service.abandon(ref, reason="Mme Martin reviendra", agent_id=agent)
    service.viewed(ref, agent_id=agent)
    return ref


def _raw(db: Path) -> Any:
    """The attacker's connection (holding the key file too): no triggers in the way."""
    conn = connect_raw(db)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def _verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict[str, Any]]:
    code = main(["--db", str(db), "--data-dir", str(db.parent), "audit", "verify"])
    out = capsys.readouterr().out
    main(["--db", str(db), "--data-dir", str(db.parent), "audit", "verify", "--json"])
    return code, out, json.loads(capsys.readouterr().out)


def test_actions_are_recorded_without_the_values(kiosk: Store, catalog: Catalog) -> None:
    ref = _some_activity(kiosk, catalog)
    entries = AuditLog(kiosk).entries(limit=50)
    assert [e.action for e in entries] == [
        AuditAction.AGENT_CREATED,
        AuditAction.DOSSIER_CREATED,
        AuditAction.DOSSIER_CHANGED,
        AuditAction.DOSSIER_CHANGED,
        AuditAction.DOSSIER_CHANGED,
        AuditAction.STATE_CHANGED,
        AuditAction.DOSSIER_VIEWED,
    ]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6, 7]
    assert {e.dossier_ref for e in entries[1:]} == {ref}
    assert entries[2].detail == {"champ": "nom"} and entries[2].agent_id == entries[0].agent_id
    assert entries[5].detail == {"de": "brouillon", "vers": "abandonne"}
    with kiosk.read() as s:
        dump = " ".join(str(r) for r in s.execute(text("SELECT * FROM audit")).all())
    # Neither the answers nor the reason typed by the agent reach the journal.
    for personal in ("Martin", "Léonie", "Dupont", "reviendra"):
        assert personal not in dump


def test_mandate_receipt_and_identity_events_are_audited(kiosk: Store, catalog: Catalog) -> None:
    service = DossierService(kiosk, catalog)
    ref = service.create("succession").reference
    mandates = MandateService(kiosk)
    words = mandates.text_for(
        reference=ref, usager="Léonie MARTIN", agent="A", guichet="G", demarche="D"
    )
    agent = AgentService(kiosk).add("alice", "Alice", "1234").id
    mandates.sign(ref, words, b"\x89PNG signature", agent_id=agent)
    service.record_event(
        ref,
        "identite_lue",
        {"verdict": "authentique", "protocole": "PACE", "nom": "MARTIN"},
        agent_id=agent,
    )
    service.record_event(ref, "recepisse", {"pages": 1})
    last = AuditLog(kiosk).entries(limit=3)
    assert [e.action for e in last] == [
        AuditAction.MANDATE_SIGNED,
        AuditAction.IDENTITY_READ,
        AuditAction.RECEIPT_PRINTED,
    ]
    # A key outside the allow-list (a name slipped in by a caller) is dropped.
    assert last[1].detail == {"verdict": "authentique", "protocole": "PACE"}


def test_the_journal_refuses_update_and_delete(kiosk: Store, catalog: Catalog) -> None:
    _some_activity(kiosk, catalog)
    for statement in ("UPDATE audit SET action = 'x' WHERE seq = 2", "DELETE FROM audit"):
        with pytest.raises(DatabaseError, match="ajout seul"), kiosk.write() as s:
            s.execute(text(statement))
    assert len(AuditLog(kiosk).entries(limit=50)) == 7


def test_an_intact_journal_verifies(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_activity(kiosk, catalog)
    code, out, data = _verify(db, capsys)
    assert code == 0
    assert "intact : 7 entrée(s)" in out
    assert data["ok"] is True and data["entrees"] == 7


def test_a_changed_entry_is_named(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_activity(kiosk, catalog)
    _raw(db).execute("UPDATE audit SET agent_id = 99 WHERE seq = 3")
    code, out, data = _verify(db, capsys)
    assert code == 1
    assert "ALTÉRÉ" in out and "l'entrée n° 3 a été modifiée" in out
    assert data["ruptures"] == [
        {"type": "modifiee", "position": 3, "message": "l'entrée n° 3 a été modifiée"}
    ]


def test_a_changed_entry_whose_hash_was_recomputed_is_named(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_activity(kiosk, catalog)
    conn = _raw(db)
    row = conn.execute(
        "SELECT seq, at, agent_id, action, dossier_ref, detail, prev_hash FROM audit WHERE seq=3"
    ).fetchone()
    forged = (*row[:5], '{"champ":"autre"}', row[6])
    conn.execute(
        "UPDATE audit SET detail = ?, hash = ? WHERE seq = 3", (forged[5], entry_hash(forged))
    )
    code, out, _ = _verify(db, capsys)
    assert code == 1 and "l'entrée n° 3 a été modifiée" in out


def test_a_removed_entry_is_located(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_activity(kiosk, catalog)
    _raw(db).execute("DELETE FROM audit WHERE seq = 4")
    code, out, data = _verify(db, capsys)
    assert code == 1
    assert "entrée n° 4 supprimée (entre le n° 3 et le n° 5)" in out
    assert [b["type"] for b in data["ruptures"]] == ["supprimee"]


def test_a_removal_hidden_by_renumbering_is_still_located(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_activity(kiosk, catalog)
    conn = _raw(db)
    conn.execute("DELETE FROM audit WHERE seq = 2")
    conn.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 2")
    code, out, _ = _verify(db, capsys)
    assert code == 1
    assert "entrée n° 2 supprimée (entre le n° 1 et le n° 3)" in out


def test_removing_the_first_entries_is_seen(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_activity(kiosk, catalog)
    _raw(db).execute("DELETE FROM audit WHERE seq <= 2")
    code, out, _ = _verify(db, capsys)
    assert code == 1 and "supprimée(s) avant le n° 3" in out


def test_reordered_entries_are_named(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_activity(kiosk, catalog)
    conn = _raw(db)
    conn.execute("UPDATE audit SET seq = -1 WHERE seq = 3")
    conn.execute("UPDATE audit SET seq = 3 WHERE seq = 4")
    conn.execute("UPDATE audit SET seq = 4 WHERE seq = -1")
    code, out, data = _verify(db, capsys)
    assert code == 1
    assert "ordre modifié : l'entrée n° 4 a été déplacée en position 3" in out
    assert "l'entrée n° 3 a été déplacée en position 4" in out
    assert {b["type"] for b in data["ruptures"]} == {"ordre"}


def test_the_first_entry_chains_on_zeros(kiosk: Store, catalog: Catalog) -> None:
    _some_activity(kiosk, catalog)
    with kiosk.read() as s:
        first = s.execute(text("SELECT prev_hash FROM audit WHERE seq = 1")).scalar_one()
    assert first == GENESIS


def test_two_writers_at_once_never_fork_the_chain(db: Path, catalog: Catalog) -> None:
    stores = [open_store(db), open_store(db)]
    try:
        ref = DossierService(stores[0], catalog).create("succession").reference
        errors: list[BaseException] = []

        def write(store: Store, field: str) -> None:
            service = DossierService(store, catalog)
            try:
                for i in range(25):
                    service.answer(ref, field, f"Nom{i}")
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [
            threading.Thread(target=write, args=(stores[0], "nom")),
            threading.Thread(target=write, args=(stores[1], "prenoms")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        result = AuditLog(stores[0]).verify()
        assert result.ok and result.count == 51
    finally:
        for store in stores:
            store.close()


def test_audit_show_prints_the_last_entries(
    db: Path, kiosk: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _some_activity(kiosk, catalog)
    args = ["--db", str(db), "--data-dir", str(db.parent), "audit", "show", "--limit", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert "changement d'état" in out[0] and ref in out[0]
    assert "dossier consulté" in out[1]
    main(["--db", str(db), "--data-dir", str(db.parent), "--json", "audit", "show"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["numero"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
