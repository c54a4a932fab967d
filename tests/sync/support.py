"""Helpers for the sync tests: many queued dossiers fast, a simulator in a thread or a process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from kiosk.dossiers.reference import new_reference
from kiosk.store import Store
from kiosk.store.models import Dossier, OutboxItem, Usager
from kiosk.sync.outbox import PENDING, idempotency_key
from tests.pcsc import reader_env
from tests.pki import Authority

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"PN_KIOSK_API_CLIENT_ID": "borne-demo", "PN_KIOSK_API_CLIENT_SECRET": "secret-demo"}


def queue_many(
    store: Store,
    count: int,
    *,
    demarche: tuple[str, int],
    nom: str | None = "DUPONT",
    telephone: str = "06 12 34 56 78",
) -> list[str]:
    """Bulk-insert ``count`` dossiers « en file » with their outbox rows; returns their UUIDs.

    The service would take minutes to create thousands of complete dossiers; the rows written
    here are exactly what ``DossierService.enqueue`` leaves behind. The person chose « par
    SMS » (``telephone``: a mobile, so each decision sends one; a landline: the agent calls).
    """
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with store.write() as s:
        s.execute(
            insert(Dossier),
            [
                {
                    "id": i,
                    "reference": new_reference(),
                    "demarche_id": demarche[0],
                    "demarche_version": demarche[1],
                    "state": "en_file",
                    "routage": "standard",
                    "created_at": now,
                    "updated_at": now,
                    "training": False,
                    "contact_mode": "telephone",
                }
                for i in ids
            ],
        )
        s.execute(
            insert(Usager),
            [{"dossier_id": i, "nom": nom, "prenoms": "Jean", "telephone": telephone} for i in ids],
        )
        s.execute(
            insert(OutboxItem),
            [
                {
                    "dossier_id": i,
                    "seq": 1,
                    "idempotency_key": idempotency_key(i, 1),
                    "state": PENDING,
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for i in ids
            ],
        )
    return ids


def kiosk_env(**extra: str) -> dict[str, str]:
    """Environment for a ``kiosk`` subprocess: demo credentials, tiny real backoff delays, and
    this test worker's virtual reader (a training kiosk's card on the other worker's reader
    would be read by its tests: tests/pcsc.py)."""
    return {
        **os.environ,
        **reader_env(),
        **CREDENTIALS,
        "PN_KIOSK_SYNC_BACKOFF_BASE": "0.01",
        "PN_KIOSK_SYNC_BACKOFF_CAP": "0.05",
        **extra,
    }


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on the loopback port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def start_simulator(db: Path, port: int, *flags: str) -> subprocess.Popen[bytes]:
    """``kiosk national-sim`` in its own process (so the test can kill it)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "national-sim", "--port", str(port), "--db", str(db), *flags],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return proc


@dataclass(frozen=True)
class Pki:
    """A test certificate authority and a server certificate for 127.0.0.1 / localhost (PEM)."""

    ca: Path
    cert: Path
    key: Path


def make_pki(folder: Path, name: str = "national") -> Pki:
    """A fresh CA and a server certificate it signed, written under ``folder``."""
    authority = Authority(folder, name)
    server = authority.server(name, "127.0.0.1", "localhost")
    return Pki(authority.ca, server.cert, server.key)
