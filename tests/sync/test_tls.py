"""TLS towards the national API: a fake server gets nothing, not even the kiosk's secret.

Real HTTPS on loopback: the reference server behind uvicorn with certificates made for the test,
the kiosk's real client and SSL context.
"""

from __future__ import annotations

import logging
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from app.settings import SettingsError, resolve
from app.sync_setup import SyncConfigError, SyncSettings
from kiosk.demarches import Catalog
from kiosk.store import Store, open_store
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread, free_port
from sync.tls import TlsPolicy, spki_pin
from tests.sync.conftest import make_kiosk
from tests.sync.support import (
    CREDENTIALS,
    ROOT,
    Pki,
    kiosk_env,
    make_pki,
    queue_many,
    start_simulator,
)

SECRET = CREDENTIALS["PN_KIOSK_API_CLIENT_SECRET"]
ENV_URL, ENV_CA_FILE, ENV_PINS = "PN_KIOSK_API_URL", "PN_KIOSK_API_CA", "PN_KIOSK_API_PINS"


class Counting:
    """Counts the HTTP requests that reach the server (a refused handshake never gets here)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)


@dataclass
class Https:
    server: ServerThread
    counter: Counting
    pki: Pki


def https_server(tmp_path: Path, pki: Pki) -> Iterator[Https]:
    sim = NationalSimulator(tmp_path / f"{pki.cert.stem}.sqlite3", rng=random.Random(1))
    counter = Counting(sim.app)
    with ServerThread(sim, app=counter, tls=(pki.cert, pki.key)) as server:
        yield Https(server, counter, pki)


@pytest.fixture
def genuine(tmp_path: Path) -> Iterator[Https]:
    """The national server with a certificate from the préfecture's CA."""
    yield from https_server(tmp_path, make_pki(tmp_path / "pki", "national"))


@pytest.fixture
def impostor(tmp_path: Path) -> Iterator[Https]:
    """A server with a certificate for the same address, from a CA nobody provisioned."""
    yield from https_server(tmp_path, make_pki(tmp_path / "pki", "imposteur"))


def send_three(store: Store, catalog: Catalog, url: str, policy: TlsPolicy) -> tuple[int, str]:
    queue_many(store, 3, demarche=("changement_adresse", 1))
    kiosk = make_kiosk(store, catalog, url, tls=policy.context())
    try:
        report = kiosk.worker.run_once()
    finally:
        kiosk.api.close()
    return report.sent, report.last_error or ""


def test_https_with_the_provisioned_ca_files_the_queue(
    store: Store, catalog: Catalog, genuine: Https
) -> None:
    sent, error = send_three(store, catalog, genuine.server.url, TlsPolicy(ca_file=genuine.pki.ca))
    assert (sent, error) == (3, "")


def test_a_server_with_an_unknown_certificate_gets_nothing(
    store: Store, catalog: Catalog, genuine: Https, impostor: Https
) -> None:
    sent, error = send_three(store, catalog, impostor.server.url, TlsPolicy(ca_file=genuine.pki.ca))
    assert sent == 0
    assert "certificat du service national n'est pas reconnu" in error
    assert "rien n'a été envoyé" in error
    assert impostor.counter.requests == 0  # not even the token request with the secret


def test_the_system_store_does_not_trust_a_private_ca(
    store: Store, catalog: Catalog, genuine: Https
) -> None:
    sent, error = send_three(store, catalog, genuine.server.url, TlsPolicy())
    assert sent == 0 and "n'est pas reconnu" in error
    assert genuine.counter.requests == 0


def test_pinning_accepts_the_pinned_key_and_its_backup(
    store: Store, catalog: Catalog, genuine: Https, impostor: Https
) -> None:
    pins = (spki_pin(impostor.pki.cert.read_bytes()), spki_pin(genuine.pki.cert.read_bytes()))
    sent, error = send_three(
        store, catalog, genuine.server.url, TlsPolicy(ca_file=genuine.pki.ca, pins=pins)
    )
    assert (sent, error) == (3, "")


