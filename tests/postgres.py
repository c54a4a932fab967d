"""A real, throw-away PostgreSQL server for the tests: Debian's own binaries, a cluster in a
temporary folder, on a free loopback port, stopped and removed at the end of the session.

``initdb`` refuses to run as root (CI runs as root, without a terminal): there, the cluster
belongs to the ``postgres`` account Debian's package creates (``nobody`` otherwise), and its
programs run under that account (``subprocess``'s ``user=``, no ``sudo`` nor prompt). The
cluster trusts connections from this machine only, and is tuned for throw-away data (no fsync).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class NoPostgres(RuntimeError):
    """PostgreSQL's server programs are not installed (``scripts/bootstrap.sh test`` does)."""


def server_bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: ``pg_config --bindir``, Debian's versioned folders
    (newest first), then ``PATH``."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout
            candidates.append(Path(out.strip()))
    debian = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates += sorted(debian, key=lambda p: int(p.parent.name), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise NoPostgres(
        "PostgreSQL n'est pas installé (initdb, pg_ctl introuvables) : lancez"
        " scripts/bootstrap.sh test, qui installe le paquet Debian postgresql."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _owner() -> pwd.struct_passwd | None:
    """The account the cluster runs as when the tests run as root (None: the current one)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise NoPostgres("ni compte postgres ni compte nobody pour faire tourner PostgreSQL")


@dataclass
class Cluster:
    """A running throw-away PostgreSQL server."""

    folder: Path
    bindir: Path
    port: int
    owner: pwd.struct_passwd | None
    superuser: str = "kiosk"

    def url(self, database: str, **query: str) -> str:
        """The address of ``database`` on this server (``postgresql://…``)."""
        extra = "&".join(f"{k}={v}" for k, v in query.items())
        base = f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{database}"
        return f"{base}?{extra}" if extra else base

    def _run(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        as_owner: dict[str, Any] = {}
        if self.owner is not None:
            as_owner = {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}
        return subprocess.run(
            list(args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=True,
            cwd=self.folder,
            **as_owner,
            **kw,
        )

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser, outside any transaction; its rows, if any."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(statement.encode())
            return cursor.fetchall() if cursor.description else []

    def new_database(self, name: str) -> str:
        """Create an empty database and return its address."""
        self.sql(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        return self.url(name)

    #: The server's options (port, socket folder, settings), to start it again.
    options: tuple[str, ...] = ()

    def start(self) -> None:
        """Start the server on its folder and port (again, after :meth:`interrupt`)."""
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            "data",
            "-l",
            "server.log",
            "-o",
            " ".join(self.options),
            "-w",
            "-t",
            "60",
            "start",
        )

    def require_tls(self, cert: Path, key: Path, ca: Path) -> None:
        """Restart the server speaking TLS only, as a site server does (docs/sites.md): its
        certificate ``cert``/``key``; clients from this machine's loopback must come over TLS,
        the kiosk's role ``borne`` with a client certificate issued by ``ca`` (the ``cert``
        method: its common name is the role), the superuser with none (the tests' own
        statements); anything in clear text is rejected."""
        self.sql("CREATE ROLE borne LOGIN")
        for source, name in ((cert, "server.crt"), (key, "server.key"), (ca, "clients-ca.crt")):
            target = self.folder / name
            shutil.copyfile(source, target)
            target.chmod(0o600)
            if self.owner is not None:
                os.chown(target, self.owner.pw_uid, self.owner.pw_gid)
        hba = self.folder / "data" / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "hostssl all borne 127.0.0.1/32 cert\n"
            f"hostssl all {self.superuser} 127.0.0.1/32 trust\n"
            "hostnossl all all 0.0.0.0/0 reject\n",
            encoding="utf-8",
        )
        self.options = (
            *self.options,
            "-c ssl=on",
            f"-c ssl_cert_file={self.folder / 'server.crt'}",
            f"-c ssl_key_file={self.folder / 'server.key'}",
            f"-c ssl_ca_file={self.folder / 'clients-ca.crt'}",
        )
        self._run(str(self.bindir / "pg_ctl"), "-D", "data", "-m", "fast", "-w", "stop")
        self.start()

    def interrupt(self) -> None:
        """Stop the server at once, its data kept (a site server that goes away)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", "data", "-m", "immediate", "stop")

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            self._run(str(self.bindir / "pg_ctl"), "-D", "data", "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(*, settings: tuple[str, ...] = ()) -> Cluster:
    """Create and start a cluster; ``settings``: extra ``name=value`` server settings.

    Raises:
        NoPostgres: the server's programs are missing.
        subprocess.CalledProcessError: initdb or the start failed (its output is attached).
    """
    bindir = server_bindir()
    owner = _owner()
    # Not under pytest's tmp_path: that folder is root's only (0700), the server's account
    # could not reach its own files there.
    folder = Path(tempfile.mkdtemp(prefix="pn-postgres-"))
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    cluster = Cluster(folder=folder, bindir=bindir, port=port, owner=owner)
    try:
        cluster._run(
            str(bindir / "initdb"),
            "-D",
            "data",
            "-U",
            cluster.superuser,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        cluster.options = (
            f"-p {cluster.port}",
            f"-k {folder}",
            "-c listen_addresses=127.0.0.1",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            *(f"-c {s}" for s in settings),
        )
        cluster.start()
    except BaseException:
        log = folder / "server.log"
        if log.exists():
            print(log.read_text(encoding="utf-8", errors="replace")[-4000:])
        cluster.stop()
        raise
    return cluster
