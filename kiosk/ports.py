"""Small interfaces to hardware the domain does not know: printers here; card readers in
``kiosk.identity``; the national service in the sync layer's ports."""

from __future__ import annotations

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
