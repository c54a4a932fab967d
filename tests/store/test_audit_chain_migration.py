"""0011_audit_chains on a store of the release before, SQLite and PostgreSQL: the journal kept
entry for entry as the chain « », its final fingerprint unchanged (an anchor noted before the
upgrade still holds), still append-only; a lone kiosk goes on in that chain, a site's counter
starts its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.security.audit import AuditLog
from kiosk.store import Store, open_store
from kiosk.store.schema import HEAD_REVISION
from tests.store.test_audit_index_migration import store_at, write_old_entries

UNUSED = Path("pas-de-fichier/kiosk.sqlite3")
BEFORE = "0010_audit_indexes"
_COLUMNS = "seq, at, agent_id, action, dossier_ref, detail, prev_hash, hash"


@pytest.fixture(params=["sqlite", "postgresql"])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A store migrated to 0010 (the release before) with five entries, and its address."""
    yield from _old_store(request.param, request, tmp_path)


@pytest.fixture
def old_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    yield from _old_store("postgresql", request, tmp_path)


@pytest.fixture
def old_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    yield from _old_store("sqlite", request, tmp_path)


def _old_store(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, str]]:
    for engine, where in store_at(BEFORE, kind, request, tmp_path):
        write_old_entries(engine, 5)
        yield engine, where


def _open(where: str, chain: str = "") -> Store:
    if where.startswith("postgresql"):
        return open_store(UNUSED, url=where, chain=chain)
    return open_store(Path(where), encrypted=False)


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {_COLUMNS} FROM audit ORDER BY seq"))]


def test_the_journal_becomes_the_chain_of_before_with_its_fingerprint(
    old_store: tuple[Engine, str], catalog: Catalog
) -> None:
    engine, where = old_store
    before = _rows(engine)
    noted = before[-1][-1]  # the anchor a supervisor noted: the last entry's hash
    upgraded = _open(where)
    try:
        with upgraded.read() as s:
            version = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == HEAD_REVISION
        assert _rows(engine) == before
        result = AuditLog(upgraded).verify()
        assert result.ok and result.head == noted
        assert [(c.name, c.count) for c in result.chains] == [("", 5)]
        with engine.connect() as conn:
            inspector = inspect(conn)
            key = inspector.get_pk_constraint("audit")["constrained_columns"]
            indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("audit")}
        assert key == ["chain", "seq"]
        assert indexes["ix_audit_dossier_ref"] == ["dossier_ref"]
        for statement in ("UPDATE audit SET action = 'x'", "DELETE FROM audit"):
            with pytest.raises(DBAPIError, match="en ajout seul"), upgraded.write() as s:
                s.execute(text(statement))
        # A lone kiosk (and a counter without an identifier yet) goes on in the same chain.
        DossierService(upgraded, catalog).create("succession")
        after = AuditLog(upgraded).verify()
        assert after.ok and [(c.name, c.count) for c in after.chains] == [("", 6)]
    finally:
        upgraded.close()


def test_a_sites_counter_starts_its_own_chain_beside_the_closed_one(
    old_site: tuple[Engine, str], catalog: Catalog
) -> None:
    _engine, where = old_site
    counter = _open(where, chain="guichet-1")
    try:
        DossierService(counter, catalog).create("succession")
        result = AuditLog(counter).verify()
    finally:
        counter.close()
    assert result.ok
    assert [(c.name, c.count) for c in result.chains] == [("", 5), ("guichet-1", 1)]


def test_the_sqlite_journal_has_no_rowid_so_an_entry_writes_no_extra_page(
    old_sqlite: tuple[Engine, str],
) -> None:
    engine, where = old_sqlite
    _open(where).close()
    with engine.connect() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'audit'")).scalar()
        automatic = conn.execute(
            text(
                "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'audit'"
                " AND name LIKE 'sqlite_autoindex%'"
            )
        ).scalar()
    assert str(sql).rstrip().endswith("WITHOUT ROWID")
    assert automatic == 0  # the key is the table's own order, not an index beside it
