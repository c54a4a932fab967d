"""The schema revision this version of the kiosk writes.

Kept as a constant so that opening an up-to-date database does not load Alembic at all; a test
checks that it matches the head of ``migrations/versions``.
"""

HEAD_REVISION = "0011_audit_chains"
