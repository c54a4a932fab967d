"""The tariff files the reference server publishes (``GET /v1/tarifs``, ``/v1/tarifs/{version}``).

At start, the kiosk's own shipped files (``assets/tarifs``); ``POST /_control/tarifs`` adds or
replaces one, as the national service would publish a new period. The server publishes what it
is given, unchecked: a test can publish a broken or hostile file, or announce a SHA-256 that is
not the file's, to see the kiosk refuse it.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
FILE_NAME = re.compile(r"^tarif\.(\d{4}-\d{2}-\d{2})\.toml$")


@dataclass(frozen=True)
class Published:
    """One published file and what the list announces of it."""

    version: str
    content: bytes
    sha256: str  # announced (the file's own unless a test says otherwise)

    def entry(self) -> dict[str, Any]:
        """Its line of the list."""
        return {
            "version": self.version,
            "en_vigueur_du": self.version,
            "sha256": self.sha256,
            "taille": len(self.content),
        }


class TariffShelf:
    """The published tariffs, by version (thread-safe: the server answers on several threads)."""

    def __init__(self, folder: Path | None = None) -> None:
        """``folder``: the files to publish at start (the kiosk's shipped ones by default)."""
        if folder is None:
            from kiosk.fees import default_tariffs_dir

            folder = default_tariffs_dir()
        self._lock = threading.Lock()
        self._files: dict[str, Published] = {}
        for path in sorted(folder.glob("tarif.*.toml")):
            match = FILE_NAME.match(path.name)
            if match:
                self.publish(match.group(1), path.read_bytes())

    def publish(self, version: str, content: bytes, sha256: str | None = None) -> Published:
        """Publish (or replace) a version; ``sha256``: announce another digest than the file's."""
        if not VERSION.fullmatch(version):
            raise ValueError(version)
        item = Published(version, content, sha256 or hashlib.sha256(content).hexdigest())
        with self._lock:
            self._files[version] = item
        return item

    def listing(self) -> list[dict[str, Any]]:
        """Every published file, oldest first."""
        with self._lock:
            return [self._files[v].entry() for v in sorted(self._files)]

    def get(self, version: str) -> Published | None:
        """One published file, None when unknown."""
        with self._lock:
            return self._files.get(version)
