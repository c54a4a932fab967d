"""Two counters of one site on its shared PostgreSQL store (issue 17), in real processes: one
starts a dossier and scans a document into it, the other finishes and files it, both sync at
the same moment against the reference national server; every dossier is filed exactly once, the
document reaches the national service whole from whichever counter sends it, and the audit chain
holds."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from kiosk.store import open_store
from sync.server.run import free_port
from tests.sync.support import ROOT, kiosk_env, queue_many, start_simulator

#: The second counter: the kiosk's own composition root on the site store, the counter's use
#: cases (answers, mandate, filing), as the touchscreen calls them.
_FINISH = """
import sys
from pathlib import Path
from app.container import build
from app.settings import Settings
from tests.support import file_dossier, fill

settings = Settings(data_dir=Path(sys.argv[2]), database_url=sys.argv[1])
container = build(settings)
try:
    service = container.dossiers
    reference = sys.argv[3]
    summary = service.show(reference).summary
    fill(service, reference, container.catalog.get(summary.demarche_id, summary.demarche_version))
    print(file_dossier(service, reference).state.value)
finally:
    container.close()
"""


def _kiosk(url: str, data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", "--db-url", url, "--data-dir", str(data), *args]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=kiosk_env(), capture_output=True, text=True, timeout=120, check=False
    )


def test_two_counters_share_a_dossier_and_sync_at_once_filing_each_once(
    site_url: str, tmp_path: Path
) -> None:
    first, second = tmp_path / "guichet-1", tmp_path / "guichet-2"
    started = _run(_kiosk(site_url, first, "--json", "dossier", "new", "changement_adresse"))
    assert started.returncode == 0, started.stderr
    reference = json.loads(started.stdout)["reference"]
    scan = tmp_path / "carte-grise.pdf"
    scan.write_bytes(b"%PDF-1.4\n" + b"carte grise AB-123-CD\n" * 100)
    attached = _run(
        _kiosk(site_url, first, "dossier", "piece", reference, "carte_grise", str(scan))
    )
    assert attached.returncode == 0, attached.stderr
    # The site's documents key, copied to the other counter (enrolment does it, docs/sites.md).
    (second / "keys").mkdir(parents=True)
    shutil.copy2(first / "keys" / "documents.key", second / "keys" / "documents.key")

    finished = _run([sys.executable, "-c", _FINISH, site_url, str(second), reference])
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "en_file"

    # More of the site's queue, so that both counters' sync runs have rows to fight over.
    store = open_store(tmp_path / "inutilise.sqlite3", url=site_url)
    try:
        queued = queue_many(store, 8, demarche=("changement_adresse", 1))
    finally:
        store.close()

    port = free_port()
    server = start_simulator(tmp_path / "national.sqlite3", port, "--delai-instruction", "0")
    try:
        national = f"http://127.0.0.1:{port}"
        runs = [
            subprocess.Popen(
                _kiosk(site_url, folder, "--json", "sync", "--once", "--url", national),
                cwd=ROOT,
                env=kiosk_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for folder in (first, second)
        ]
        outputs = [run.communicate(timeout=180) for run in runs]
        filings = httpx.get(f"{national}/_control/depots").json()["depots"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
    sent = [json.loads(out)["transmis"] for out, _err in outputs]
    assert sum(sent) == 9  # every dossier acknowledged once, whichever counter sent it

    status = _run(_kiosk(site_url, first, "--json", "dossier", "show", reference))
    dossier_id = json.loads(status.stdout)["id"]
    assert filings == dict.fromkeys([*queued, dossier_id], 1)  # exactly one filing each

    with sqlite3.connect(tmp_path / "national.sqlite3") as national_db:
        pieces = national_db.execute("SELECT sha256, complete FROM piece").fetchall()
    assert pieces == [(hashlib.sha256(scan.read_bytes()).hexdigest(), 1)]

    verified = _run(_kiosk(site_url, second, "audit", "verify"))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Journal de sécurité intact"), verified.stdout
