"""Signed updates of the démarches and the tariffs: bundles from the national service, verified
against a pinned Ed25519 key, then installed all or nothing (docs/sync.md, « Signed updates of
the démarches and tariffs »).

The lowest of the domain's capabilities: no store, no network, no démarche or tariff of its
own. Each kind of bundle (:class:`BundleKind`) is given by the capability that reads its files
(kiosk/demarches/installed.py, kiosk/fees/installed.py); the use case that reports a refusal is
kiosk/sync/bundles.py.
"""

from kiosk.updates.bundle import (
    KINDS,
    MAX_BUNDLE_BYTES,
    BundleKind,
    BundleRefused,
    Manifest,
    ManifestFile,
    PublishedBundle,
    SignedBundle,
)
from kiosk.updates.folder import BundleFolder, Installed
from kiosk.updates.keys import PinnedKey, keys_fingerprint, parse_key, parse_keys
from kiosk.updates.verify import verify

__all__ = [
    "KINDS",
    "MAX_BUNDLE_BYTES",
    "BundleFolder",
    "BundleKind",
    "BundleRefused",
    "Installed",
    "Manifest",
    "ManifestFile",
    "PinnedKey",
    "PublishedBundle",
    "SignedBundle",
    "keys_fingerprint",
    "parse_key",
    "parse_keys",
    "verify",
]
