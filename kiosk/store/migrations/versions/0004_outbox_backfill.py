"""Outbox rows for dossiers queued before the outbox existed.

Schema 0001 had dossiers « en file » but no outbox; 0002 created the table empty, so a dossier
queued by a 0001 kiosk was never sent after the upgrade and ``sync status`` counted 0 waiting.
This revision gives every dossier « en file » that has no outbox row at all the row the « prêt →
en file » transition writes today (kiosk/sync/outbox.py): sequence 1, the dossier's id as its
idempotency key (so a server that did receive it replays its answer), due at once. A dossier
with rows already is left alone: a new key for it could file it twice. Released migrations are never edited in place: this one repairs
what 0002 left.

Revision ID: 0004_outbox_backfill
Revises: 0003_audit
Create Date: 2026-12-04 23:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004_outbox_backfill"
down_revision: str | None = "0003_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stranded = conn.execute(
        sa.text(
            "SELECT d.id, d.updated_at,"
            " (SELECT max(e.at) FROM event e WHERE e.dossier_id = d.id AND e.to_state = 'en_file')"
            " FROM dossier d WHERE d.state = 'en_file'"
            " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dossier_id = d.id)"
        )
    ).all()
    for dossier_id, updated_at, queued_at in stranded:
        # kiosk.sync.outbox.idempotency_key for a first filing (not imported: a migration must
        # keep meaning what it meant when it was released).
        conn.execute(
            sa.text(
                "INSERT INTO outbox (dossier_id, seq, idempotency_key, state, attempts,"
                " created_at, next_attempt_at)"
                " VALUES (:d, 1, :d, 'en_attente', 0, :created, :now)"
            ),
            {"d": dossier_id, "created": queued_at or updated_at, "now": now},
        )


def downgrade() -> None:
    # The rows added are ordinary pending sends; removing them would strand the dossiers again.
    pass
