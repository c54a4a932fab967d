"""Printers for the receipt: CUPS through ``lp``, or a folder (training mode, no printer).

CUPS takes a PDF as it is, so the receipt printed is byte for byte the one rendered; ``lp`` is
the stable interface of every CUPS version. Before sending, the queue is looked at with
``lpoptions``, whose IPP attributes (``printer-state=5``) are never translated, unlike the
sentences of ``lpstat``: a stopped queue would otherwise take the job silently and keep it
until someone restarts it, the agent believing the receipt printed; ``lp`` also says « the
printer does not exist » when it is the server that does not answer, which would send the
agent to the wrong fault. The server is the one named by the settings (``lp -h``), else the
system's (``CUPS_SERVER``, ``/etc/cups/client.conf``). docs/devices.md tells how it is tested
against a real ``cupsd``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from kiosk.ports.devices import PrintError

#: IPP's ``printer-state`` of a queue that is stopped (RFC 8011, 5.4.11): it takes jobs and
#: keeps them until it is started again (``cupsenable``).
_STOPPED = "5"


class CupsPrinter:
    """A CUPS queue (the default one when ``destination`` is None), on ``server`` (``host:port``
    or the path of its socket; the system's when None)."""

    def __init__(
        self, destination: str | None = None, *, server: str | None = None, timeout: float = 30.0
    ) -> None:
        self._destination = destination or None
        self._server = server or None
        self._timeout = timeout

    @property
    def name(self) -> str:
        """The queue name as the agent knows it."""
        return self._destination or "imprimante par défaut"

    def print_pdf(self, pdf: bytes, *, title: str) -> str:
        """Send the PDF to CUPS (worker thread: it waits on the print server).

        Raises:
            PrintError: no CUPS on this machine, the server does not answer, the queue does
                not exist, is stopped or refuses jobs, or ``lp`` failed: nothing was queued.
        """
        lp = shutil.which("lp")
        if lp is None:
            raise PrintError("Aucun service d'impression (CUPS) n'est installé sur ce poste.")
        self._check_queue()
        command = [lp, *self._on_server(), "-t", title]
        if self._destination:
            command += ["-d", self._destination]
        result = self._run(command, pdf)
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip()
            raise PrintError(f"L'impression a échoué ({self.name}) : {detail}")
        return f"Reçu envoyé à l'imprimante ({self.name})."

    def _on_server(self) -> list[str]:
        return ["-h", self._server] if self._server else []

    def _run(self, command: list[str], data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(  # noqa: S603 - fixed programs, no shell
                command, input=data, capture_output=True, timeout=self._timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise PrintError("L'imprimante ne répond pas : vérifiez qu'elle est allumée.") from exc

    def _check_queue(self) -> None:
        """Refuse at once, before anything is queued, a queue CUPS would not print on now.

        Without ``lpoptions`` (a CUPS client without it, a stand-in ``lp`` in a test), the
        job is sent as it is and ``lp`` alone decides.
        """
        lpoptions = shutil.which("lpoptions")
        if lpoptions is None:
            return
        command = [lpoptions, *self._on_server()]
        if self._destination:
            command += ["-p", self._destination]
        output = self._run(command).stdout.decode(errors="replace")
        attributes = dict(item.partition("=")[::2] for item in _split(output))
        state = attributes.get("printer-state")
        if state is None:  # nothing known of it: no server, or no such queue
            if not self._server_answers():
                where = self._server or "de ce poste"
                raise PrintError(
                    f"Le service d'impression ({where}) ne répond pas : vérifiez que le serveur"
                    " d'impression est allumé et relié au réseau, puis imprimez de nouveau."
                )
            if self._destination is None:
                raise PrintError(
                    "Aucune imprimante par défaut n'est définie sur le service d'impression :"
                    " choisissez-en une (réglage peripheriques.imprimante)."
                )
            raise PrintError(
                f"L'imprimante « {self._destination} » n'existe pas sur le service"
                " d'impression : vérifiez son nom (réglage peripheriques.imprimante)."
            )
        if state == _STOPPED:
            reasons = attributes.get("printer-state-reasons", "")
            why = f" ({reasons})" if reasons and reasons != "none" else ""
            raise PrintError(
                f"L'imprimante « {self.name} » est arrêtée{why} : vérifiez qu'elle est allumée,"
                " a du papier et n'est pas bloquée, remettez-la en marche (cupsenable), puis"
                " imprimez de nouveau."
            )
        if attributes.get("printer-is-accepting-jobs") == "false":
            raise PrintError(
                f"L'imprimante « {self.name} » refuse les impressions pour le moment"
                " (cupsaccept pour la rouvrir) : imprimez de nouveau ensuite."
            )

    def _server_answers(self) -> bool:
        """Whether the print server accepts a connection (True when it cannot be told)."""
        server = self._server
        if server is None:  # the system's: lpstat -H names it (not a translated sentence)
            lpstat = shutil.which("lpstat")
            if lpstat is None:
                return True
            server = self._run([lpstat, "-H"]).stdout.decode(errors="replace").strip()
        if not server:
            return True
        try:
            if server.startswith("/"):
                with socket.socket(socket.AF_UNIX) as unix:
                    unix.settimeout(min(self._timeout, 5.0))
                    unix.connect(server)
            else:
                host, port = _host_port(server)
                socket.create_connection((host, port), timeout=min(self._timeout, 5.0)).close()
        except OSError:
            return False
        return True


def _split(output: str) -> list[str]:
    """``lpoptions``' words (quoted as a shell quotes), or none if it printed nonsense."""
    try:
        return shlex.split(output)
    except ValueError:
        return []


def _host_port(server: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` → host and port (631, IPP's, by default)."""
    host, colon, port = server.rpartition(":")
    if not colon or not port.isdigit() or (host.count(":") and not host.endswith("]")):
        return server.strip("[]"), 631
    return host.strip("[]"), int(port)


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
