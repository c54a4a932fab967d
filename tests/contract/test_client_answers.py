"""The kiosk's client (sync/client.py) takes every answer docs/national-api.json allows and
refuses every answer it does not, at every depth, for every operation it calls.

Answers are generated from the contract's own response schemas (schemathesis's JSON Schema
generator, the one its run uses; half of them with every optional field present and every list
filled, so that the nested objects are always there to spoil) and served to
:class:`HttpNationalApi` through an httpx mock transport: the client is the unit under test.

- A valid answer (20 per operation) is read whole: nothing raised, nothing of it dropped (as
  many decisions and bundles as listed, a bundle's envelope handed over whole), the same with
  its integers written ``300.0``.
- Each valid answer (8 per operation) is then spoilt in every way below, one at a time, at every
  field and list item at every depth (one of each kind per place of the schema); what the
  contract still allows is put aside, what it refuses must be refused with the client's clear
  error in French (``ServiceUnavailable``; ``FilingFailed`` for a filing), never another
  exception, and nothing asked after it (no upload after a refused acknowledgement): nothing
  half-read reaches the kiosk. The one field the client reads tolerantly, by design, is the
  acknowledgement's ``montant_du_centimes``: spoilt, the filing is acknowledged without an
  amount. Every place the schema describes must have been spoilt by the end.
- Answers that are no JSON or more than it: a document issued (``application/pdf``), a signed
  bundle (read strictly: a key twice, ``NaN``) and the upload offset (``Upload-Offset``) are
  taken within what the contract says and refused otherwise.

Derandomized with bounded examples: the same answers on every run, a few seconds in all.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema_rs import Draft202012Validator
from schemathesis.generation.jsonschema.builder import build

from kiosk.ports.national import (
    Ack,
    ChangesPage,
    FilingFailed,
    KioskCredentials,
    KioskReport,
    KioskRevoked,
    LocalPiece,
    OutgoingDossier,
    OutgoingNotification,
    OutgoingTimbre,
    RateLimited,
    ReceiptStatus,
    Redeemed,
    ServiceUnavailable,
    SiteKiosk,
    SiteKiosks,
)
from kiosk.updates import MAX_BUNDLE_BYTES, SignedBundle
from sync.client import HttpNationalApi

CONTRACT = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "national-api.json").read_text("utf-8")
)
DOSSIER = "0f8fad5b-d9cb-469f-a165-70867728950e"
TIMBRE = "1234567890123456"
TOKEN = {"access_token": "jeton", "token_type": "Bearer", "expires_in": 300}
PIECE = b"%PDF-1.4 une piece justificative" * 3
PIECE_SHA = hashlib.sha256(PIECE).hexdigest()
UPLOAD = "/v1/televersements/u-1"
JSON = {"Content-Type": "application/json"}
#: Values of every JSON type: one of another type than the field's makes an answer invalid.
OTHER_TYPES: tuple[object, ...] = (None, True, 7, 1.5, "texte", [], {})
#: One TLS context for every client: building one per client (the system's trust store) costs
#: ~40 ms, and the mock transport never uses it.
TLS = ssl.create_default_context()
SETTINGS = settings(
    max_examples=8,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: A valid answer costs one or two calls: more of them, for the corners of the patterns.
MANY = settings(SETTINGS, max_examples=20)


# ---------------------------------------------------------------------- the contract's schemas


def _resolve(node: Any) -> Any:
    """The schema with its ``$ref`` inlined (the generator and the mutations read one schema)."""
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


def _full(schema: Any) -> Any:
    """The schema with every property required and every list holding 1 to 2 items: answers
    generated from it have every nested object the contract describes, to be spoilt."""
    if isinstance(schema, list):
        return [_full(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _full(v) for k, v in schema.items()}
    if "properties" in out:
        out["required"] = sorted(out["properties"])
    if "items" in out:
        out["minItems"] = max(1, out.get("minItems", 0))
        out["maxItems"] = min(2, out.get("maxItems", 2))
    return out


FORMATS: dict[str, st.SearchStrategy[Any]] = {
    "uuid": st.uuids().map(str),
    "date": st.dates(date(2000, 1, 1), date(2199, 12, 31)).map(str),
    "uri": st.just("https://paiement.service-national.invalid/payer/PNP-1"),
    # UTC to the second, as the contract's pattern writes it (``expire_le``).
    "date-time": st.tuples(st.dates(date(2000, 1, 1), date(2999, 12, 31)), st.times()).map(
        lambda at: f"{at[0]}T{at[1]:%H:%M:%S}Z"
    ),
}


# ---------------------------------------------------------------------- the operations


def _submit(api: HttpNationalApi) -> Ack:
    piece = LocalPiece(PIECE_SHA, Path("piece.pdf"), len(PIECE), "application/pdf", lambda _: PIECE)
    return api.submit(OutgoingDossier(DOSSIER, DOSSIER, "PN-7K3M-Q9TX", {"id": DOSSIER}, (piece,)))


def _timbre(api: HttpNationalApi) -> object:
    return api.use_timbre(OutgoingTimbre("cle-1", TIMBRE, DOSSIER, "NAT-00000001", "PN-7K3M"))


def _notify(api: HttpNationalApi) -> object:
    return api.notify(OutgoingNotification("cle-2", "NAT-00000001", "PN-7K3M", "+33612345678", "x"))


ENROLMENT = "7K3MQ9TX"


def _file_enrolment(api: HttpNationalApi) -> object:
    return api.file_enrolment(ENROLMENT, "0" * 64, b"scelle" * 8, 1800)


def _redeem(api: HttpNationalApi) -> object:
    return api.redeem_enrolment(ENROLMENT, bytes(32))


def _same_credentials(answer: dict[str, Any], read: object) -> None:
    assert isinstance(read, Redeemed)
    assert read.credentials == KioskCredentials(answer["client_id"], answer["client_secret"])


REPORT = KioskReport("1.0", 1, datetime.now(UTC), None, None, ("PN-7K3M-Q9TX",))


def _same_kiosks(answer: dict[str, Any], read: object) -> None:
    assert isinstance(read, SiteKiosks) and read.site == answer["site"]
    assert [k.id for k in read.kiosks] == [k["id"] for k in answer["bornes"]]
    assert [k.report is not None for k in read.kiosks] == ["rapport" in k for k in answer["bornes"]]


def _same_kiosk(answer: dict[str, Any], read: object) -> None:
    assert isinstance(read, SiteKiosk) and (read.id, read.revoked) == (
        answer["id"],
        answer["revoquee"],
    )
    if "rapport" in answer:
        assert read.report is not None
        assert list(read.report.unsent) == answer["rapport"]["non_envoyes"]


def _our_piece(answer: dict[str, Any]) -> dict[str, Any]:
    """The acknowledgement also names the piece this kiosk sends (the contract cannot say it)."""
    mine = {"sha256": PIECE_SHA, "taille": len(PIECE), "televersement": UPLOAD}
    return {**answer, "id": DOSSIER, "pieces": [*answer.get("pieces", []), mine]}


def _same_page(answer: dict[str, Any], page: object) -> None:
    assert isinstance(page, ChangesPage)
    assert [c.dossier_id for c in page.changes] == [c["id"] for c in answer["changements"]]
    assert [len(c.documents) for c in page.changes] == [
        len(c.get("documents", [])) for c in answer["changements"]
    ]
    assert (page.cursor, page.more) == (answer["curseur"], answer["encore"])


def _same_ack(answer: dict[str, Any], ack: object) -> None:
    assert isinstance(ack, Ack) and ack.national_number == answer["numero_national"]


def _bundle_read(answer: dict[str, Any], read: object) -> None:
    """An envelope is handed over whole, its base64 decoded, nothing of it judged yet."""
    assert isinstance(read, SignedBundle)
    assert (read.kind, read.serial, read.key_id) == ("demarches", 7, answer["cle"])
    assert read.manifest == base64.b64decode(answer["manifeste"])
    assert read.signature == base64.b64decode(answer["signature"])
    assert [name for name, _ in read.files] == [f["nom"] for f in answer["fichiers"]]


def _listed(key: str, attribute: str, name: str) -> Callable[[dict[str, Any], object], None]:
    def check(answer: dict[str, Any], read: object) -> None:
        assert isinstance(read, tuple)
        assert [getattr(r, attribute) for r in read] == [item[name] for item in answer[key]]

    return check


#: The reference of the receipt followed: the answer must be about it.
FOLLOWED = "PN-7K3M-Q9TX"


def _same_status(answer: dict[str, Any], read: object) -> None:
    assert isinstance(read, ReceiptStatus)
    assert (read.national_number, read.status) == (answer["numero_national"], answer["statut"])


@dataclass(frozen=True)
class Operation:
    """A call of the client and the answer it gets, as the contract describes it."""

    path: str  # in the contract
    method: str
    status: str
    route: str  # where the answer is served
    call: Callable[[HttpNationalApi], object]
    #: What the answer must echo, which the contract cannot state (the dossier's id…).
    fix: Callable[[dict[str, Any]], dict[str, Any]] = lambda answer: answer
    #: What the client read of a valid answer, checked against it.
    same: Callable[[dict[str, Any], object], None] = lambda answer, read: None
    error: type[ServiceUnavailable] = ServiceUnavailable
    #: Top-level fields read tolerantly, by design (ignored when unusable).
    tolerated: frozenset[str] = field(default_factory=frozenset)

    def schema(self) -> dict[str, Any]:
        response = CONTRACT["paths"][self.path][self.method]["responses"][self.status]
        return dict(_resolve(response["content"]["application/json"]["schema"]))


OPERATIONS: dict[str, Operation] = {
    "jeton": Operation("/v1/jetons", "post", "200", "/v1/jetons", lambda api: api.changes(None)),
    "depot": Operation(
        "/v1/dossiers",
        "post",
        "201",
        "/v1/dossiers",
        _submit,
        fix=_our_piece,
        same=_same_ack,
        error=FilingFailed,
        tolerated=frozenset({"montant_du_centimes"}),
    ),
    "changements": Operation(
        "/v1/changements",
        "get",
        "200",
        "/v1/changements",
        lambda api: api.changes(None),
        same=_same_page,
    ),
    "paquets": Operation(
        "/v1/paquets",
        "get",
        "200",
        "/v1/paquets",
        lambda api: api.bundles(),
        same=_listed("paquets", "serial", "serie"),
    ),
    "paquet": Operation(
        "/v1/paquets/{type}/{serie}",
        "get",
        "200",
        "/v1/paquets/demarches/7",
        lambda api: api.bundle("demarches", 7, MAX_BUNDLE_BYTES),
        same=_bundle_read,
    ),
    "timbre": Operation(
        "/v1/timbres",
        "post",
        "201",
        "/v1/timbres",
        _timbre,
        fix=lambda answer: {**answer, "timbre": TIMBRE},
    ),
    "paiement": Operation(
        "/v1/dossiers/{numero}/paiement",
        "get",
        "200",
        "/v1/dossiers/NAT-00000001/paiement",
        lambda api: api.payment_reference("NAT-00000001"),
    ),
    "notification": Operation("/v1/notifications", "post", "201", "/v1/notifications", _notify),
    "bornes": Operation(
        "/v1/bornes", "get", "200", "/v1/bornes", lambda api: api.site_kiosks(), same=_same_kiosks
    ),
    "rapport": Operation(
        "/v1/bornes/rapport",
        "post",
        "200",
        "/v1/bornes/rapport",
        lambda api: api.report(REPORT),
        fix=lambda answer: {**answer, "borne": "borne"},  # this kiosk's report
    ),
    "revocation": Operation(
        "/v1/bornes/{borne}/revocation",
        "post",
        "200",
        "/v1/bornes/borne-perdue/revocation",
        lambda api: api.revoke("borne-perdue", by="cheffe"),
        fix=lambda answer: {**answer, "id": "borne-perdue", "revoquee": True},  # the one revoked
        same=_same_kiosk,
    ),
    "suivi": Operation(
        "/v1/suivi",
        "post",
        "200",
        "/v1/suivi",
        lambda api: api.follow_receipt(FOLLOWED, "K4D9F2QX"),
        fix=lambda answer: {**answer, "reference": FOLLOWED},
        same=_same_status,
    ),
    "enrolement": Operation(
        "/v1/enrolements",
        "post",
        "201",
        "/v1/enrolements",
        _file_enrolment,
        fix=lambda answer: {**answer, "id": ENROLMENT},
    ),
    # Asked with no token: nothing but the answer under test is served or asked.
    "enrolement_utilise": Operation(
        "/v1/enrolements/{id}",
        "post",
        "200",
        f"/v1/enrolements/{ENROLMENT}",
        _redeem,
        same=_same_credentials,
    ),
}


# ---------------------------------------------------------------------- serving answers


class Service:
    """A national service in memory: ``answer`` on the operation's route, a token, a page of
    no decision and a complete upload elsewhere; every request it gets is kept."""

    def __init__(self, route: str, answer: object, status: int) -> None:
        self.route, self.answer, self.status = route, answer, status
        self.asked: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.method} {request.url.host}{request.url.path}")
        if request.url.path == self.route:  # null too: httpx's json=None sends no body
            body = json.dumps(self.answer).encode()
            return httpx.Response(self.status, content=body, headers=JSON)
        if request.url.path == "/v1/jetons":
            return httpx.Response(200, json=TOKEN)
        if request.url.path == UPLOAD:
            return httpx.Response(200, headers={"Upload-Offset": str(len(PIECE))})
        return httpx.Response(200, json={"changements": [], "curseur": "0", "encore": False})

    def after(self) -> list[str]:
        """What was asked after the answer under test."""
        mine = [i for i, asked in enumerate(self.asked) if asked.endswith(self.route)]
        return self.asked[mine[0] + 1 :] if mine else self.asked


def _ask(operation: Operation, answer: object) -> tuple[object, Service]:
    """The client's call, served ``answer``; what it returned (or raised) and the service."""
    service = Service(operation.route, answer, int(operation.status))
    transport = httpx.MockTransport(service.handle)
    api = HttpNationalApi("http://national.test", "borne", "s", transport=transport, tls=TLS)
    try:
        return operation.call(api), service
    except Exception as exc:  # the caller says which ones are right
        return exc, service
    finally:
        api.close()


