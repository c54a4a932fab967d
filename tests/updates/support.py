"""Bundles signed the way the reference server signs them (sync/server/bundles.py), with its TEST
key, read through the client's envelope check (sync/answers.py): what the kiosk receives."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from kiosk.updates import PinnedKey, SignedBundle, parse_keys
from sync import answers
from sync.server.bundles import envelope, public_text, reference_key

KEY = reference_key()
PINNED: tuple[PinnedKey, ...] = parse_keys([public_text(KEY)])
ISSUED = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)


def signed(
    kind: str, serial: int, files: Mapping[str, bytes], *, fault: str | None = None
) -> SignedBundle:
    """A bundle as the reference server publishes it (``fault``: spoilt after signing)."""
    content = envelope(kind, serial, files, key=KEY, issued_at=ISSUED, fault=fault)
    return answers.bundle(content, kind, serial)


def signed_manifest(
    manifest: bytes, files: Mapping[str, bytes], *, kind: str = "demarches", serial: int = 2
) -> SignedBundle:
    """Any manifest, truly signed by the pinned key: what a service that signs a mistake sends."""
    return SignedBundle(
        kind, serial, PINNED[0].id, manifest, KEY.sign(manifest), tuple(files.items())
    )
