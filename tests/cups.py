"""A real, throw-away CUPS server for the tests: Debian's ``cupsd`` with its configuration,
spool, cache and logs in a temporary folder, listening on a free loopback port and on a socket
of its own, with virtual PDF printers (``printer-driver-cups-pdf``); stopped and removed at the
end of the session. The machine's own CUPS, if any, is neither used nor touched.

One thing cannot live in the temporary folder: the cups-pdf backend reads its configuration
from ``/etc/cups`` only (the path is compiled in), choosing ``cups-pdf-NAME.conf`` for a queue
whose device is ``cups-pdf:/NAME``. Each queue gets such a file, named after this process (so
that two test runs on one machine never share one), pointing its output into the temporary
folder; they are removed with the server, and one left by a run that was killed is removed by
the next run. The backend refuses to run but as root, and ``cupsd`` runs it as root only when
it runs as root itself: the tests do (CI and the development containers run as root).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Where the cups-pdf backend reads its configuration (compiled in: see the module docstring).
CUPS_PDF_CONFIG = Path("/etc/cups")
BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
_PREFIX = "pntest"
#: CUPS' client programs in English, whatever the machine's language (outputs are read).
_ENV = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


class NoCups(RuntimeError):
    """CUPS or cups-pdf is not installed, or the tests do not run as root."""


@dataclass(frozen=True)
class PdfQueue:
    """A virtual printer: each job printed on it lands as a PDF file in ``folder``."""

    name: str
    folder: Path

    def pdfs(self) -> list[Path]:
        """The PDF files printed so far, oldest first."""
        return sorted(self.folder.glob("*.pdf"), key=lambda p: p.stat().st_mtime_ns)


@dataclass
class CupsServer:
    """A running throw-away ``cupsd``."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes]
    configs: list[Path] = field(default_factory=list)
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def address(self) -> str:
        """``127.0.0.1:port``, as ``lp -h`` and the ``serveur_impression`` setting take it."""
        return f"127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> str:
        """The server's own socket, the other form the setting takes."""
        return str(self.folder / "cups.sock")

    def run(self, program: str, *args: str) -> str:
        """One of CUPS' client programs against this server; its output.

        Raises:
            subprocess.CalledProcessError: it failed (its output is attached).
        """
        return subprocess.run(
            [program, "-h", self.address, *args],
            capture_output=True,
            text=True,
            check=True,
            env=_ENV,
            timeout=60,
        ).stdout

    def add_pdf_queue(self, name: str | None = None) -> PdfQueue:
        """A new enabled queue printing into a folder of its own."""
        tag = f"{_PREFIX}{os.getpid()}x{next(self._names)}"
        queue = PdfQueue(name or tag, self.folder / "pdf" / tag)
        queue.folder.mkdir(parents=True)
        config = CUPS_PDF_CONFIG / f"cups-pdf-{tag}.conf"
        self.configs.append(config)
        config.write_text(
            f"Out {queue.folder}\n"
            f"AnonDirName {queue.folder}\n"
            f"Spool {self.folder / 'cups-pdf-spool'}\n"
            f"Log {self.folder / 'log'}\n"
            "Grp root\n",
            encoding="utf-8",
        )
        self.run("lpadmin", "-p", queue.name, "-E", "-v", f"cups-pdf:/{tag}", "-P", str(PPD))
        return queue

    def pending(self, queue: PdfQueue) -> list[str]:
        """The jobs of ``queue`` not finished (waiting, printing, held by a stopped queue)."""
        return [line for line in self.run("lpstat", "-o", queue.name).splitlines() if line]

    def wait_printed(self, queue: PdfQueue, count: int = 1, *, within: float = 60.0) -> list[Path]:
        """The queue's PDFs once ``count`` of them are written and no job is left (cups-pdf
        writes the file in place: it is whole only once its job is over).

        Raises:
            AssertionError: not so within ``within`` seconds (the server's log is attached).
        """
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if len(queue.pdfs()) >= count and not self.pending(queue):
                return queue.pdfs()
            time.sleep(0.05)
        raise AssertionError(f"rien d'imprimé sur {queue.name} :\n{self.log_tail()}")

    def log_tail(self) -> str:
        """The end of the server's error log, for a failed test's output."""
        log = self.folder / "log" / "error_log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else "(pas de journal)"

    def stop(self) -> None:
        """Stop the server, remove its folder and the cups-pdf files it wrote in /etc/cups."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for config in self.configs:
            config.unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sweep_stale_configs() -> None:
    """Remove the cups-pdf files of earlier runs whose process is gone (a killed run)."""
    for config in CUPS_PDF_CONFIG.glob(f"cups-pdf-{_PREFIX}*.conf"):
        found = re.fullmatch(rf"cups-pdf-{_PREFIX}(\d+)x\d+\.conf", config.name)
        if found is None:
            continue
        try:
            os.kill(int(found.group(1)), 0)
        except ProcessLookupError:
            config.unlink(missing_ok=True)
        except PermissionError:
            continue  # alive, someone else's


def start_cups() -> CupsServer:
    """Start a server (no queue yet: :meth:`CupsServer.add_pdf_queue`).

    Raises:
        NoCups: cupsd or cups-pdf is missing, or the tests do not run as root.
        AssertionError: the server did not start (its log is attached).
    """
    cupsd = shutil.which("cupsd", path=_ENV["PATH"])
    if cupsd is None or not BACKEND.is_file() or not PPD.is_file():
        raise NoCups(
            "CUPS et cups-pdf ne sont pas installés (cupsd, le pilote cups-pdf) : lancez"
            " scripts/bootstrap.sh test, qui installe les paquets Debian cups et"
            " printer-driver-cups-pdf."
        )
    if os.geteuid() != 0:
        raise NoCups("le pilote cups-pdf ne s'exécute qu'en root : lancez les tests en root.")
    _sweep_stale_configs()
    folder = Path(tempfile.mkdtemp(prefix="pn-cups-"))
    # cupsd runs its filters as « lp »: they must reach the spool under this folder.
    folder.chmod(0o755)
    for sub in ("etc", "spool/tmp", "cache", "state", "log", "pdf", "cups-pdf-spool"):
        (folder / sub).mkdir(parents=True)
    port = free_port()
    (folder / "etc" / "cups-files.conf").write_text(
        f"ServerRoot {folder}/etc\n"
        f"RequestRoot {folder}/spool\n"
        f"TempDir {folder}/spool/tmp\n"
        f"CacheDir {folder}/cache\n"
        f"StateDir {folder}/state\n"
        f"AccessLog {folder}/log/access_log\n"
        f"ErrorLog {folder}/log/error_log\n"
        f"PageLog {folder}/log/page_log\n"
        "ServerBin /usr/lib/cups\n"
        "DataDir /usr/share/cups\n"
        "User lp\nGroup lp\nSystemGroup root\nFileDevice No\n",
        encoding="utf-8",
    )
    # Anyone on this machine may do anything: a throw-away server on loopback and a socket.
    (folder / "etc" / "cupsd.conf").write_text(
        f"Listen 127.0.0.1:{port}\n"
        f"Listen {folder}/cups.sock\n"
        "LogLevel info\nBrowsing Off\nBrowseLocalProtocols none\nWebInterface No\n"
        "DefaultAuthType None\n"
        "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
        "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n",
        encoding="utf-8",
    )
    with (folder / "log" / "stderr").open("wb") as stderr_file:  # (the child keeps its copy)
        process = subprocess.Popen(
            [cupsd, "-f", "-c", f"{folder}/etc/cupsd.conf", "-s", f"{folder}/etc/cups-files.conf"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
            env=_ENV,
        )
    server = CupsServer(folder, port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return server
        time.sleep(0.05)
    stderr = (folder / "log" / "stderr").read_text(errors="replace")
    log = server.log_tail()
    server.stop()
    raise AssertionError(f"cupsd n'a pas démarré :\n{stderr}\n{log}")
