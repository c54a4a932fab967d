"""A dossier keeps the fees it was filed with, and the amount the national service says due.

One row per dossier in ``estimation``, written when the dossier is filed (the estimate, with
the version of the tariff used) and completed by the national service's acknowledgement (the
amount due, in integer cents). Dossiers filed before this revision get no row: nothing here
computes an estimate (a migration must keep meaning what it meant when it was released; the
kiosk computes theirs at the day of their filing when asked).

Revision ID: 0005_fees
Revises: 0004_outbox_backfill
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_fees"
down_revision: str | None = "0004_outbox_backfill"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "estimation",
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("tariff_version", sa.String(length=32), nullable=True),
        sa.Column("fees_on", sa.Date(), nullable=True),
        sa.Column("computed_at", sa.String(length=32), nullable=True),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=True),
        sa.Column("missing", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("total_cents", sa.Integer(), nullable=True),
        sa.Column("amount_due_cents", sa.Integer(), nullable=True),
        sa.Column("amount_due_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dossier_id"),
    )


def downgrade() -> None:
    op.drop_table("estimation")
