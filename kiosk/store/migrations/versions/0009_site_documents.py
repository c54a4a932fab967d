"""Supporting documents reachable from every counter of a site (issue 17).

A site's counters share one store on the site server (docs/sites.md); its scans must be read at
any counter too (a dossier started at one counter, finished at another, sent by a third). They
are kept in the store, sealed exactly as the files of a lone kiosk are (AES-256-GCM under the
site's documents key, named by an HMAC of their content): the table holds only sealed bytes,
which the database server cannot read. A lone kiosk's SQLite store keeps its documents as files
and leaves this table empty.

Revision ID: 0009_site_documents
Revises: 0008_search
Create Date: 2026-12-05 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_site_documents"
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


def downgrade() -> None:
    op.drop_table("document_site")
