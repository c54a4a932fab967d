"""The kiosk's client (sync/client.py) takes every answer docs/national-api.json allows and
refuses every answer it does not.

Answers are generated from the contract's own response schemas (schemathesis's JSON Schema
generator, the one its run uses) and
served to :class:`HttpNationalApi` through an httpx mock transport: the client is the unit under
test. A valid answer must be read without error; the same answer made invalid (a required field
removed, or given a value of another type, checked invalid against the contract) must be refused
as the client refuses a broken service (``ServiceUnavailable``, or ``FilingFailed`` for a filing):
the dossier stays queued, nothing half-read reaches the kiosk's data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema_rs import Draft202012Validator
from schemathesis.generation.jsonschema.builder import build

from kiosk.ports.national import (
    OutgoingDossier,
    OutgoingNotification,
    OutgoingTimbre,
    ServiceUnavailable,
)
from sync.client import HttpNationalApi

CONTRACT = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "national-api.json").read_text("utf-8")
)
DOSSIER = "0f8fad5b-d9cb-469f-a165-70867728950e"
TIMBRE = "1234567890123456"
TOKEN = {"access_token": "jeton", "token_type": "Bearer", "expires_in": 300}
#: Values of every JSON type: one of another type than the field's makes an answer invalid.
OTHER_TYPES: tuple[object, ...] = (None, True, 7, 1.5, "texte", [], {})


def _resolve(node: Any) -> Any:
    """The schema with its ``$ref`` inlined (hypothesis-jsonschema reads one schema)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = CONTRACT
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target)
        return {k: _resolve(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v) for v in node]
    return node


def _answer_schema(path: str, method: str, status: str) -> dict[str, Any]:
    response = CONTRACT["paths"][path][method]["responses"][status]
    return dict(_resolve(response["content"]["application/json"]["schema"]))


def _submit(api: HttpNationalApi) -> object:
    return api.submit(OutgoingDossier(DOSSIER, DOSSIER, "PN-7K3M-Q9TX", {"id": DOSSIER}))


def _timbre(api: HttpNationalApi) -> object:
    return api.use_timbre(OutgoingTimbre("cle-1", TIMBRE, DOSSIER, "NAT-00000001", "PN-7K3M"))


def _notify(api: HttpNationalApi) -> object:
    return api.notify(OutgoingNotification("cle-2", "NAT-00000001", "PN-7K3M", "+33612345678", "x"))


#: operation → (path, method, status, the client's call, what the contract cannot say: the
#: answer names what was asked)
CASES: dict[str, tuple[str, str, str, str, Callable[[HttpNationalApi], object], dict[str, Any]]] = {
    "jeton": ("/v1/jetons", "post", "200", "/v1/jetons", lambda api: api.changes(None), {}),
    "depot": ("/v1/dossiers", "post", "201", "/v1/dossiers", _submit, {"id": DOSSIER}),
    "changements": (
        "/v1/changements",
        "get",
        "200",
        "/v1/changements",
        lambda api: api.changes(None),
        {},
    ),
    "timbre": ("/v1/timbres", "post", "201", "/v1/timbres", _timbre, {"timbre": TIMBRE}),
    "paiement": (
        "/v1/dossiers/{numero}/paiement",
        "get",
        "200",
        "/v1/dossiers/NAT-00000001/paiement",
        lambda api: api.payment_reference("NAT-00000001"),
        {},
    ),
    "notification": (
        "/v1/notifications",
        "post",
        "201",
        "/v1/notifications",
        _notify,
        {},
    ),
}


def _client(route: str, answer: object, status: int) -> HttpNationalApi:
    """The client, served ``answer`` on ``route`` (otherwise a token, or a page of no change)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == route:
            return httpx.Response(status, json=answer)
        if request.url.path == "/v1/jetons":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(200, json={"changements": [], "curseur": "0", "encore": False})

    transport = httpx.MockTransport(handle)
    return HttpNationalApi("http://national.test", "borne", "secret", transport=transport)


FORMATS: dict[str, st.SearchStrategy[Any]] = {
    "uuid": st.uuids().map(str),
    "date": st.dates().map(str),
    "uri": st.just("https://paiement.test/payer/PNP-1"),
}


def _case(name: str) -> tuple[dict[str, Any], Draft202012Validator]:
    path, method, status, _, _, _ = CASES[name]
    schema = _answer_schema(path, method, status)
    return schema, Draft202012Validator(schema, validate_formats=True)


def _valid(name: str) -> st.SearchStrategy[dict[str, Any]]:
    schema, validator = _case(name)
    fixed = CASES[name][5]
    return (
        build(schema, draft=20, formats=FORMATS)
        .filter(lambda answer: isinstance(answer, dict))
        .map(lambda answer: {**answer, **fixed})  # type: ignore[dict-item]
        .filter(validator.is_valid)
    )


def _invalid(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """A valid answer with one required field removed or of another type."""
    schema, validator = _case(name)

    def spoil(answer: dict[str, Any], field: str, value: object, drop: bool) -> dict[str, Any]:
        spoilt = copy.deepcopy(answer)
        if drop:
            spoilt.pop(field, None)
        else:
            spoilt[field] = value
        return spoilt

    return st.builds(
        spoil,
        _valid(name),
        st.sampled_from(schema["required"]),
        st.sampled_from(OTHER_TYPES),
        st.booleans(),
    ).filter(lambda answer: not validator.is_valid(answer))


SETTINGS = settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_answer_the_contract_allows_is_taken(name: str) -> None:
    _, _, status, route, call, _ = CASES[name]

    @SETTINGS
    @given(_valid(name))
    def check(answer: dict[str, Any]) -> None:
        api = _client(route, answer, int(status))
        try:
            call(api)
        finally:
            api.close()

    check()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_answer_the_contract_does_not_allow_is_refused(name: str) -> None:
    _, _, status, route, call, _ = CASES[name]

    @SETTINGS
    @given(_invalid(name))
    def check(answer: dict[str, Any]) -> None:
        api = _client(route, answer, int(status))
        try:
            with pytest.raises(ServiceUnavailable):  # FilingFailed is one too
                call(api)
        finally:
            api.close()

    check()
