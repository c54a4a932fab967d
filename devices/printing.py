"""Printers for the receipt: CUPS through ``lp``, or a folder (training mode, no printer).

CUPS takes a PDF as it is, so the receipt printed is byte for byte the one rendered; ``lp`` is
the stable interface of every CUPS version.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from kiosk.ports.devices import PrintError


class CupsPrinter:
    """A CUPS queue (the default one when ``destination`` is None)."""

    def __init__(self, destination: str | None = None, *, timeout: float = 30.0) -> None:
        self._destination = destination
        self._timeout = timeout

    @property
    def name(self) -> str:
        """The queue name as the agent knows it."""
        return self._destination or "imprimante par défaut"

    def print_pdf(self, pdf: bytes, *, title: str) -> str:
        """Send the PDF to CUPS."""
        lp = shutil.which("lp")
        if lp is None:
            raise PrintError("Aucun service d'impression (CUPS) n'est installé sur ce poste.")
        command = [lp, "-t", title]
        if self._destination:
            command += ["-d", self._destination]
        try:
            result = subprocess.run(  # noqa: S603 - fixed program, no shell
                command, input=pdf, capture_output=True, timeout=self._timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise PrintError("L'imprimante ne répond pas : vérifiez qu'elle est allumée.") from exc
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip()
            raise PrintError(f"L'impression a échoué ({self.name}) : {detail}")
        return f"Reçu envoyé à l'imprimante ({self.name})."


class FolderPrinter:
    """Writes each printed PDF into a folder: training mode, or a kiosk with no printer."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @property
    def name(self) -> str:
        """The folder the PDFs land in."""
        return str(self._folder)

    def print_pdf(self, pdf: bytes, *, title: str) -> str:
        """Save the PDF under a timestamped name."""
        safe = re.sub(r"[^A-Za-z0-9_-]+", "-", title).strip("-") or "document"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            target = self._folder / f"{stamp}-{safe}.pdf"
            target.write_bytes(pdf)
        except OSError as exc:
            raise PrintError(f"Impossible d'enregistrer le reçu dans {self._folder}.") from exc
        return f"Reçu enregistré : {target}"
