"""Regenerates the upgrade fixtures: one data folder per released on-disk format, made by the
code of that release.

    .venv/bin/python -m tests.store.make_upgrade_fixtures            # every point
    .venv/bin/python -m tests.store.make_upgrade_fixtures 0003-chiffre

For each point of :data:`POINTS` it checks the commit out into a temporary git worktree, runs
``tests/store/upgrade_driver.py`` there with this virtual environment's Python (the old code on
today's dependencies), against that commit's own reference national server where it had one,
and copies the data folder it filled (database, keys, documents) with the driver's manifest into
``tests/store/fixtures/upgrade/<point>/``. ``tests/store/test_upgrade_from_every_schema.py``
then opens each with today's code. docs/architecture.md (« Upgrades ») says when to add a point.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "store" / "fixtures" / "upgrade"
DRIVER = Path(__file__).resolve().parent / "upgrade_driver.py"
#: The data folder of a point, inside its fixture folder (``donnees/`` once extracted).
ARCHIVE = "donnees.tar.xz"


@dataclass(frozen=True)
class Point:
    """The last commit that wrote one on-disk format (schema head, database and documents)."""

    name: str
    commit: str
    what: str


#: One point per format a kiosk in the field may hold. Add one when a release changes the
#: schema (a new migration), the database file (encryption…) or the document files.
POINTS = (
    Point("0001-clair", "ae93241", "schéma 0001_initial ; base SQLite en clair ; pièces en clair"),
    Point("0002-clair", "ca474ba", "schéma 0002_outbox ; base en clair ; pièces en clair"),
    Point("0003-clair", "bc4e322", "schéma 0003_audit ; base en clair ; pièces en clair"),
    Point(
        "0003-chiffre",
        "e344313",
        "schéma 0003_audit ; base SQLCipher ; pièces AES-GCM (dernière avant 0004)",
    ),
)


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Until something accepts connections on the loopback ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"le serveur national de référence n'écoute pas sur le port {port}")


def pack(data: Path, archive: Path) -> None:
    """``data`` as ``donnees/…`` in an xz tarball (no owner, no time: only the content)."""

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if info.name.endswith(("-wal", "-shm")):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(archive, "w:xz") as tar:
        for path in sorted(data.rglob("*")):
            name = f"donnees/{path.relative_to(data)}"
            tar.add(path, arcname=name, recursive=False, filter=clean)


def old_env(home: Path) -> dict[str, str]:
    """A clean environment: no setting of this machine's kiosk reaches the old code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PN_KIOSK_", "PYTHON"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        PN_KIOSK_API_CLIENT_ID="borne-demo",
        PN_KIOSK_API_CLIENT_SECRET="secret-demo",
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def make(point: Point, scratch: Path) -> None:
    """Make the fixture of ``point`` into :data:`FIXTURES`."""
    tree = scratch / f"tree-{point.name}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), point.commit],
        check=True,
        capture_output=True,
    )
    try:
        home = scratch / f"home-{point.name}"
        home.mkdir()
        env = old_env(home)
        data = scratch / f"donnees-{point.name}"
        server = None
        url = None
        if (tree / "app" / "cli_sync.py").exists():  # that revision had a national server
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "app", "national-sim", "--port", str(port),
                 "--db", str(scratch / f"national-{point.name}.sqlite3"),
                 "--delai-instruction", "0", "--graine", "7"],
                cwd=tree,
                env={**env, "PYTHONPATH": str(tree)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            wait_for_port(port)
            url = f"http://127.0.0.1:{port}"
        try:
            result = subprocess.run(
                [sys.executable, str(DRIVER), str(tree), str(data), str(scratch / "sources"),
                 *([url] if url else [])],
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )  # fmt: skip
        finally:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                server.wait(10)
        if result.returncode != 0:
            raise SystemExit(f"{point.name} : {result.stderr}")
        manifest = json.loads(result.stdout)
        manifest["point"] = {"nom": point.name, "commit": point.commit, "contenu": point.what}
        target = FIXTURES / point.name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        # The data folder as the kiosk left it (closed: no WAL or shared-memory file remains),
        # compressed: a plain database is mostly empty pages.
        pack(data, target / ARCHIVE)
        (target / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
        count = len(manifest["dossiers"])
        print(f"{point.name} ({point.commit}) : {count} dossiers, {size} octets")
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            check=False,
            capture_output=True,
        )


def main(argv: list[str]) -> int:
    """Make the fixtures named in ``argv`` (all when none)."""
    chosen = [p for p in POINTS if not argv or p.name in argv]
    if argv and len(chosen) != len(argv):
        print(f"points connus : {', '.join(p.name for p in POINTS)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pn-kiosk-upgrade-") as folder:
        for point in chosen:
            make(point, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
