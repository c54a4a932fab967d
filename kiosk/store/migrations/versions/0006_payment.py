"""Paying without a bank card: the states « en attente de paiement » and « payé », the timbres
given at the counter, and the payment reference of a dossier.

- ``dossier.state`` takes two more values (``attente_paiement``, ``paye``). Its CHECK constraint
  lists the allowed values; on SQLite a constraint cannot be altered, and rebuilding ``dossier``
  would be worse than useless: dropping it with foreign keys on (every kiosk connection has them)
  deletes, by cascade, the answers, documents and journal of every dossier. The list only grows,
  so every row already there satisfies the new one: SQLite documents that such a change may be
  made by rewriting the table's definition in ``sqlite_schema`` (« Making Other Kinds Of Table
  Schema Changes », https://www.sqlite.org/lang_altertable.html), which is what is done here,
  in the migration's transaction, with the schema version bumped so that every connection reads
  it again. On another database the constraint is dropped and created again.
- ``paiement``: one row per timbre fiscal électronique given for a dossier (sent once to the
  national service with its own idempotency key).
- ``reference_paiement``: the reference (and QR text) the national service gave a dossier.

Revision ID: 0006_payment
Revises: 0005_fees
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_payment"
down_revision: str | None = "0005_fees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "'a_completer', 'abandonne')"
_NEW = "'a_completer', 'abandonne', 'attente_paiement', 'paye')"
_CHECK_NEW = (
    "state IN ('brouillon', 'pret', 'en_file', 'transmis', 'accepte', 'refuse',"
    " 'a_completer', 'abandonne', 'attente_paiement', 'paye')"
)


def _widen_state_check(old: str, new: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        op.drop_constraint("dossier_state", "dossier", type_="check")
        check = _CHECK_NEW if new == _NEW else _CHECK_NEW.replace(", 'attente_paiement', 'paye'", "")
        op.create_check_constraint("dossier_state", "dossier", check)
        return
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'dossier'"
    ).scalar_one()
    if new in sql:
        return
    if sql.count(old) != 1:
        raise RuntimeError("contrainte dossier_state inattendue : migration 0006 impossible")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'dossier'"
            ),
            {"sql": sql.replace(old, new)},
        )
        conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _widen_state_check(_OLD, _NEW)
    op.create_table(
        "paiement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("timbre", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("next_attempt_at", sa.String(length=32), nullable=False),
        sa.Column("last_attempt_at", sa.String(length=32), nullable=True),
        sa.Column("done_at", sa.String(length=32), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("remaining_cents", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('en_attente', 'envoi', 'accepte', 'refuse')", name="paiement_state"
        ),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_paiement_dossier_id", "paiement", ["dossier_id"])
    op.create_index("ix_paiement_due", "paiement", ["state", "next_attempt_at"])
    op.create_table(
        "reference_paiement",
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("obtained_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dossier_id"),
    )


def downgrade() -> None:
    op.drop_table("reference_paiement")
    op.drop_index("ix_paiement_due", table_name="paiement")
    op.drop_index("ix_paiement_dossier_id", table_name="paiement")
    op.drop_table("paiement")
    _widen_state_check(_NEW, _OLD)
