"""0006_payment on a database of the release before: nothing lost, the new states allowed, the
others still refused (the state's CHECK constraint was rewritten in place, never rebuilt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kiosk.store import open_store
from kiosk.store.engine import _alembic_config, _make_engine


def _at_0005(path: Path) -> None:
    engine = _make_engine(path, None, read_only=False)
    config = _alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005_fees")
        conn.exec_driver_sql(
            "INSERT INTO dossier (id, reference, demarche_id, demarche_version, state, routage,"
            " created_at, updated_at, training) VALUES ('d1', 'PN-AAAA-AAAA', 'permis', 1,"
            " 'transmis', 'standard', '2026-12-01T10:00:00.000000Z',"
            " '2026-12-01T10:00:00.000000Z', 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO answer (dossier_id, path, value, updated_at)"
            " VALUES ('d1', 'nom', '\"Martin\"', '2026-12-01T10:00:00.000000Z')"
        )
        conn.commit()
    engine.dispose()


def test_an_0005_database_takes_the_payment_states_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    _at_0005(path)
    store = open_store(path, encrypted=False)
    with store.write() as s:
        s.execute(text("UPDATE dossier SET state = 'attente_paiement' WHERE id = 'd1'"))
    with store.write() as s:
        s.execute(text("UPDATE dossier SET state = 'paye' WHERE id = 'd1'"))
    with pytest.raises(IntegrityError), store.write() as s:
        s.execute(text("UPDATE dossier SET state = 'n_importe_quoi' WHERE id = 'd1'"))
    with store.read() as s:
        assert s.execute(text("SELECT state FROM dossier")).scalar() == "paye"
        assert s.execute(text("SELECT value FROM answer WHERE dossier_id = 'd1'")).scalar() == (
            '"Martin"'
        )
        assert s.execute(text("SELECT COUNT(*) FROM paiement")).scalar() == 0
        assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert s.execute(text("PRAGMA foreign_key_check")).all() == []
    store.close()
