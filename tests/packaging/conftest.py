"""The package built once per test session (two versions, for the upgrade), and throw-away roots
that dpkg installs it into without touching this machine (docs/packaging.md, « Tests »).

`dpkg --root=DIR --admindir=DIR/var/lib/dpkg --force-script-chrootless`: dpkg unpacks into DIR
and runs the maintainer scripts here, outside DIR, with DPKG_ROOT=DIR, which they honour (the
account goes into DIR/etc/passwd, nothing is asked of this machine's systemd). The package's
dependencies are not installed in DIR (`--force-depends`): test_package.py checks them against
this machine instead, where scripts/bootstrap.sh installed them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The package's name, and where it puts the kiosk.
NAME = "pn-kiosk"
VENV = Path("opt/pn-kiosk/venv")


@dataclass(frozen=True)
class Built:
    """The two builds of this session: ``first`` then ``second``, a higher version."""

    first: Path
    second: Path
    #: Seconds the first build took (the fast compression the tests use).
    seconds: float


def needs_dpkg() -> None:
    if shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None:
        pytest.skip("dpkg n'est pas là : le paquet est pour Debian")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Two packages, 0.1.0+t1 and 0.1.0+t2, built by scripts/package (quick compression)."""
    needs_dpkg()
    out = tmp_path_factory.mktemp("deb")
    started = time.monotonic()
    first = _build(out, "t1")
    seconds = time.monotonic() - started
    return Built(first, _build(out, "t2"), seconds)


def _build(out: Path, suffix: str) -> Path:
    result = subprocess.run(
        [str(ROOT / "scripts" / "package"), "--fast", "--out", str(out), suffix],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    deb = Path(result.stdout.strip().splitlines()[-1])
    assert deb.is_file() and deb.parent == out
    return deb


class Root:
    """A throw-away root for dpkg: a few files of /etc, an empty package database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        admin = path / "var" / "lib" / "dpkg"
        for folder in ("info", "updates", "triggers"):
            (admin / folder).mkdir(parents=True)
        for name in ("status", "available"):
            (admin / name).touch()
        etc = path / "etc"
        etc.mkdir()
        (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
        (etc / "group").write_text("root:x:0:\n")
        (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
        (etc / "gshadow").write_text("root:*::\n")
        for name in ("shadow", "gshadow"):
            (etc / name).chmod(0o640)

    def dpkg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """dpkg on this root, the maintainer scripts run with DPKG_ROOT set."""
        result = subprocess.run(
            [
                "dpkg",
                f"--root={self.path}",
                f"--admindir={self.path / 'var' / 'lib' / 'dpkg'}",
                "--force-script-chrootless",
                "--force-depends",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def status(self) -> str:
        """The package's state letters (`ii`, `rc`) in this root, or "" when unknown to it."""
        result = subprocess.run(
            [
                "dpkg-query",
                f"--admindir={self.path / 'var' / 'lib' / 'dpkg'}",
                "-W",
                "-f=${db:Status-Abbrev}",
                NAME,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    def account(self) -> tuple[int, int] | None:
        """The kiosk account's uid and gid in this root."""
        for line in (self.path / "etc" / "passwd").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == NAME:
                return int(fields[2]), int(fields[3])
        return None

    def kiosk(self, *args: str, data: Path) -> subprocess.CompletedProcess[str]:
        """The installed `kiosk` command, run from this root (its interpreter is this machine's
        /usr/bin/python3, as the package's is the target's)."""
        return subprocess.run(
            [str(self.path / VENV / "bin" / "kiosk"), "--data-dir", str(data), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.path,
        )


@pytest.fixture
def fresh_root() -> Iterator[Root]:
    """An empty root, readable by every account (the kiosk runs as `nobody` in it, in cage)."""
    if os.geteuid() != 0:
        pytest.skip("dpkg installe en root : fichiers à root, compte créé par le postinst")
    needs_dpkg()
    # Not under pytest's temporary folder: only root may go through it.
    path = Path(tempfile.mkdtemp(prefix="pn-kiosk-root-"))
    path.chmod(0o755)
    try:
        yield Root(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def installed(built: Built) -> Iterator[Root]:
    """A root with the first package installed, for the tests that only look at it or run the
    kiosk from it (each in a data folder of its own)."""
    if os.geteuid() != 0:
        pytest.skip("dpkg installe en root : fichiers à root, compte créé par le postinst")
    path = Path(tempfile.mkdtemp(prefix="pn-kiosk-root-"))
    path.chmod(0o755)
    try:
        root = Root(path)
        root.dpkg("--install", str(built.first))
        yield root
    finally:
        shutil.rmtree(path, ignore_errors=True)
