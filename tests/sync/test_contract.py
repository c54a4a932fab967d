"""docs/national-api.json is the contract: the reference server serves exactly its routes, and
its errors are RFC 9457 problem documents."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import httpx
from starlette.routing import Route

from sync.server.app import NationalSimulator
from sync.server.run import ServerThread

DOC = Path(__file__).resolve().parents[2] / "docs" / "national-api.json"
METHODS = {"get", "post", "put", "patch", "delete", "head"}


def documented() -> set[tuple[str, str]]:
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.1")
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def served(tmp_path: Path) -> set[tuple[str, str]]:
    sim = NationalSimulator(tmp_path / "n.sqlite3", rng=random.Random(1))
    routes = {
        (method, route.path)
        for route in sim.app.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and not route.path.startswith("/_control")
        for method in route.methods or ()
        # Starlette adds HEAD to every GET route by itself; only a HEAD of its own is a route.
        if not (method == "HEAD" and "GET" in (route.methods or ()))
    }
    sim.db.close()
    return routes


def test_every_served_route_is_documented_and_vice_versa(tmp_path: Path) -> None:
    assert served(tmp_path) == documented()


def test_every_reference_in_the_document_resolves() -> None:
    text = DOC.read_text(encoding="utf-8")
    doc = json.loads(text)
    for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        node = doc
        for part in ref.split("/"):
            node = node[part]


def test_errors_are_problem_documents_in_french(national: ServerThread) -> None:
    response = httpx.post(f"{national.url}/v1/dossiers", json={})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Jeton absent ou expiré."
    assert response.headers["www-authenticate"] == "Bearer"
