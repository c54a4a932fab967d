"""Helpers for the sync tests: many queued dossiers fast, a simulator in a thread or a process."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import insert

from kiosk.dossiers.reference import new_reference
from kiosk.store import Store
from kiosk.store.models import Dossier, OutboxItem, Usager
from kiosk.sync.outbox import PENDING, idempotency_key

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
    """Environment for a ``kiosk`` subprocess: demo credentials, tiny real backoff delays."""
    return {
        **os.environ,
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
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"AC de test {name}")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(folder / f"{name}-ca.pem", folder / f"{name}.pem", folder / f"{name}-key.pem")
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki
