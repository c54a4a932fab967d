"""The installed kiosk in its session: cage, headless, with the kiosk inside (packaging/session).

cage refuses to run as root, and its display needs no screen with wlroots' headless back end;
the session runs here as `nobody`, from the throw-away root the package was installed into.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.conftest import Root
from tests.support import child_processes, process_alive

NOBODY = 65534
#: How long the kiosk must stay up once its services are built (the brief's « a few seconds »).
STAYS_UP = 3.0


def started_here(run: Path) -> list[int]:
    """The processes of this session: those whose environment names its runtime folder (cage
    starts Xwayland outside its own process tree)."""
    marker = f"XDG_RUNTIME_DIR={run}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environment = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue  # ended meanwhile
            if marker in environment and process_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[tuple[int, str]]:
    found = []
    for child, command in child_processes(pid):
        found.append((child, command))
        found += descendants(child)
    return found


@pytest.fixture
def nobody_folder() -> Iterator[Path]:
    """A folder `nobody` owns: its data and its runtime folder (cage's Wayland socket)."""
    path = Path(tempfile.mkdtemp(prefix="pn-kiosk-session-"))
    try:
        for name in ("data", "run"):
            (path / name).mkdir(mode=0o700)
        for folder in (path, path / "data", path / "run"):
            os.chown(folder, NOBODY, NOBODY)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_the_installed_kiosk_stays_up_in_cage_and_its_exit_code_comes_through(
    installed: Root, nobody_folder: Path
) -> None:
    cage = shutil.which("cage")
    if cage is None or shutil.which("Xwayland") is None or shutil.which("setpriv") is None:
        pytest.skip("cage, Xwayland ou setpriv absents (scripts/bootstrap.sh test les installe)")
    data, run = nobody_folder / "data", nobody_folder / "run"
    # The session as its unit starts it, less what only systemd gives (a logind session on a
    # screen): wlroots draws into memory, without input devices. No --demo: training mode's
    # simulated card would take the virtual reader other tests use.
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(nobody_folder),
        "XDG_RUNTIME_DIR": str(run),
        "RUNTIME_DIRECTORY": str(run),
        "WLR_BACKENDS": "headless",
        "WLR_RENDERER": "pixman",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "PN_KIOSK_DATA_DIR": str(data),
        "PN_KIOSK_CONFIG": os.devnull,
        # Not a speech-dispatcher of its own, left running (tests/conftest.py).
        "SPEECHD_ADDRESS": os.environ["SPEECHD_ADDRESS"],
    }
    log = nobody_folder / "session.log"
    with log.open("wb") as out:
        session = subprocess.Popen(
            [
                "setpriv",
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                str(installed.path / "usr/lib/pn-kiosk/session"),
            ],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Its services are built once its window is on cage's display: the store is created.
        deadline = time.monotonic() + 90
        while not (data / "kiosk.sqlite3").exists():
            assert session.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        kiosks = [p for p, cmd in descendants(session.pid) if "kiosk run --external-sync" in cmd]
        assert len(kiosks) == 1, descendants(session.pid)
        assert any("/usr/bin/cage -d --" in cmd for _, cmd in descendants(session.pid))
        time.sleep(STAYS_UP)
        assert process_alive(kiosks[0]), log.read_text(errors="replace")
        # The kiosk dies: its own end comes out of the session (cage itself would say 0), which
        # is what lets the unit restart it and not restart a supervisor's leaving (42).
        os.kill(kiosks[0], signal.SIGKILL)
        code = session.wait(timeout=60)
        assert code == 128 + signal.SIGKILL, log.read_text(errors="replace")
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
        deadline = time.monotonic() + 10  # Xwayland notices its display is gone
        while started_here(run) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [(pid, Path(f"/proc/{pid}/cmdline").read_bytes()) for pid in started_here(run)]
        for pid, _ in left:
            os.kill(pid, signal.SIGKILL)
    assert left == []  # cage and Xwayland ended with the kiosk