# ---------------------------------------------------------------------- spoiling an answer

Path_ = tuple[str | int, ...]


def _places(value: Any, schema: dict[str, Any], at: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every place of ``value`` the schema describes: each field and list item, at any depth."""
    yield at, schema
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                yield from _places(value[key], sub, (*at, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _places(item, schema["items"], (*at, i))


def _spoilt_values(value: Any, schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """What a place may be replaced with, by kind of fault."""
    for other in OTHER_TYPES:
        yield "autre type", other
    yield "un niveau de trop", [value]
    yield "un niveau de trop", {"valeur": value}
    if "enum" in schema or "const" in schema:
        yield "hors énumération", "valeur_inconnue"
    if "pattern" in schema or "format" in schema:
        yield "forme", "§ pas ça"
    if "maxLength" in schema:
        yield "trop long", "a" * (schema["maxLength"] + 1)
    if schema.get("minLength", 0) > 0:
        yield "vide", ""
    if "minimum" in schema:
        yield "sous le minimum", schema["minimum"] - 1
    if "maximum" in schema:
        yield "au-dessus du maximum", schema["maximum"] + 1
    if schema.get("type") == "integer" and isinstance(value, int):
        yield "fraction", value + 0.5
    if isinstance(value, list) and value and "maxItems" in schema:
        yield "trop d'éléments", value * (schema["maxItems"] + 1)
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key in value:
                yield "champ obligatoire absent", {k: v for k, v in value.items() if k != key}


def _replace(answer: Any, at: Path_, value: Any) -> Any:
    if not at:
        return value
    out = copy.deepcopy(answer)
    node = out
    for key in at[:-1]:
        node = node[key]
    node[at[-1]] = value
    return out


def _generic(at: Path_) -> str:
    """The place in the schema: ``changements[].documents[].taille``."""
    return "".join("[]" if isinstance(k, int) else f".{k}" for k in at) or "(la réponse)"


def _spoilt(
    answer: Any, schema: dict[str, Any], valid: Callable[[Any], bool]
) -> Iterator[tuple[Path_, str, Any]]:
    """The answer spoilt once per place of the schema and kind of fault, each still a JSON
    object or not, and refused by the contract."""
    seen: set[tuple[str, str]] = set()
    for at, sub in _places(answer, schema):
        node = answer
        for key in at:
            node = node[key]
        for kind, value in _spoilt_values(node, sub):
            if (_generic(at), kind) in seen:
                continue
            spoilt = _replace(answer, at, value)
            if not valid(spoilt):
                seen.add((_generic(at), kind))
                yield at, kind, spoilt


def _integral_floats(value: Any) -> Any:
    """Every integer written as JSON Schema also reads an integer: ``300.0``."""
    if isinstance(value, dict):
        return {k: _integral_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
        return float(value)
    return value


def _answers(operation: Operation) -> st.SearchStrategy[dict[str, Any]]:
    schema = operation.schema()
    valid = Draft202012Validator(schema, validate_formats=True).is_valid
    return (
        st.one_of(
            build(_full(schema), draft=20, formats=FORMATS),
            build(schema, draft=20, formats=FORMATS),
        )
        .filter(lambda answer: isinstance(answer, dict))
        .map(operation.fix)  # type: ignore[arg-type]
        .filter(valid)
    )


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_answer_the_contract_allows_is_read_whole(name: str) -> None:
    operation = OPERATIONS[name]

    @MANY
    @given(_answers(operation))
    def check(answer: dict[str, Any]) -> None:
        for served in (answer, _integral_floats(answer)):
            read, _ = _ask(operation, served)
            assert not isinstance(read, Exception), f"{read!r} pour {served!r}"
            operation.same(answer, read)

    check()


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_answer_the_contract_refuses_is_refused_clearly_and_nothing_of_it_is_read(
    name: str,
) -> None:
    operation = OPERATIONS[name]
    schema = operation.schema()
    valid = Draft202012Validator(schema, validate_formats=True).is_valid
    places: set[str] = set()

    @SETTINGS
    @given(_answers(operation))
    def check(answer: dict[str, Any]) -> None:
        for at, kind, spoilt in _spoilt(answer, schema, valid):
            places.add(_generic(at))
            read, service = _ask(operation, spoilt)
            said = f"{kind} à {_generic(at)} : {json.dumps(spoilt)[:300]}"
            if at and at[0] in operation.tolerated:
                assert isinstance(read, Ack) and read.amount_due_cents is None, said
                continue
            assert isinstance(read, operation.error), f"{read!r} ({said})"
            assert not isinstance(read, RateLimited), said
            assert str(read).startswith(("Réponse inattendue", "Réponse illisible")), said
            assert "service national" in str(read), said
            assert service.after() == [], f"{service.after()} demandé après ({said})"

    check()
    # Every place the contract describes was spoilt, the nested ones included.
    described = {_generic(at) for at, _ in _places(operation.fix(_example(schema)), schema) if at}
    assert described <= places | {"(la réponse)"}, described - places


def _example(schema: dict[str, Any]) -> Any:
    """The fullest answer the schema describes (one item per list, every property)."""
    if "properties" in schema:
        return {k: _example(v) for k, v in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        return [_example(schema["items"])]
    return None


# ---------------------------------------------------------------------- a kiosk revoked


REVOKED = {
    "type": "about:blank",
    "title": "Borne retirée.",
    "status": 403,
    "code": "borne_revoquee",
}


#: Asked with no token, by a kiosk not enrolled yet: a 403 there is a wrong code, no revocation.
WITHOUT_TOKEN = {"enrolement_utilise"}


@pytest.mark.parametrize("name", sorted(set(OPERATIONS) - WITHOUT_TOKEN))
def test_a_revoked_kiosk_is_told_so_on_any_call_the_token_request_included(name: str) -> None:
    operation = OPERATIONS[name]
    for route in (operation.route, "/v1/jetons"):

        def handle(request: httpx.Request, route: str = route) -> httpx.Response:
            if request.url.path == route:
                return httpx.Response(
                    403, json=REVOKED, headers={"Content-Type": "application/problem+json"}
                )
            if request.url.path == "/v1/jetons":
                return httpx.Response(200, json=TOKEN)
            return httpx.Response(200, json={"changements": [], "curseur": "0", "encore": False})

        with _api(httpx.MockTransport(handle)) as api, pytest.raises(KioskRevoked):
            operation.call(api)


def test_a_403_without_the_revocation_code_is_no_revocation() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/jetons":
            return httpx.Response(200, json=TOKEN)
        forbidden = {**REVOKED, "code": "autre_chose"}
        return httpx.Response(
            403, json=forbidden, headers={"Content-Type": "application/problem+json"}
        )

    with _api(httpx.MockTransport(handle)) as api, pytest.raises(ServiceUnavailable):
        api.site_kiosks()


# ---------------------------------------------------------------------- answers that are no JSON


def _served(
    path: str, status: int, headers: dict[str, str], body: bytes = b""
) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/jetons":
            return httpx.Response(200, json=TOKEN)
        assert request.url.path == path
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(handle)


@contextmanager
def _api(transport: httpx.BaseTransport) -> Iterator[HttpNationalApi]:
    api = HttpNationalApi("http://national.test", "borne", "s", transport=transport, tls=TLS)
    try:
        yield api
    finally:
        api.close()


DOCUMENT = "/v1/dossiers/NAT-00000001/documents/doc-1"
BUNDLE = "/v1/paquets/demarches/7"
#: What a portal or a proxy answers with a 200, and types near the right ones.
NOT_PDF = ["text/html; charset=utf-8", "application/json", "application/octet-stream",
           "image/png", "application/pdfx", ""]  # fmt: skip


@SETTINGS
@given(
    body=st.binary(max_size=2000),
    kind=st.sampled_from(["application/pdf", "application/PDF", "application/pdf; qs=1"]),
)
def test_a_document_issued_is_taken_as_a_pdf(body: bytes, kind: str) -> None:
    with _api(_served(DOCUMENT, 200, {"Content-Type": kind}, body)) as api:
        assert api.document("NAT-00000001", "doc-1", 2000) == body


@pytest.mark.parametrize("kind", NOT_PDF)
def test_a_document_that_is_no_pdf_is_refused(kind: str) -> None:
    headers = {"Content-Type": kind} if kind else {}
    served = _served(DOCUMENT, 200, headers, b"<html>Wi-Fi</html>")
    with _api(served) as api, pytest.raises(ServiceUnavailable, match="portail captif"):
        api.document("NAT-00000001", "doc-1", 2000)


def test_a_document_larger_than_announced_is_refused() -> None:
    served = _served(DOCUMENT, 200, {"Content-Type": "application/pdf"}, b"%" * 2001)
    with _api(served) as api, pytest.raises(ServiceUnavailable, match="démesurée"):
        api.document("NAT-00000001", "doc-1", 2000)


@pytest.mark.parametrize(
    "body",
    [
        b'{"cle": "0123456789abcdef", "cle": "fedcba9876543210", "manifeste": "",'
        b' "signature": "", "fichiers": []}',
        b'{"cle": "0123456789abcdef", "manifeste": "", "signature": "", "fichiers": [], "x": NaN}',
        b"\xff\xfe{}",
        b"[]",
    ],
    ids=["cle-en-double", "nan", "pas-utf8", "pas-un-objet"],
)
def test_a_bundle_is_read_strictly_or_refused(body: bytes) -> None:
    """Python's JSON takes a key twice (the last wins) and NaN: not the client, for a bundle."""
    served = _served(BUNDLE, 200, JSON, body)
    with _api(served) as api, pytest.raises(ServiceUnavailable, match="Réponse inattendue"):
        api.bundle("demarches", 7, MAX_BUNDLE_BYTES)


def test_a_bundle_larger_than_a_kiosk_takes_is_abandoned() -> None:
    body = b'{"cle": "0123456789abcdef", "manifeste": "' + b"A" * 3000 + b'"}'
    served = _served(BUNDLE, 200, JSON, body)
    with _api(served) as api, pytest.raises(ServiceUnavailable, match="démesurée"):
        api.bundle("demarches", 7, 2000)


class Uploads:
    """The service of an upload: an acknowledgement naming the piece, then ``said`` as the
    first HEAD's ``Upload-Offset`` (the piece complete afterwards)."""

    def __init__(self, said: str | None, status: int = 200) -> None:
        self.said, self.status = said, status
        self.heads = 0
        self.patches: list[tuple[str, bytes]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/jetons":
            return httpx.Response(200, json=TOKEN)
        if request.url.path == "/v1/dossiers":
            ack = {"id": DOSSIER, "numero_national": "NAT-1", "statut": "pieces_attendues"}
            return httpx.Response(201, json=_our_piece({**ack, "pieces": []}))
        assert request.url.path == UPLOAD
        if request.method == "PATCH":
            self.patches.append((request.headers["Upload-Offset"], request.content))
            return httpx.Response(204, headers={"Upload-Offset": str(len(PIECE))})
        self.heads += 1
        said = self.said if self.heads == 1 else str(len(PIECE))
        return httpx.Response(self.status, headers={} if said is None else {"Upload-Offset": said})


@SETTINGS
@given(offset=st.integers(0, len(PIECE)), status=st.sampled_from([200, 204]))
def test_the_upload_resumes_from_any_offset_the_contract_allows(offset: int, status: int) -> None:
    service = Uploads(str(offset), status)
    with _api(httpx.MockTransport(service.handle)) as api:
        assert _submit(api).national_number == "NAT-1"
    expected = [] if offset == len(PIECE) else [(str(offset), PIECE[offset:])]
    assert service.patches == expected


@SETTINGS
@given(
    said=st.one_of(
        st.integers(max_value=-1).map(str),
        st.integers(min_value=len(PIECE) + 1).map(str),
        st.sampled_from(["", "abc", "1_0", "+5", "٣", "5.0", "0x10", "1e3"]),
        st.none(),
    )
)
def test_an_upload_offset_the_contract_does_not_allow_sends_nothing(said: str | None) -> None:
    service = Uploads(said)
    transport = httpx.MockTransport(service.handle)
    with _api(transport) as api, pytest.raises(ServiceUnavailable, match="Upload-Offset"):
        _submit(api)
    assert service.patches == []


# ---------------------------------------------------------------------- what the client took


def _page(**change: Any) -> dict[str, Any]:
    base = {"id": DOSSIER, "numero_national": "NAT-1", "statut": "a_completer"}
    return {"changements": [{**base, **change}], "curseur": "1", "encore": False}


#: Answers the client took before, and what it made of them (each a bug, fixed).
TAKEN_BEFORE: dict[str, tuple[str, object]] = {
    # A token forever, or already expired.
    "jeton-duree-nulle": ("jeton", {**TOKEN, "expires_in": 0}),
    "jeton-duree-negative": ("jeton", {**TOKEN, "expires_in": -5}),
    # 4,096 characters and padding: a header line longer than the contract allows.
    "jeton-trop-long": ("jeton", {**TOKEN, "access_token": "a" * 4096 + "=="}),
    # Uploads sent before the acknowledgement was found unusable.
    "depot-statut-apres-televersement": (
        "depot",
        _our_piece({"id": DOSSIER, "numero_national": "NAT-1", "statut": "?", "pieces": []}),
    ),
    # A page applied, then a cursor saved that the service refuses (400) at every next pull:
    # the feed stuck for good, even once the service was right again.
    "curseur-illisible": ("changements", {**_page(), "curseur": "abc"}),
    # « abc » read as three missing things, « a », « b » and « c ».
    "manquant-texte": ("changements", _page(manquant="abc")),
    # A status that is none of the contract's, dropped silently by the follow-up.
    "statut-inconnu": ("changements", _page(statut="en_instruction")),
    # An ISO week (fromisoformat takes it), a day the contract's format refuses.
    "date-semaine": ("changements", _page(date_limite="2027-W01-1")),
    # A reason, a document, a date left out and the decision applied without them, for good
    # (the cursor moved on).
    "motif-sans-message": ("changements", _page(motifs=[{"type": "autre"}])),
    "document-image": (
        "changements",
        _page(
            documents=[
                {
                    "id": "d",
                    "type": "lettre_decision",
                    "titre": "Lettre",
                    "type_mime": "image/png",
                    "taille": 9,
                    "sha256": "a" * 64,
                }
            ]
        ),
    ),
    # A timbre worth nothing, consumed.
    "timbre-nul": (
        "timbre",
        {
            "timbre": TIMBRE,
            "numero_national": "N",
            "statut": "accepte",
            "montant_centimes": 0,
            "reste_du_centimes": 100,
        },
    ),
    # A reference without the address to pay it (nothing printed), an empty reference.
    "paiement-sans-adresse": (
        "paiement",
        {
            "numero_national": "N",
            "reference": "PNP-1",
            "montant_du_centimes": 100,
            "reste_du_centimes": 0,
            "statut": "paye",
            "url": None,
        },
    ),
    "paiement-reference-vide": (
        "paiement",
        {
            "numero_national": "N",
            "reference": "",
            "montant_du_centimes": 0,
            "reste_du_centimes": 0,
            "statut": "rien_a_payer",
            "url": None,
        },
    ),
}


@pytest.mark.parametrize("case", sorted(TAKEN_BEFORE))
def test_an_answer_the_client_took_before_is_refused(case: str) -> None:
    name, answer = TAKEN_BEFORE[case]
    operation = OPERATIONS[name]
    assert not Draft202012Validator(operation.schema(), validate_formats=True).is_valid(answer)
    read, service = _ask(operation, answer)
    assert isinstance(read, operation.error), repr(read)
    assert service.after() == []


def test_an_upload_path_on_another_host_never_gets_the_token() -> None:
    """The acknowledgement names where to upload; a full address elsewhere would have had the
    kiosk send its bearer token there."""
    ack = _our_piece({"id": DOSSIER, "numero_national": "NAT-1", "statut": "depose", "pieces": []})
    ack["pieces"][-1]["televersement"] = "https://ailleurs.example/v1/televersements/u-1"
    read, service = _ask(OPERATIONS["depot"], ack)
    assert isinstance(read, FilingFailed) and "televersement" in str(read)
    assert not [asked for asked in service.asked if "ailleurs.example" in asked]


@pytest.mark.parametrize(
    "url",
    [
        "https://paiement.service-national.invalid/payer/PNP-1",
        "https://paiement.gouv.fr:8443/p?ref=PNP-1&m=433,76#qr",
        "https://a/%41",
        "https://a/b%zz",
        "https://a/b c",
        "https://a/<x>",
        "https://a/b#c#d",
        "https://user@a/",
        "http://a/",
        "https://",
    ],
)
def test_a_payment_address_is_taken_exactly_when_the_contract_allows_it(url: str) -> None:
    """The QR code printed on the receipt: an address a telephone can open (RFC 3986)."""
    answer = {"numero_national": "N", "reference": "PNP-1", "montant_du_centimes": 100,
              "reste_du_centimes": 100, "statut": "a_payer", "url": url}  # fmt: skip
    allowed = Draft202012Validator(OPERATIONS["paiement"].schema(), validate_formats=True)
    read, _ = _ask(OPERATIONS["paiement"], answer)
    assert isinstance(read, ServiceUnavailable) is not allowed.is_valid(answer), read
