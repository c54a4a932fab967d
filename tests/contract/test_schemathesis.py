"""The reference server conforms to docs/national-api.json, as an independent tool sees it.

Schemathesis (a test dependency, pinned by uv.lock) reads the contract and throws at the real
server on loopback what it allows and what it does not: every check on (server errors, status
codes, content types, response headers and schemas, negative data rejected, positive data
accepted, missing headers, unsupported methods, ignored authentication…), positive and negative
data, every phase (the contract's examples, the coverage of its bounds, fuzzing, stateful
sequences following the links it infers). It runs derandomized with a bounded number of
examples per operation, so the same requests go on every run; any finding fails the test with
schemathesis's own report (a ``curl`` line per failure).

Before the run, one kiosk files real dossiers (one with a piece to upload, one decided with a
document issued) so that the uploads, documents and payment routes are tested on resources
that exist, not only on 404s. docs/sync.md, « The contract, checked », says how to run it by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.server.app import NationalSimulator
from sync.server.run import ServerThread

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "national-api.json"
#: Examples per operation and phase: enough to reach every bound and type the contract states,
#: few enough for the whole run to stay well under a minute on two cores.
MAX_EXAMPLES = 25
CLIENTS = {"borne-demo": "secret-demo", "borne-voisine": "secret-voisine"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    """The reference server, fault-free, with a capacity so large nothing is refused: the
    headers of the load (``RateLimit-Policy``, ``Service-Capacity``, ``Next-Request-In``) are
    on the answers, to be checked with them."""
    sim = NationalSimulator(tmp_path / "national.sqlite3", clients=CLIENTS, rng=random.Random(1))
    sim.app.configure({"debit": 1_000_000})
    with ServerThread(sim) as running:
        yield running


def _token(url: str, client: str) -> str:
    answer = httpx.post(
        f"{url}/v1/jetons",
        json={
            "grant_type": "client_credentials",
            "client_id": client,
            "client_secret": CLIENTS[client],
        },
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _file(url: str, token: str, pieces: list[bytes]) -> dict[str, object]:
    dossier = str(uuid.uuid4())
    body = {
        "id": dossier,
        "reference": "PN-TEST-0001",
        "demarche": {"id": "permis_perte", "version": 1},
        "reponses": {},
        "usager": {"nom": "MARTIN"},
        "contact": "guichet",
        "pieces": [
            {"type": "piece_identite", "sha256": hashlib.sha256(p).hexdigest(), "taille": len(p)}
            for p in pieces
        ],
    }
    answer = httpx.post(
        f"{url}/v1/dossiers",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": dossier},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _resources(url: str) -> dict[str, str]:
    """Real ids for the operations on existing resources (filed by ``borne-demo``)."""
    token = _token(url, "borne-demo")
    waiting = _file(url, token, [b"%PDF-1.4 une piece"])
    upload = str(waiting["pieces"][0]["televersement"]).rsplit("/", 1)[-1]  # type: ignore[index]
    decided = _file(url, token, [])
    change = httpx.post(
        f"{url}/_control/decider", json={"numero": decided["numero_national"], "statut": "refuse"}
    ).json()
    return {
        "upload_id": upload,
        "numero": str(decided["numero_national"]),
        "document": str(change["documents"][0]["id"]),
    }


def _config(url: str, ids: dict[str, str]) -> str:
    """Schemathesis's configuration (TOML) for this run."""
    auth_payload = {
        "grant_type": "client_credentials",
        "client_id": "borne-demo",
        "client_secret": CLIENTS["borne-demo"],
    }
    payload = ", ".join(f"{k} = {json.dumps(v)}" for k, v in auth_payload.items())
    return f"""
base-url = "{url}"
seed = 1
workers = 1
continue-on-failure = true
hooks = "tests.contract.st_hooks"

[generation]
mode = "all"
max-examples = {MAX_EXAMPLES}
deterministic = true
database = "none"

[checks]
enabled = true

[auth.dynamic.openapi.jeton]
path = "/v1/jetons"
payload = {{ {payload} }}
extract_selector = "/access_token"

# A démarche that does not exist, a timbre never sold: refusals (422, documented) that rest on
# the service's records, which no schema can state.
[[operations]]
include-operation-id = ["deposerDossier", "utiliserTimbre"]
checks.positive_data_acceptance.expected-statuses = ["2xx", 401, 404, 409, 422, 429, 503]

# An enrolment code unknown, wrong, used, expired or annulled after wrong tries: refusals that
# rest on the state of the code the service keeps (the stateful phase uses one up).
[[operations]]
include-operation-id = "utiliserEnrolement"
checks.positive_data_acceptance.expected-statuses = ["2xx", 403, 404, 410, 429, 503]

# A header the contract does not name is no malformed request (a proxy adds its own): a chunk
# sent with one is taken. Only headers are concerned here: these routes take no query parameter
# and their body is bytes. (The chunk taken or refused as stale depends on what went before:
# with Queue-Length declared, schemathesis's order sent it while the offset was still 0.)
[[operations]]
include-operation-id = ["etatTeleversement", "envoyerMorceau"]
parameters = {{ upload_id = "{ids["upload_id"]}" }}
generation.allow-extra-parameters = false

[[operations]]
include-operation-id = "lireDocumentEmis"
parameters = {{ numero = "{ids["numero"]}", id = "{ids["document"]}" }}

# A kiosk of this site or another, or none: the service's records decide (404), and a kiosk
# never revokes itself (409).
[[operations]]
include-operation-id = "revoquerBorne"
checks.positive_data_acceptance.expected-statuses = ["2xx", 401, 404, 409, 429, 503]

[[operations]]
include-operation-id = "referencePaiement"
parameters = {{ numero = "{ids["numero"]}" }}

# A bundle the server publishes (the tariffs': the smaller of its two), checked whole.
[[operations]]
include-operation-id = "lirePaquet"
parameters = {{ type = "tarifs", serie = 1 }}
"""


def test_the_reference_server_conforms_to_the_contract(
    server: ServerThread, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(server.url, _resources(server.url)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            str(CONTRACT),
            "--checks",
            "all",
            "--no-color",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = f"{run.stdout}\n{run.stderr}\n(contract check: {time.monotonic() - started:.1f} s)"
    assert run.returncode == 0, report
    operations = sum(
        method in {"get", "post", "put", "patch", "delete", "head"}
        for item in json.loads(CONTRACT.read_text(encoding="utf-8"))["paths"].values()
        for method in item
    )
    assert f"{operations} selected / {operations} total" in run.stdout, report
