"""The journal of a site store, a chain per counter (migration 0011): each chain checked on its
own, a break named with its counter, and the final fingerprint a supervisor notes covering every
chain (one cut short or removed whole changes it). Real PostgreSQL; the rows an attacker would
edit are edited as read from it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.cli import main
from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.security.audit import AuditLog, entry_hash, verify_chains
from kiosk.store import Store, open_store

UNUSED = Path("pas-de-fichier/kiosk.sqlite3")
_COLUMNS = "chain, seq, at, agent_id, action, dossier_ref, detail, prev_hash, hash"


@pytest.fixture
def site_journal(site_url: str, catalog: Catalog) -> Iterator[list[tuple[Any, ...]]]:
    """A site store where two counters saved a dossier each: its journal's raw rows."""
    for counter in ("guichet-1", "guichet-2"):
        store = open_store(UNUSED, url=site_url, chain=counter)
        try:
            service = DossierService(store, catalog)
            ref = service.create("succession").reference
            service.answer(ref, "nom", "Martin")
            service.answer(ref, "prenoms", "Léonie")
        finally:
            store.close()
    store = open_store(UNUSED, url=site_url)
    try:
        with store.read() as s:
            rows = s.execute(text(f"SELECT {_COLUMNS} FROM audit ORDER BY chain, seq")).all()
        yield [tuple(r) for r in rows]
    finally:
        store.close()


def test_every_counters_chain_verifies_and_is_listed(site_journal: list[tuple[Any, ...]]) -> None:
    result = verify_chains(site_journal)
    assert result.ok
    assert [(c.name, c.count) for c in result.chains] == [("guichet-1", 3), ("guichet-2", 3)]
    assert result.count == 6
    # Not any one chain's last hash: the fingerprint covers them all.
    assert result.head not in {c.head for c in result.chains}


def test_a_changed_entry_is_named_with_its_counter(site_journal: list[tuple[Any, ...]]) -> None:
    rows = [(*r[:3], 99, *r[4:]) if r[0] == "guichet-2" and r[1] == 2 else r for r in site_journal]
    result = verify_chains(rows)
    assert [(b.kind, b.message) for b in result.breaks] == [
        ("modifiee", "guichet-2 : l'entrée n° 2 a été modifiée")
    ]


def test_an_entry_moved_to_another_counters_chain_does_not_verify_there(
    site_journal: list[tuple[Any, ...]],
) -> None:
    # guichet-2's last entry appended to guichet-1's chain, its link and number rewritten: its
    # hash covers its chain's name, so it is no longer an entry of any chain.
    last_1 = [r for r in site_journal if r[0] == "guichet-1"][-1]
    moved = [r for r in site_journal if r[0] == "guichet-2"][-1]
    forged = ("guichet-1", last_1[1] + 1, *moved[2:7], last_1[8], moved[8])
    result = verify_chains([*site_journal, forged])
    assert not result.ok
    assert any(b.message.startswith("guichet-1 : ") for b in result.breaks)


def test_a_chain_cut_short_or_removed_whole_changes_the_final_fingerprint(
    site_journal: list[tuple[Any, ...]],
) -> None:
    noted = verify_chains(site_journal).head
    cut = [r for r in site_journal if not (r[0] == "guichet-2" and r[1] == 3)]
    removed = [r for r in site_journal if r[0] != "guichet-2"]
    assert verify_chains(cut).ok and verify_chains(cut).head != noted
    assert verify_chains(removed).ok and verify_chains(removed).head != noted


def test_a_lone_kiosks_fingerprint_is_its_last_entrys_hash_as_before() -> None:
    # The anchor noted before 0011 on a lone kiosk still holds: one chain « », its last hash.
    at = "2026-12-01T09:00:00.000000Z"
    first = (1, at, None, "evenement", None, "{}", "0" * 64)
    digest = entry_hash(first)
    result = verify_chains([("", *first, digest)])
    assert result.ok and result.head == digest


def test_kiosk_audit_verify_lists_the_chains_of_a_site_store(
    site_journal: list[tuple[Any, ...]],
    site_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--db-url", site_url, "--data-dir", str(tmp_path), "audit", "verify"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Journal de sécurité intact : 6 entrée(s), 2 chaîne(s)." in out
    assert "  - guichet-1 : 3 entrée(s), dernière empreinte " in out
    head = verify_chains(site_journal).head
    assert f"Empreinte finale (toutes les chaînes) : {head}" in out
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["empreinte_finale"] == head
    assert [c["chaine"] for c in data["chaines"]] == ["guichet-1", "guichet-2"]


def test_the_journal_shows_both_counters_entries_in_the_order_of_time(
    site_journal: list[tuple[Any, ...]], site_url: str
) -> None:
    store: Store = open_store(UNUSED, url=site_url)
    try:
        entries = AuditLog(store).entries(limit=4)
    finally:
        store.close()
    assert [e.number for e in entries] == [
        "guichet-1 n° 3",
        "guichet-2 n° 1",
        "guichet-2 n° 2",
        "guichet-2 n° 3",
    ]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
