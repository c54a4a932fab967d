"""The counter bench still drives today's flow: one dossier once, its JSON figures well formed.

Not a timing test: only the shape of what `bench/counter_bench.py --json` prints is checked, so
that a change of screens that leaves the bench unable to file a dossier fails here first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.devices.conftest import pcscd  # noqa: F401 - the fixture, for the simulated card
from tests.pcsc import reader_env
from tests.sync.support import ROOT


def test_one_permis_renouvellement_is_filed_and_counted(pcscd: None) -> None:  # noqa: F811
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.counter_bench",
            "--json",
            "--runs",
            "1",
            "--dossier",
            "permis_renouvellement",
        ],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **reader_env()},
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = json.loads(done.stdout)
    assert [(r["dossier"], r["demarche"]) for r in rows] == [
        ("permis_renouvellement", "permis_renouvellement")
    ]
    row = rows[0]
    for key in ("taps", "characters", "screens", "floor"):
        assert isinstance(row[key], int), (key, row[key])
        assert row[key] > 0, (key, row[key])
    # The CAN of the training card is typed (6 characters), the rest is read from the chip.
    assert row["characters"] >= 6
    assert row["suivant_ms"], "no « Suivant » was timed"
