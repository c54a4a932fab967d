"""``kiosk sync`` and ``kiosk national-sim`` as support staff use them, in real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kiosk.settings.paths import assets_dir
from kiosk.store import open_store
from sync.server.demo import training_bundle_key
from sync.server.run import free_port
from tests.support import child_processes, process_alive
from tests.sync.support import ROOT, kiosk_env, queue_many, start_simulator


def kiosk(
    db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # Its own data folder (keys, documents) beside its database, never a shared one.
    env = {"PN_KIOSK_DATA_DIR": str(db.parent / "donnees"), **(env or kiosk_env())}
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(db), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sync_once_files_the_queue_and_status_lists_whom_to_contact(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    store = open_store(db)
    # A landline: no text message can reach it, the agent must call.
    queue_many(store, 5, demarche=("changement_adresse", 1), telephone="01 23 45 67 89")
    store.close()
    port = free_port()
    server = start_simulator(tmp_path / "n.sqlite3", port, "--delai-instruction", "0")
    try:
        url = f"http://127.0.0.1:{port}"
        first = kiosk(db, "sync", "--once", "--url", url, "--json")
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["transmis"] == 5
        assert json.loads(first.stdout)["decisions"] == 5  # decided at once (no delay here)
        second = kiosk(db, "sync", "--once", "--url", url)
        assert second.stdout.startswith("0 dossier(s) transmis"), second.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    status = kiosk(db, "sync", "status")
    assert status.returncode == 0, status.stderr
    assert "File d'envoi : 0 dossier(s) en attente" in status.stdout
    assert "Service national : service joignable" in status.stdout
    assert "À contacter : 5 personne(s)" in status.stdout
    assert "DUPONT Jean" in status.stdout and "01 23 45 67 89" in status.stdout
    data = json.loads(kiosk(db, "sync", "status", "--json").stdout)
    assert len(data["a_contacter"]) == 5 and data["file"]["transmis"] == 5


def test_unreachable_service_exits_1_in_french_and_keeps_the_queue(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    store = open_store(db)
    queue_many(store, 2, demarche=("changement_adresse", 1))
    store.close()
    result = kiosk(db, "sync", "--once", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "2 dossier(s) restent en file" in result.stderr
    assert "rien n'est perdu" in result.stderr
    assert "Traceback" not in result.stderr
    status = kiosk(db, "sync", "status")
    assert "2 dossier(s) en attente" in status.stdout
    assert "service injoignable" in status.stdout


def test_missing_credentials_are_explained_and_never_echoed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PN_KIOSK_API")}
    env["PN_KIOSK_API_CLIENT_ID"] = "borne-12"
    result = kiosk(tmp_path / "k.sqlite3", "sync", "--once", env=env)
    assert result.returncode == 1
    assert "PN_KIOSK_API_CLIENT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


_TRAINING_KIOSK = """
import sys
import time
from pathlib import Path
from app.container import build_ui
from app.settings import Settings
services, container = build_ui(Settings(data_dir=Path(sys.argv[1])), training=True)
print("up", flush=True)
sys.stdin.readline()
assert services.start_later is not None
services.start_later()  # what the window does once the home screen is painted
print("later", flush=True)
sys.stdin.read()
"""


def test_a_killed_training_kiosk_leaves_no_reference_server_behind(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _TRAINING_KIOSK, str(tmp_path)],
        cwd=ROOT,
        env=kiosk_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as kiosk:
        try:
            assert kiosk.stdout is not None and kiosk.stdin is not None
            assert kiosk.stdout.readline().strip() == "up"
            # Its server starts with the work the home screen does not wait for (issue 18).
            assert not [c for _, c in child_processes(kiosk.pid) if "national-sim" in c]
            kiosk.stdin.write("\n")
            kiosk.stdin.flush()
            assert kiosk.stdout.readline().strip() == "later"
            servers: list[int] = []
            deadline = time.monotonic() + 15
            while not servers and time.monotonic() < deadline:  # its own thread starts it
                children = child_processes(kiosk.pid)
                servers = [pid for pid, command in children if "national-sim" in command]
                time.sleep(0.05)
            assert len(servers) == 1
        finally:
            kiosk.kill()  # no clean-up code runs: a crash, a power button, `kill -9`
    deadline = time.monotonic() + 15
    while process_alive(servers[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(servers[0]), "the reference server outlived its kiosk"


def test_status_of_a_kiosk_never_synchronised_or_not_configured_never_says_reachable(
    tmp_path: Path,
) -> None:
    db = tmp_path / "kiosk.sqlite3"
    never = kiosk(db, "sync", "status")
    assert "jamais contacté depuis cette borne" in never.stdout
    assert "joignable" not in never.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("PN_KIOSK_API")}
    bare = kiosk(db, "sync", "status", env=env)
    assert bare.returncode == 0
    assert "Service national : non configuré" in bare.stdout
    assert "joignable" not in bare.stdout


def test_signed_updates_installed_and_refused_as_support_staff_see_them(tmp_path: Path) -> None:
    """A kiosk pinning the reference server's TEST key: its bundles installed by ``sync
    --once``, a new démarche version listed; one signed by a key it does not pin refused, said
    by ``sync --once``, ``sync status`` and the audit journal, in French."""
    db = tmp_path / "kiosk.sqlite3"
    open_store(db).close()
    env = kiosk_env(PN_KIOSK_BUNDLE_KEYS=training_bundle_key())
    version_2 = (assets_dir() / "demarches" / "cas_complexe.v1.toml").read_text(encoding="utf-8")
    version_2 = version_2.replace("version = 1\n", "version = 2\n", 1)
    port = free_port()
    server = start_simulator(tmp_path / "n.sqlite3", port)
    url = f"http://127.0.0.1:{port}"
    try:
        first = kiosk(db, "sync", "--once", "--url", url, "--json", env=env)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["paquets_installes"] == ["demarches 1", "tarifs 1"]
        order = {"type": "demarches", "fichiers": {"cas_complexe.v2.toml": version_2}}
        httpx.post(f"{url}/_control/paquets", json=order).raise_for_status()
        second = kiosk(db, "sync", "--once", "--url", url, env=env)
        assert "Mise à jour installée : paquet demarches 2" in second.stdout, second.stdout
        listed = json.loads(kiosk(db, "--json", "demarches", "list", env=env).stdout)
        assert {"id": "cas_complexe", "version": 2} in [
            {"id": d["id"], "version": d["version"]} for d in listed
        ]
        foreign = {**order, "defaut": "cle_etrangere"}
        httpx.post(f"{url}/_control/paquets", json=foreign).raise_for_status()
        third = kiosk(db, "sync", "--once", "--url", url, env=env)
        assert (
            "Mise à jour refusée : paquet demarches 3 (voir « kiosk sync status »)" in third.stdout
        ), third.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    status = kiosk(db, "sync", "status", env=env).stdout
    assert (
        "Mises à jour des démarches et des tarifs : démarches du paquet n° 2 (installé le "
        in status
    )
    assert ", tarifs du paquet n° 1 (installé le " in status
    assert "Mises à jour refusées : 1 paquet(s) publié(s) par le service national" in status
    assert (
        "  démarches, paquet n° 3, le " in status
        and ": signé par une clé que la borne n'a pas épinglée (clé " in status
    ), status
    journal = kiosk(db, "audit", "show", env=env).stdout
    assert "mise à jour des démarches ou des tarifs refusée" in journal, journal
    assert "n'a pas épinglée" in journal
    # Without a key pinned, nothing can come from the network, and the status says so.
    bare = kiosk(db, "sync", "status", env=kiosk_env(PN_KIOSK_BUNDLE_KEYS="")).stdout
    assert "aucune clé de signature épinglée (service_national.cles_paquets)" in bare
