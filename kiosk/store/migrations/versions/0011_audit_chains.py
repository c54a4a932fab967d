"""The audit journal in chains: one per counter of a site store (issue 17).

Every unit of work appends to the journal, whose next entry depends on the last: with one chain
for a whole site, the counters' commits queued one behind the other, each waiting for the
others' ``fsync`` on the site server (autosave p95 25.7 ms with four counters saving, 50.2 ms
with eight; target 10). With a chain per counter, keyed by ``(chain, seq)``, two counters
append to two chains and commit together; a counter's own writers still queue on its chain.

- ``chain`` names the chain: « » (empty) for every entry written before, and for a lone
  kiosk's store, which keeps its one chain; a site's counter writes to its own, named by its
  identifier at the national service (kiosk/security/audit.py).
- The primary key becomes ``(chain, seq)``: an entry's ``seq`` is its predecessor's in the same
  chain plus one, so two entries chained onto one still share a key, which refuses the second
  (0010's guard, per chain).

On SQLite the table is rebuilt (a primary key cannot be changed in place) WITHOUT ROWID: the
key is then the table's own order and needs no index of its own, so an entry still writes the
row and its ``dossier_ref`` index, two pages; the rows are copied as they are, the index and
the append-only triggers made again (dropping the old table fires no trigger). On PostgreSQL
the column is added, then the key replaced. Going back refuses a journal with named chains:
the older schema has nowhere to keep them.

Revision ID: 0011_audit_chains
Revises: 0010_audit_indexes
Create Date: 2026-12-05 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_audit_chains"
down_revision: str | None = "0010_audit_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "seq, at, agent_id, action, dossier_ref, detail, prev_hash, hash"
#: The triggers of 0003, in the same SQLite syntax (env.py gives PostgreSQL its own form).
_TRIGGERS = (
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'le journal de sécurité est en ajout seul'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'le journal de sécurité est en ajout seul'); END",
)
_ENTRIES = (
    " seq INTEGER NOT NULL,"
    " at VARCHAR(32) NOT NULL,"
    " agent_id INTEGER,"
    " action VARCHAR(32) NOT NULL,"
    " dossier_ref VARCHAR(16),"
    " detail TEXT NOT NULL,"
    " prev_hash VARCHAR(64) NOT NULL,"
    " hash VARCHAR(64) NOT NULL,"
)


def _finish_sqlite() -> None:
    op.execute("DROP TABLE audit")
    op.execute("ALTER TABLE audit_0011 RENAME TO audit")
    op.create_index("ix_audit_dossier_ref", "audit", ["dossier_ref"])
    for trigger in _TRIGGERS:
        op.execute(trigger)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TABLE audit_0011 (chain VARCHAR(64) NOT NULL,"
            f"{_ENTRIES} PRIMARY KEY (chain, seq)) WITHOUT ROWID"
        )
        op.execute(
            f"INSERT INTO audit_0011 (chain, {_COLUMNS}) SELECT '', {_COLUMNS} FROM audit"
            " ORDER BY seq"
        )
        _finish_sqlite()
        return
    op.add_column(
        "audit", sa.Column("chain", sa.String(64), nullable=False, server_default="")
    )
    op.alter_column("audit", "chain", server_default=None)
    key = sa.inspect(op.get_bind()).get_pk_constraint("audit")["name"] or "audit_pkey"
    op.drop_constraint(key, "audit", type_="primary")
    op.create_primary_key("audit_pkey", "audit", ["chain", "seq"])


def downgrade() -> None:
    named = op.get_bind().execute(sa.text("SELECT count(*) FROM audit WHERE chain <> ''"))
    if named.scalar():
        raise RuntimeError(
            "Le journal de sécurité a des chaînes par borne : la version précédente ne sait pas"
            " les garder. Retour en arrière refusé, rien n'a été modifié."
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TABLE audit_0011 ({_ENTRIES} PRIMARY KEY (seq))")
        op.execute(f"INSERT INTO audit_0011 ({_COLUMNS}) SELECT {_COLUMNS} FROM audit ORDER BY seq")
        _finish_sqlite()
        return
    op.drop_constraint("audit_pkey", "audit", type_="primary")
    op.create_primary_key("audit_pkey", "audit", ["seq"])
    op.drop_column("audit", "chain")
