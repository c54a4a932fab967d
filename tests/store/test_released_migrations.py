"""Released migrations are never edited in place.

A kiosk in the field records the revision its database is at and never runs that revision's
migration again: a change to a released file reaches no kiosk that already ran it, only new
ones, and the two then differ for good (issue 13: 0002 created the outbox empty, so dossiers
queued under 0001 were never sent; the repair is the new revision 0004, not an edited 0002).

TO THE NEXT DEVELOPER: if this test fails because you changed a file below, undo the change and
write a NEW revision (``kiosk/store/migrations/versions/000N_….py``, ``down_revision`` the
current head, ``HEAD_REVISION`` in kiosk/store/schema.py) that brings every existing database
where you want it. When you add a revision, add its line here in the same commit; when a
release changes the on-disk format, add an upgrade fixture too (docs/architecture.md,
« Upgrades »).
"""

from __future__ import annotations

import hashlib

from kiosk.store.engine import MIGRATIONS_DIR

#: SHA-256 of each migration file as released. Never change a line: add a revision.
RELEASED = {
    "0001_initial.py": "6850376d26f68d8ba8aa79c31f002c8beb49c05b7d0f018b630ceb9c272ea1fa",
    "0002_outbox.py": "5b0bf939121b83f4e9c533b754ed2ec540ab281d6eafb15fe8714a8440da6119",
    "0003_audit.py": "974074b485057ef71fd1aab39ad8a4287a59a73c8c72e22d5e50341c956865af",
    "0004_outbox_backfill.py": "e283aaa9ec2904152be4b07755ad214b8256c4a55063056b12537450bdc4cf52",
    "0005_fees.py": "b2db5f03afca87da9f610136d46fe1173d744de35dbfc4cbbf55d7aa9d727ec8",
    "0006_payment.py": "defee9eee672a4f82f751f70ff1256cf58e70dff3dc4d47c09a71e88f5bfbfec",
    "0007_followup.py": "0bf592e1e40af61b400abb1e5d82ef5bf114c8b7effff7d698a639398684f156",
    "0008_search.py": "3e6b930e455e8d762828ead6f1547ea4054e5bf1bf8806d58fae0fb0a41d9465",
    "0009_sites.py": "b9aeb15cc782dfe046359a967e37edbc3778a7a6f6dd95c2baf0605bf4d4899c",
    "0010_audit_indexes.py": "86c21b856e4c16cecbf86349db0a83a8ddd45cf76d4e0e469c01bfb731e05ac8",
    "0011_audit_chains.py": "e4ba365f1cb06b3fc84362886e7f20d1b15e16be6589c4b2b16ee1d92037ff6c",
}


def test_released_migrations_are_unchanged() -> None:
    versions = MIGRATIONS_DIR / "versions"
    changed = [
        name
        for name, digest in RELEASED.items()
        if not (versions / name).is_file()
        or hashlib.sha256((versions / name).read_bytes()).hexdigest() != digest
    ]
    assert changed == [], (
        f"Migrations publiées modifiées ou supprimées : {changed}. Une migration publiée ne se"
        " modifie jamais : annulez le changement et écrivez une nouvelle révision."
    )


def test_every_migration_is_listed() -> None:
    # A revision missing here could be edited unnoticed once released.
    files = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    assert files == sorted(RELEASED)
