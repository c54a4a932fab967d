"""A search by name in milliseconds at 100,000 dossiers, on an encrypted store (issue 18).

A search by name matched its dossiers through the surname's index, then read each one's person
row (for its id) and dossier row (to order them, most recent first): with SQLCipher every such
page is decrypted and authenticated, so a common surname (thousands of dossiers) cost thousands
of random pages. Two covering indexes answer it from their own pages:

- ``usager``: ``ix_usager_nom`` on the surname key, the given names' key and the dossier id
  (replacing ``ix_usager_nom_norm``, the surname alone); on PostgreSQL with ``text_pattern_ops``,
  so that a prefix (``LIKE 'MART%'``) uses it whatever the server's locale;
- ``dossier``: ``ix_dossier_recent`` on the id and the time of the last change.

Only indexes change: no row is touched.

Revision ID: 0008_search
Revises: 0007_followup
Create Date: 2026-12-05 04:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_search"
down_revision: str | None = "0007_followup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PATTERN_OPS = {"nom_norm": "text_pattern_ops", "prenoms_norm": "text_pattern_ops"}


def upgrade() -> None:
    op.create_index(
        "ix_usager_nom",
        "usager",
        ["nom_norm", "prenoms_norm", "dossier_id"],
        postgresql_ops=_PATTERN_OPS,
    )
    op.drop_index("ix_usager_nom_norm", table_name="usager")
    op.create_index("ix_dossier_recent", "dossier", ["id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_dossier_recent", table_name="dossier")
    op.create_index("ix_usager_nom_norm", "usager", ["nom_norm"])
    op.drop_index("ix_usager_nom", table_name="usager")
