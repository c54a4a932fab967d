"""What a signed bundle is: the values the national service publishes, the limits the kiosk
holds them to, and the refusal it reports (the format itself: docs/sync.md, « Signed updates of
the démarches and tariffs »).

A bundle (« paquet ») carries every file of one kind (``demarches``: the definitions and their
translations; ``tarifs``: the tariff files) with a manifest naming each file's size and SHA-256,
and an Ed25519 signature over the manifest's exact bytes by a key the kiosk pins. Nothing here
reads the network or the disk: the client (``sync/``) hands a :class:`SignedBundle` over, and
:mod:`kiosk.updates.verify` and :mod:`kiosk.updates.folder` decide and install.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = [
    "FORMAT",
    "KINDS",
    "MAX_BUNDLE_BYTES",
    "MAX_CONTENT_BYTES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_MANIFEST_BYTES",
    "SAFE_NAME",
    "BundleKind",
    "BundleRefused",
    "Manifest",
    "ManifestFile",
    "PublishedBundle",
    "SignedBundle",
    "safe_name",
]

#: The manifest's layout; a later one is refused by this kiosk rather than half understood.
FORMAT = 1
#: What a bundle may carry, as the contract and the manifest write it.
KINDS = ("demarches", "tarifs")
#: The whole download (the JSON envelope, files in base64): abandoned past it, and a bundle the
#: list announces larger is not downloaded. Today's démarches weigh ~0.6 MB in base64.
MAX_BUNDLE_BYTES = 4_000_000
#: The manifest, checked before a byte of it is parsed (400 files take ~40 kB).
MAX_MANIFEST_BYTES = 64_000
#: One file (a démarche is ~13 kB, a tariff ~18 kB): the tariffs' own limit of before.
MAX_FILE_BYTES = 256_000
#: Every file of a bundle together.
MAX_CONTENT_BYTES = 2_500_000
MAX_FILES = 400
#: The only names a bundle's file may have, whatever its kind: one name, never a path (no
#: « / », no « .. », no leading dot), lower-case ASCII. Each kind narrows it further.
SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*")
_MAX_NAME = 80  # the envelope allows 100: a longer name is the kiosk's refusal, reported


class BundleRefused(Exception):
    """A bundle that is not installed; ``str()`` says why in plain French (the audit journal,
    ``kiosk sync status``). Nothing of it was written where the kiosk reads."""


@dataclass(frozen=True)
class PublishedBundle:
    """One line of the service's list: which kind, its serial number and the size of its
    download in bytes (announced: the download is abandoned past what a kiosk takes)."""

    kind: str
    serial: int
    size: int


@dataclass(frozen=True)
class SignedBundle:
    """A bundle as downloaded, not yet trusted: the manifest's exact bytes, the signature over
    them, the id of the key that made it (as the envelope says), and the files by name."""

    kind: str  # the one asked for
    serial: int  # the one asked for
    key_id: str
    manifest: bytes
    signature: bytes
    files: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class ManifestFile:
    """One file the manifest names."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """A manifest whose signature was checked against a pinned key, then read strictly."""

    kind: str
    serial: int
    issued_at: datetime
    files: tuple[ManifestFile, ...]
    key_id: str


def safe_name(name: str) -> bool:
    """Whether ``name`` is a plain file name a bundle may carry (no path of any kind)."""
    return len(name) <= _MAX_NAME and SAFE_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class BundleKind:
    """What the kiosk does with one kind of bundle (given by the capability that reads it:
    kiosk/demarches/installed.py, kiosk/fees/installed.py).

    ``accepts`` is the allow-list of names (beyond :func:`safe_name`); ``place`` where a file
    goes inside the installed folder (a translation into ``i18n/``); ``shipped`` the folder of
    the files the kiosk ships, laid out the same: a file the same there is not written again;
    ``check`` runs the strict loader over the whole new folder (``previous``: the one in use),
    raising :class:`BundleRefused`.
    """

    name: str
    label: str  # in French, for messages: « démarches »
    accepts: Callable[[str], bool]
    place: Callable[[str], str]
    check: Callable[[Path, Path | None], None]
    shipped: Path | None = None
