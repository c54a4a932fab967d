"""Each kiosk sees and touches only its own filings on the reference server: another kiosk's
idempotency key replays nothing, its uploads, decisions, documents, payment and text messages
are unknown (404), its filings are absent from the feed."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.server.app import NationalSimulator
from sync.server.run import ServerThread

CLIENTS = {"borne-a": "secret-a", "borne-b": "secret-b"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    sim = NationalSimulator(tmp_path / "n.sqlite3", clients=CLIENTS, rng=random.Random(1))
    with ServerThread(sim) as running:
        yield running


def _kiosk(url: str, client: str) -> httpx.Client:
    token = httpx.post(
        f"{url}/v1/jetons",
        json={
            "grant_type": "client_credentials",
            "client_id": client,
            "client_secret": CLIENTS[client],
        },
    ).json()["access_token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})


def test_a_kiosk_sees_nothing_of_another_kiosks_filings(server: ServerThread) -> None:
    a, b = _kiosk(server.url, "borne-a"), _kiosk(server.url, "borne-b")
    dossier, piece = str(uuid.uuid4()), b"%PDF une piece"
    body = {
        "id": dossier,
        "reference": "PN-AAAA-0001",
        "demarche": {"id": "permis_perte", "version": 1},
        "reponses": {},
        "usager": {"nom": "MARTIN"},
        "pieces": [{"sha256": hashlib.sha256(piece).hexdigest(), "taille": len(piece)}],
    }
    filed = a.post("/v1/dossiers", json=body, headers={"Idempotency-Key": dossier})
    assert filed.status_code == 201
    numero = filed.json()["numero_national"]
    upload = filed.json()["pieces"][0]["televersement"]

    # B replaying A's key with A's body gets no copy of A's acknowledgement.
    replay = b.post("/v1/dossiers", json=body, headers={"Idempotency-Key": dossier})
    assert replay.status_code == 409
    assert "Idempotent-Replayed" not in replay.headers
    # A's upload is unknown to B, to read or to append to.
    assert b.head(upload).status_code == 404
    patch = b.patch(
        upload,
        content=piece,
        headers={"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert patch.status_code == 404
    assert a.head(upload).headers["Upload-Offset"] == "0"
    # Decided (refused, with a letter): the decision and its document are A's alone.
    assert (
        a.patch(
            upload,
            content=piece,
            headers={"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        ).status_code
        == 204
    )
    change = httpx.post(
        f"{server.url}/_control/decider", json={"numero": numero, "statut": "refuse"}
    ).json()
    document = change["documents"][0]["id"]
    assert [c["numero_national"] for c in a.get("/v1/changements").json()["changements"]] == [
        numero
    ]
    assert b.get("/v1/changements").json()["changements"] == []
    assert a.get(f"/v1/dossiers/{numero}/documents/{document}").status_code == 200
    assert b.get(f"/v1/dossiers/{numero}/documents/{document}").status_code == 404
    assert a.get(f"/v1/dossiers/{numero}/paiement").status_code == 200
    assert b.get(f"/v1/dossiers/{numero}/paiement").status_code == 404
    timbre = {"timbre": "1234567890123456", "dossier": dossier, "numero_national": numero}
    assert b.post("/v1/timbres", json=timbre, headers={"Idempotency-Key": "t1"}).status_code == 404
    sms = {"numero_national": numero, "canal": "sms", "telephone": "+33612345678", "texte": "x"}
    key = {"Idempotency-Key": "n1"}
    assert b.post("/v1/notifications", json=sms, headers=key).status_code == 404
    assert a.post("/v1/notifications", json=sms, headers=key).status_code == 201
    a.close()
    b.close()


def test_every_error_is_a_problem_document(server: ServerThread) -> None:
    a = _kiosk(server.url, "borne-a")
    for answer, status in (
        (a.get("/v1/nulle-part"), 404),
        (a.delete("/v1/dossiers"), 405),
        (httpx.post(f"{server.url}/v1/jetons", json=[None]), 400),
        (a.get("/v1/changements", params={"apres": "9" * 20}), 400),
        (a.get("/v1/changements", params={"limite": "1001"}), 400),
    ):
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["status"] == status
    a.close()
