"""After the counter: typed reasons, documents issued by the national service, contact attempts,
text messages, consent to be contacted, mandates with a scope and a revocation.

- ``avis_national`` gains ``motifs`` (the typed reasons, JSON) and ``date_limite``.
- ``document_national``: a document the service issued (provisional certificate, decision
  letter), announced by the feed, its bytes fetched later and stored encrypted.
- ``tentative_contact``: every attempt to reach the person (call, letter, text, counter), with
  its date, agent and outcome.
- ``notification``: the text messages queued for the national notification endpoint, each sent
  once under its own idempotency key.
- ``dossier.consentement_contact_at``: when the person agreed to be contacted by the dossier's
  channel (``contact_mode``).
- ``mandat`` gains ``portee``, ``duree_jours``, ``revoked_at`` and ``revoked_by``.

Only tables and nullable columns are added: every existing row keeps its meaning.

Revision ID: 0007_followup
Revises: 0006_payment
Create Date: 2026-12-05 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_followup"
down_revision: str | None = "0006_payment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN, never a batch rebuild: rebuilding ``dossier`` with foreign
    # keys on would delete, by cascade, every dossier's answers, documents and journal (0006).
    op.add_column("avis_national", sa.Column("motifs", sa.Text(), nullable=True))
    op.add_column("avis_national", sa.Column("date_limite", sa.Date(), nullable=True))
    # A dossier's latest notice, looked up for every line of the worklist.
    op.create_index("ix_avis_national_dossier", "avis_national", ["dossier_id", "id"])
    # The worklist reads dossiers' states from these alone (kiosk/followup/worklist.py).
    op.create_index("ix_dossier_suivi", "dossier", ["state", "purged_at", "id"])
    op.create_index("ix_dossier_purge", "dossier", ["id", "purged_at"])
    op.add_column(
        "dossier", sa.Column("consentement_contact_at", sa.String(length=32), nullable=True)
    )
    op.add_column("mandat", sa.Column("portee", sa.String(length=64), nullable=True))
    op.add_column("mandat", sa.Column("duree_jours", sa.Integer(), nullable=True))
    op.add_column("mandat", sa.Column("revoked_at", sa.String(length=32), nullable=True))
    op.add_column("mandat", sa.Column("revoked_by", sa.Integer(), nullable=True))
    op.create_table(
        "document_national",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("avis_id", sa.Integer(), nullable=True),
        sa.Column("remote_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column("announced_at", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("printed_at", sa.String(length=32), nullable=True),
        sa.Column("handed_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["avis_id"], ["avis_national.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "remote_id", name="uq_document_national"),
    )
    op.create_table(
        "tentative_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("avis_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["avis_id"], ["avis_national.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tentative_contact_dossier", "tentative_contact", ["dossier_id", "at"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("avis_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("next_attempt_at", sa.String(length=32), nullable=False),
        sa.Column("last_attempt_at", sa.String(length=32), nullable=True),
        sa.Column("done_at", sa.String(length=32), nullable=True),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["avis_id"], ["avis_national.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key", name="uq_notification_key"),
        sa.CheckConstraint(
            "state IN ('en_attente', 'envoi', 'acquitte', 'rejete')", name="notification_state"
        ),
    )
    op.create_index("ix_notification_due", "notification", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notification_due", table_name="notification")
    op.drop_table("notification")
    op.drop_index("ix_tentative_contact_dossier", table_name="tentative_contact")
    op.drop_table("tentative_contact")
    op.drop_table("document_national")
    op.drop_index("ix_avis_national_dossier", table_name="avis_national")
    op.drop_index("ix_dossier_purge", table_name="dossier")
    op.drop_index("ix_dossier_suivi", table_name="dossier")
    for table, column in (
        ("mandat", "revoked_by"),
        ("mandat", "revoked_at"),
        ("mandat", "duree_jours"),
        ("mandat", "portee"),
        ("dossier", "consentement_contact_at"),
        ("avis_national", "date_limite"),
        ("avis_national", "motifs"),
    ):
        op.drop_column(table, column)  # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): no rebuild
