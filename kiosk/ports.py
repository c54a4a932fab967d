"""Small interfaces to hardware the domain does not know: printers and scan sources here; card
readers in ``kiosk.identity``; the national service in the sync layer's ports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class PrintError(Exception):
    """The document could not be printed; the message is in French, for the agent."""


class Printer(Protocol):
    """Prints a PDF (the receipt). Implementations live in ``devices/``."""

    @property
    def name(self) -> str:
        """What the agent sees ("Imprimante du guichet", "Dossier de sortie …")."""
        ...

    def print_pdf(self, pdf: bytes, *, title: str) -> str:
        """Print and return a short French confirmation; raise :class:`PrintError` on failure."""
        ...


@dataclass(frozen=True)
class ScannedFile:
    """A scanned document offered for attachment."""

    path: Path
    mime_type: str
    size: int


class ScanSource(Protocol):
    """Where scans come from (a scanner's output folder). Implementations live in ``devices/``."""

    def files(self, limit: int = 24) -> list[ScannedFile]:
        """Accepted files, most recent first."""
        ...

    def read(self, scanned: ScannedFile) -> bytes:
        """A file's bytes."""
        ...


@dataclass(frozen=True)
class ConnectionBadge:
    """What the home screen's badge shows: is the national service reachable, how many
    dossiers wait to be sent (produced by the sync layer, shown by the UI)."""

    configured: bool
    online: bool
    waiting: int
    detail: str = ""
