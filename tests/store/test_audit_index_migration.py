"""0010_audit_indexes on a store of the release before, SQLite and PostgreSQL: the journal kept
entry for entry and still append-only, its two unique indexes gone, and a fork of the chain
still impossible to write (the primary key on ``seq``) and reported if forged in the raw file
(the chain check)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.security.audit import GENESIS, AuditLog, entry_hash
from kiosk.store import Store, open_store
from kiosk.store.engine import _alembic_config, _make_engine
from kiosk.store.schema import HEAD_REVISION
from kiosk.store.site import make_engine, parse_site_url

UNUSED = Path("pas-de-fichier/kiosk.sqlite3")
BEFORE = "0009_sites"


@pytest.fixture(params=["sqlite", "postgresql"])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """An empty store migrated to 0009 (the release before) and how to open it today."""
    yield from store_at(BEFORE, request.param, request, tmp_path)


def store_at(
    revision: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, str]]:
    """An empty store of ``kind`` (« sqlite », « postgresql ») migrated to ``revision``, and
    its address (a plain SQLite file, or the test's site database)."""
    if kind == "sqlite":
        path = tmp_path / "k.sqlite3"
        engine = _make_engine(path, None, read_only=False)
        where = str(path)
    else:
        where = request.getfixturevalue("site_url")
        engine = make_engine(parse_site_url(where))
    config = _alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
    yield engine, where
    engine.dispose()


def _open(where: str) -> Store:
    if where.startswith("postgresql"):
        return open_store(UNUSED, url=where)
    return open_store(Path(where), encrypted=False)


def _unique_on(engine: Engine, column: str) -> bool:
    with engine.connect() as conn:
        inspector = inspect(conn)
        constraints = inspector.get_unique_constraints("audit")
        indexes = inspector.get_indexes("audit")
    return any(c["column_names"] == [column] for c in constraints) or any(
        i["column_names"] == [column] and i["unique"] for i in indexes
    )


def test_the_journal_is_kept_and_its_unique_indexes_dropped(
    old_store: tuple[Engine, str], catalog: Catalog
) -> None:
    engine, where = old_store
    assert _unique_on(engine, "hash") and _unique_on(engine, "prev_hash")
    write_old_entries(engine, 4)
    before = _entries(engine)
    assert len(before) == 4

    upgraded = _open(where)
    try:
        with upgraded.read() as s:
            version = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == HEAD_REVISION
        assert _entries(engine) == before
        assert AuditLog(upgraded).verify().ok
        assert not _unique_on(engine, "hash") and not _unique_on(engine, "prev_hash")
        with engine.connect() as conn:
            indexes = {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("audit")}
        assert indexes["ix_audit_dossier_ref"] == ["dossier_ref"]
        # 0011 came after: the entries of the release before form the chain « ».
        assert [c.name for c in AuditLog(upgraded).verify().chains] == [""]
        # Still append-only, and the next entries chain on.
        for statement in ("UPDATE audit SET action = 'x'", "DELETE FROM audit"):
            with pytest.raises(DBAPIError, match="en ajout seul"), upgraded.write() as s:
                s.execute(text(statement))
        DossierService(upgraded, catalog).create("succession")
        after = AuditLog(upgraded).verify()
        assert after.ok and after.count == 5
    finally:
        upgraded.close()


def write_old_entries(engine: Engine, count: int) -> None:
    """``count`` entries as the releases before 0011 wrote them: one chain, no ``chain``."""
    with engine.begin() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit ORDER BY seq DESC")).first()
        seq, prev = (head[0], head[1]) if head else (0, GENESIS)
        for n in range(count):
            seq += 1
            at = datetime(2026, 12, 1, 9, n, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            fields = (seq, at, None, "evenement", None, f'{{"etat":"{n}"}}', prev)
            prev = entry_hash(fields)
            conn.execute(
                text(
                    "INSERT INTO audit (seq, at, agent_id, action, dossier_ref, detail,"
                    " prev_hash, hash) VALUES (:seq, :at, NULL, 'evenement', NULL, :detail,"
                    " :prev, :hash)"
                ),
                {"seq": seq, "at": at, "detail": fields[5], "prev": fields[6], "hash": prev},
            )


def _entries(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        columns = "seq, at, agent_id, action, dossier_ref, detail, prev_hash, hash"
        return [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM audit ORDER BY seq"))]


@pytest.mark.both_stores
def test_two_entries_chained_onto_one_share_a_number_and_the_second_is_refused(
    store: Store, catalog: Catalog
) -> None:
    # What the unique index on prev_hash refused before 0010: a second entry chained onto the
    # same predecessor. A writer reads the head and its number together, so the fork would
    # carry the head's next number too: the primary key refuses it.
    DossierService(store, catalog).create("succession")
    with store.read() as s:
        seq, at, head = s.execute(text("SELECT seq, at, hash FROM audit ORDER BY seq")).one()
    fields = (seq + 1, at, None, "evenement", None, "{}", head)
    insert = text(
        "INSERT INTO audit (chain, seq, at, agent_id, action, dossier_ref, detail, prev_hash,"
        " hash) VALUES ('', :seq, :at, NULL, 'evenement', NULL, '{}', :prev, :hash)"
    )
    values = {"seq": seq + 1, "at": at, "prev": head, "hash": entry_hash(fields)}
    with store.write() as s:
        s.execute(insert, values)
    # Another hash: only the number can be what refuses it.
    with pytest.raises(IntegrityError), store.write() as s:
        s.execute(insert, {**values, "hash": "f" * 64})
    assert AuditLog(store).verify().ok


@pytest.mark.both_stores
def test_a_fork_forged_under_a_new_number_is_reported_by_the_chain_check(
    store: Store, catalog: Catalog
) -> None:
    # Written in the raw file (the triggers refuse no INSERT): entry n° 4 chained onto n° 2,
    # which n° 3 already follows.
    service = DossierService(store, catalog)
    ref = service.create("succession").reference
    service.answer(ref, "nom", "Martin")
    service.answer(ref, "nom", "Dupont")
    with store.read() as s:
        at, second = s.execute(text("SELECT at, hash FROM audit WHERE seq = 2")).one()
    fields = (4, at, None, "evenement", None, "{}", second)
    with store.write() as s:
        s.execute(
            text(
                "INSERT INTO audit (chain, seq, at, agent_id, action, dossier_ref, detail,"
                " prev_hash, hash) VALUES ('', 4, :at, NULL, 'evenement', NULL, '{}', :prev,"
                " :hash)"
            ),
            {"at": at, "prev": second, "hash": entry_hash(fields)},
        )
    result = AuditLog(store).verify()
    assert not result.ok
    assert [(b.kind, b.position, b.message) for b in result.breaks] == [
        ("fourche", 4, "fourche : l'entrée n° 4 suit l'entrée n° 2, déjà suivie par l'entrée n° 3")
    ]
