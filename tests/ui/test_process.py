"""`kiosk run` as the machine runs it: a process that the session or systemd may stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.pcsc import reader_env
from tests.support import child_processes, process_alive
from tests.sync.support import ROOT


def test_sigterm_ends_the_kiosk_cleanly_and_stops_its_training_server(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **reader_env()}
    with subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(tmp_path), "run", "--demo", "--windowed"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as kiosk:
        try:
            deadline = time.monotonic() + 60
            servers: list[int] = []
            while not servers and time.monotonic() < deadline and kiosk.poll() is None:
                servers = [p for p, cmd in child_processes(kiosk.pid) if "national-sim" in cmd]
                time.sleep(0.1)
            assert servers, "the training kiosk did not start its reference server"
            time.sleep(1.0)  # the services attached, the loop idle
            kiosk.send_signal(signal.SIGTERM)
            code = kiosk.wait(timeout=30)
        finally:
            kiosk.kill()
        errors = kiosk.stderr.read() if kiosk.stderr else ""
    # Ended by its own clean-up (exit 0), not killed by the signal (-15).
    assert code == 0, errors
    assert not process_alive(servers[0])  # stopped by the kiosk on its way out, not left to notice
