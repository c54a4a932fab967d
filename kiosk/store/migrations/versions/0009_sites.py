"""Sites (issue 17): documents reachable from every counter, receipts followed from any kiosk.

**Documents.**
A site's counters share one store on the site server (docs/sites.md); its scans must be read at
any counter too (a dossier started at one counter, finished at another, sent by a third). They
are kept in the store, sealed exactly as the files of a lone kiosk are (AES-256-GCM under the
site's documents key, named by an HMAC of their content): the table holds only sealed bytes,
which the database server cannot read. A lone kiosk's SQLite store keeps its documents as files
and leaves this table empty.

**Receipts followed anywhere.** A dossier filed from now on carries ``verificateur``, SHA-256 of
« reference, newline, the receipt's verification code », so that any kiosk reading the receipt's
QR code can ask the national service for its state (``POST /v1/suivi``). It is fixed when the
dossier is queued and kept on its outbox row (``outbox.verificateur``), because a filing is resent
byte for byte under its idempotency key: a row queued by an earlier version (no verifier) is
resent without one, never with a body its first attempt did not have.

Revision ID: 0009_sites
Revises: 0008_search
Create Date: 2026-12-05 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_sites"
down_revision: str | None = "0008_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_site",
        sa.Column("nom", sa.String(length=100), nullable=False),
        sa.Column("contenu", sa.LargeBinary(), nullable=False),
        sa.Column("cree_le", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("nom"),
    )
    op.add_column("outbox", sa.Column("verificateur", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("verificateur")
    op.drop_table("document_site")
