"""The audit journal without its two unique indexes on ``hash`` and ``prev_hash`` (issue 18).

Every autosave appends one audit entry, and with SQLCipher every page it writes is encrypted
and authenticated: the two unique indexes (0003) were two of the ten pages an autosave wrote,
each on a random 64-character hash. They protect nothing the rest does not:

- an entry's ``seq`` is its predecessor's plus one, read in the same write transaction as its
  ``prev_hash`` (kiosk/security/audit.py, under the writer lock): two entries naming the same
  predecessor would carry the same ``seq``, which the primary key refuses;
- ``hash`` covers ``seq``: two entries with one hash would have one ``seq`` too;
- an entry written in the raw file under a new number but chained onto an older entry (what
  the unique ``prev_hash`` alone refused) makes two entries follow one: ``kiosk audit verify``
  reports it as a fork (« fourche », kiosk/security/audit.py), as it reports any other
  tampering.

On SQLite a constraint cannot be dropped: the table is rebuilt (its rows copied as they are,
its index on ``dossier_ref`` and its append-only triggers made again; dropping the old table
fires no trigger). On PostgreSQL the two constraints are dropped by the names the server gave
them.

Revision ID: 0010_audit_indexes
Revises: 0009_sites
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_audit_indexes"
down_revision: str | None = "0009_sites"
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


def _rebuild_sqlite(*, unique: bool) -> None:
    """The audit table made again with (``unique``) or without the two unique constraints."""
    constraints = ", UNIQUE (hash), UNIQUE (prev_hash)" if unique else ""
    op.execute(
        "CREATE TABLE audit_0010 ("
        " seq INTEGER NOT NULL,"
        " at VARCHAR(32) NOT NULL,"
        " agent_id INTEGER,"
        " action VARCHAR(32) NOT NULL,"
        " dossier_ref VARCHAR(16),"
        " detail TEXT NOT NULL,"
        " prev_hash VARCHAR(64) NOT NULL,"
        " hash VARCHAR(64) NOT NULL,"
        f" PRIMARY KEY (seq){constraints})"
    )
    op.execute(f"INSERT INTO audit_0010 ({_COLUMNS}) SELECT {_COLUMNS} FROM audit ORDER BY seq")
    op.execute("DROP TABLE audit")
    op.execute("ALTER TABLE audit_0010 RENAME TO audit")
    op.create_index("ix_audit_dossier_ref", "audit", ["dossier_ref"])
    for trigger in _TRIGGERS:
        op.execute(trigger)


def _unique_constraints(columns: list[str]) -> list[str]:
    """The names PostgreSQL gave the unique constraints on exactly one of ``columns``."""
    found = sa.inspect(op.get_bind()).get_unique_constraints("audit")
    return [str(c["name"]) for c in found if list(c["column_names"]) in [[n] for n in columns]]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(unique=False)
        return
    for name in _unique_constraints(["hash", "prev_hash"]):
        op.drop_constraint(name, "audit", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(unique=True)
        return
    op.create_unique_constraint("audit_hash_key", "audit", ["hash"])
    op.create_unique_constraint("audit_prev_hash_key", "audit", ["prev_hash"])
