"""The store on real SQLite files: pragmas, migrations, refusal of newer or foreign files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kiosk.store import NewerDatabaseError, StoreError, open_store
from kiosk.store.engine import MIGRATIONS_DIR, connect_raw
from kiosk.store.models import Base
from kiosk.store.schema import HEAD_REVISION


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_connection_is_durable_and_checks_foreign_keys(tmp_path: Path) -> None:
    store = open_store(tmp_path / "k.sqlite3")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_head_constant_matches_the_migration_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrations_build_exactly_the_models_schema(tmp_path: Path) -> None:
    store = open_store(tmp_path / "k.sqlite3")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == []


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    store = open_store(path)
    with store.write() as s:
        s.execute(text("INSERT INTO setting(key, value) VALUES ('a', 'b')"))
    store.close()
    store = open_store(path)
    with store.read() as s:
        assert s.execute(text("SELECT value FROM setting WHERE key='a'")).scalar() == "b"
    store.close()


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    open_store(path).close()
    with connect_raw(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    before = _digest(path)
    with pytest.raises(NewerDatabaseError, match="version plus récente"):
        open_store(path)
    assert _digest(path) == before


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    path.write_bytes(b"ceci n'est pas une base SQLite" * 200)
    before = _digest(path)
    with pytest.raises(StoreError, match="n'a pas été modifié"):
        open_store(path)
    assert _digest(path) == before


def test_the_journal_refuses_updates_and_deletes(tmp_path: Path) -> None:
    store = open_store(tmp_path / "k.sqlite3")
    with store.write() as s:
        s.execute(
            text(
                "INSERT INTO dossier(id, reference, demarche_id, demarche_version, state, routage,"
                " created_at, updated_at, training) VALUES ('d', 'PN-0000-0000', 'x', 1,"
                " 'brouillon', 'standard', 't', 't', 0)"
            )
        )
        s.execute(text("INSERT INTO event(dossier_id, at, kind) VALUES ('d', 't', 'creation')"))
    for statement in ("UPDATE event SET kind = 'autre'", "DELETE FROM event"):
        with pytest.raises(IntegrityError, match="ajout seul"), store.write() as s:
            s.execute(text(statement))
    with store.read() as s:
        assert s.execute(text("SELECT kind FROM event")).scalars().all() == ["creation"]
    store.close()
