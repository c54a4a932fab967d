"""Power cut at any point: a writer is killed with SIGKILL at random moments, many times.

After each kill the database must open, pass ``PRAGMA integrity_check``, and hold every save the
writer had acknowledged (an acknowledgement is printed only after the commit returned).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.demarches import Catalog, FieldType
from kiosk.store.engine import connect_raw
from kiosk.store.keys import db_key_file

ROOT = Path(__file__).resolve().parents[2]
KILLS = 40


def _text_field(catalog: Catalog) -> tuple[str, str]:
    for demarche in catalog.all():
        for field in demarche.top_level_fields():
            if field.type is FieldType.TEXT:
                return demarche.id, field.id
    raise AssertionError("no démarche has a top-level text field")


@pytest.mark.slow
def test_every_acknowledged_save_survives_sigkill(tmp_path: Path, catalog: Catalog) -> None:
    demarche_id, field = _text_field(catalog)
    db = tmp_path / "kiosk.sqlite3"
    rng = random.Random(int(os.environ.get("PN_CRASH_SEED", "20261123")))
    acked: dict[str, int] = {}  # reference → highest acknowledged counter
    created: set[str] = set()
    counter = 1
    total_acks = 0
    for kill in range(KILLS):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.store.crash_writer",
                str(db),
                demarche_id,
                field,
                str(counter),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        if kill % 5 == 0:
            # Some kills land during start-up and migration, before any answer.
            time.sleep(rng.uniform(0.0, 0.4))
        else:
            assert proc.stdout.readline() == "READY\n", proc.stderr.read() if proc.stderr else ""
            time.sleep(rng.uniform(0.01, 0.3))
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err
        for line in out.splitlines(keepends=True):
            if not line.endswith("\n"):
                continue  # cut in the middle of printing: not an acknowledgement
            parts = line.split()
            if parts[0] == "NEW":
                created.add(parts[1])
            elif parts[0] == "ACK":
                acked[parts[1]] = max(acked.get(parts[1], 0), int(parts[2]))
                counter = max(counter, int(parts[2]) + 1)
                total_acks += 1
        counter += 1000  # the next writer never reuses a value an unacknowledged save may hold

        if not db_key_file(db).exists():
            # Killed before the first start created its key: nothing can have been written.
            assert not created and not acked
            continue
        conn = connect_raw(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'dossier'").fetchone():
                # Killed before the first migration committed: nothing may have been acknowledged.
                assert not created and not acked
                continue
            refs = {r for (r,) in conn.execute("SELECT reference FROM dossier")}
            assert created <= refs, f"kill {kill}: acknowledged dossiers lost"
            stored = dict(
                conn.execute(
                    "SELECT d.reference, a.value FROM answer a"
                    " JOIN dossier d ON d.id = a.dossier_id WHERE a.path = ?",
                    (field,),
                )
            )
            for ref, value in acked.items():
                assert ref in stored, f"kill {kill}: answer of {ref} lost"
                # The stored value is the acknowledged one, or a later one whose ACK was cut off.
                assert int(stored[ref].strip('"').split()[1]) >= value, f"kill {kill}: {ref}"
        finally:
            conn.close()
    assert total_acks > KILLS * 5, "the writer barely wrote: the test proved nothing"