def test_pinning_refuses_a_valid_certificate_with_another_key(
    store: Store, catalog: Catalog, genuine: Https, impostor: Https
) -> None:
    """A certificate the CA did sign (a mis-issued or compromised CA) but not the pinned key."""
    wrong = (spki_pin(impostor.pki.cert.read_bytes()),)
    sent, error = send_three(
        store, catalog, genuine.server.url, TlsPolicy(ca_file=genuine.pki.ca, pins=wrong)
    )
    assert sent == 0
    assert "ne correspond pas à l'empreinte configurée" in error
    assert genuine.counter.requests == 0
    kiosk = make_kiosk(store, catalog, genuine.server.url)
    assert kiosk.outbox.counts().waiting == 3
    kiosk.api.close()


def test_the_secret_and_the_token_never_reach_the_logs(
    store: Store, catalog: Catalog, genuine: Https, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    queue_many(store, 2, demarche=("changement_adresse", 1))
    kiosk = make_kiosk(
        store, catalog, genuine.server.url, tls=TlsPolicy(ca_file=genuine.pki.ca).context()
    )
    try:
        report = kiosk.worker.run_once()
        token = kiosk.api._token
    finally:
        kiosk.api.close()
    assert report.sent == 2 and token
    assert any("httpx" in r.name or "httpcore" in r.name for r in caplog.records)
    assert SECRET not in caplog.text
    assert token not in caplog.text


def test_settings_refuse_plain_http_away_from_this_machine_and_bad_pins(tmp_path: Path) -> None:
    def sync_settings(url: str, **env: str) -> SyncSettings:
        resolved = resolve(
            environ={**CREDENTIALS, ENV_URL: url, **env}, default_file=tmp_path / "absent.toml"
        )
        return SyncSettings.from_settings(resolved.settings)

    with pytest.raises(SyncConfigError, match="Seul https:// est accepté"):
        sync_settings("http://api.national.example")
    assert sync_settings("http://localhost:8750").url == "http://localhost:8750"
    # A malformed pin stops the kiosk at start, naming the variable.
    with pytest.raises(SettingsError, match="Empreinte de certificat invalide") as bad:
        sync_settings("https://api.national.example", **{ENV_PINS: "sha256/pas-une-empreinte"})
    assert ENV_PINS in str(bad.value)
    with pytest.raises(SyncConfigError, match="introuvable"):
        sync_settings("https://api.national.example", **{ENV_CA_FILE: str(tmp_path / "a.pem")})


def run_kiosk(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(db), *args],
        cwd=ROOT,
        env=kiosk_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_prints_the_pin_and_syncs_over_pinned_https(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    pin = run_kiosk(tmp_path / "k.sqlite3", "sync", "empreinte", str(pki.cert))
    assert pin.returncode == 0, pin.stderr
    assert pin.stdout.strip() == spki_pin(pki.cert.read_bytes())
    db = tmp_path / "kiosk.sqlite3"
    store = open_store(db)
    queue_many(store, 2, demarche=("changement_adresse", 1))
    store.close()
    port = free_port()
    server = start_simulator(
        tmp_path / "n.sqlite3", port, "--tls-cert", str(pki.cert), "--tls-cle", str(pki.key)
    )
    try:
        env = {ENV_URL: f"https://127.0.0.1:{port}", ENV_CA_FILE: str(pki.ca)}
        wrong = run_kiosk(db, "sync", "--once", **env, **{ENV_PINS: "sha256/" + "A" * 43 + "="})
        assert wrong.returncode == 1
        assert "ne correspond pas à l'empreinte configurée" in wrong.stderr
        assert "2 dossier(s) restent en file" in wrong.stderr
        right = run_kiosk(db, "sync", "--once", "--json", **env, **{ENV_PINS: pin.stdout.strip()})
        assert right.returncode == 0, right.stderr
        assert '"transmis": 2' in right.stdout
    finally:
        server.terminate()
        server.wait(10)
    not_a_cert = run_kiosk(db, "sync", "empreinte", str(pki.key))
    assert not_a_cert.returncode == 1 and "n'est pas un certificat" in not_a_cert.stderr
