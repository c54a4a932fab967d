"""The reference national API (training mode, demos, tests): docs/national-api.json, served.

Routes under ``/v1`` are the contract; ``/_control`` belongs to the simulator only (fault knobs,
simulated time, counts for tests). Errors are RFC 9457 problem documents in French.

The acknowledgement of a filing says the amount due (``montant_du_centimes``). The real service
computes it from its own records; the simulator uses the kiosk's own estimate
(kiosk/fees/) on the answers it received, at its own date and with its own tariffs (a test can
give it a newer tariff than the kiosk's, to make the two differ).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from sync.server import enrolment, fleet, followup, payments, receipts
from sync.server.bundles import BundleShelf
from sync.server.db import SimDatabase, fingerprint, national_number
from sync.server.demo import DEMO_CLIENTS
from sync.server.faults import PROBLEM, FaultInjector
from sync.server.instruction import (
    REFUSALS,
    decide_due,
    file_sha256,
    known_demarches,
    sent_back,
)
from sync.server.validation import IDEMPOTENCY_KEY, OFFSET, cursor, filing_errors, limit

if TYPE_CHECKING:
    from kiosk.demarches import Catalog, Demarche
    from kiosk.fees import TariffBook

log = logging.getLogger(__name__)

TOKEN_TTL = 300  # seconds: short-lived bearer tokens


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_HTTP_TITLES = {
    404: "Ressource inconnue.",
    405: "Méthode non prise en charge sur cette ressource.",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    """The framework's own errors (unknown path, method not allowed) as problem documents."""
    assert isinstance(exc, HTTPException)
    title = _HTTP_TITLES.get(exc.status_code, "Requête refusée.")
    return problem(exc.status_code, title, headers=dict(exc.headers or {}))


async def _revoked(request: Request, exc: Exception) -> Response:
    """Any call of a kiosk withdrawn from service (sync/server/fleet.py)."""
    return _revoked_problem()


def _revoked_problem() -> JSONResponse:
    return problem(
        403,
        "Borne retirée du service.",
        "Cette borne a été révoquée par un superviseur de son site.",
        code=fleet.REVOKED_CODE,
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    """A bug of the server still answers a problem document (and is logged by uvicorn)."""
    return problem(500, "Erreur interne du service.")


def _idem(kind: str, client: str, key: str) -> str:
    """The idempotency record's key: per kind of request and per kiosk (a kiosk replaying
    another's key gets nothing of it)."""
    return f"{kind}:{client}:{key}"


def _replayed(c: Any, idem: str, print_: str, **conflict: Any) -> Response | None:
    """What an idempotency key already had: its first answer again (``Idempotent-Replayed``),
    or a 409 when it came with another content (``conflict``: the problem's detail or code);
    None for a key never seen."""
    seen = c.execute(
        "SELECT empreinte, statut_http, reponse FROM idem WHERE cle = ?", (idem,)
    ).fetchone()
    if seen is None:
        return None
    if seen["empreinte"] != print_:
        return problem(409, "Clé d'idempotence déjà utilisée pour un autre contenu.", **conflict)
    return Response(
        seen["reponse"],
        status_code=seen["statut_http"],
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


async def _json_body(request: Request) -> Any:
    """The request's JSON body, or the 400 problem to answer when it is not JSON (a body is
    never a ``Response``: the caller tells the two apart by type)."""
    try:
        return json.loads(await request.body())
    except ValueError:
        return problem(400, "Requête invalide.", "Le corps doit être un objet JSON.")


def _key_problem() -> JSONResponse:
    return problem(
        400,
        "En-tête Idempotency-Key obligatoire (64 caractères au plus).",
        "1 à 64 caractères parmi A-Z, a-z, 0-9, « . », « _ », « : » et « - ».",
    )


class NationalSimulator:
    """State of one simulated national service: its database, clients, tokens and clock."""

    def __init__(
        self,
        db_path: Path,
        *,
        clients: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        tariffs: TariffBook | None = None,
        sites: dict[str, str] | None = None,
    ) -> None:
        """``tariffs``: what the service charges by (the shipped tariff files by default);
        ``sites``: the site of each kiosk (client id → site; others: ``fleet.DEFAULT_SITE``)."""
        self.db = SimDatabase(db_path)
        with self.db.tx() as c:
            payments.seed(c)
            followup.seed(c)
            enrolment.seed(c)
        self._tariffs = tariffs
        self._catalog: Catalog | None = None
        self.clients = dict(clients or DEMO_CLIENTS)
        self._base_clock = clock
        self.offset = 0.0  # simulated time moved forward by ``POST /_control {"avancer": s}``
        self.rng = rng or random.Random()  # noqa: S311 - fault draws, not secrets
        self._tokens: dict[str, tuple[str, float]] = {}  # token → (client id, expiry)
        self._demarches = known_demarches()
        self.fleet = fleet.Fleet(self.db, self.clients, sites or {}, self.now)
        self.lookups = receipts.Lookups()
        self.bundles = BundleShelf(self.now)
        api = Starlette(
            routes=self._routes(),
            exception_handlers={
                HTTPException: _http_error,
                fleet.Revoked: _revoked,
                Exception: _server_error,
            },
        )
        self.app = FaultInjector(api, self.now, self.rng, self.client_of)

    def now(self) -> float:
        """The server's (possibly simulated) time."""
        return self._base_clock() + self.offset

    def _routes(self) -> list[Route]:
        return [
            Route("/v1/jetons", self.token, methods=["POST"]),
            Route("/v1/dossiers", self.create_dossier, methods=["POST"]),
            Route("/v1/televersements/{upload_id}", self.upload, methods=["HEAD", "PATCH"]),
            Route("/v1/changements", self.changes, methods=["GET"]),
            Route("/v1/timbres", self.timbre, methods=["POST"]),
            Route("/v1/dossiers/{numero}/paiement", self.payment, methods=["GET"]),
            Route("/v1/paquets", self.bundle_list, methods=["GET"]),
            Route("/v1/paquets/{type}/{serie}", self.bundle, methods=["GET"]),
            Route("/v1/dossiers/{numero}/documents/{id}", self.document, methods=["GET"]),
            Route("/v1/notifications", self.notification, methods=["POST"]),
            Route("/v1/suivi", self.follow_receipt, methods=["POST"]),
            Route("/v1/enrolements", self.file_enrolment, methods=["POST"]),
            Route("/v1/enrolements/{id}", self.redeem_enrolment, methods=["POST"]),
            Route("/v1/bornes", self.site_kiosks, methods=["GET"]),
            Route("/v1/bornes/rapport", self.kiosk_report, methods=["POST"]),
            Route("/v1/bornes/{borne}/revocation", self.revoke_kiosk, methods=["POST"]),
            Route("/_control", self.control, methods=["GET", "POST"]),
            Route("/_control/depots", self.control_filings, methods=["GET"]),
            Route("/_control/paiements", self.control_payments, methods=["GET", "POST"]),
            Route("/_control/paquets", self.control_bundles, methods=["GET", "POST"]),
            Route("/_control/notifications", self.control_notifications, methods=["GET"]),
            Route("/_control/decider", self.control_decide, methods=["POST"]),
            Route("/_control/bornes", self.control_kiosks, methods=["GET", "POST"]),
        ]

    # ------------------------------------------------------------------ auth

    async def token(self, request: Request) -> Response:
        """Client credentials → a short-lived bearer token."""
        try:
            data = await request.json()
        except ValueError:
            return problem(400, "Requête invalide.", "Le corps doit être un objet JSON.")
        if not isinstance(data, dict):
            return problem(400, "Requête invalide.", "Le corps doit être un objet JSON.")
        if data.get("grant_type") != "client_credentials":
            return problem(400, "Requête invalide.", "grant_type doit être client_credentials.")
        client, secret = data.get("client_id"), data.get("client_secret")
        if not isinstance(client, str) or not isinstance(secret, str):
            return problem(400, "Requête invalide.", "client_id et client_secret sont des textes.")
        expected = self.clients.get(client)
        if expected is not None:
            known = secrets.compare_digest(expected.encode("utf-8"), secret.encode("utf-8"))
        else:  # a kiosk enrolled through /v1/enrolements
            with self.db.tx() as c:
                known = enrolment.known_kiosk(c, client, secret)
        if not known:
            return problem(401, "Identifiants refusés.", "Identifiant ou secret de borne inconnu.")
        if self.fleet.is_revoked(client):
            return _revoked_problem()  # the right secret, of a kiosk withdrawn from service
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (client, self.now() + TOKEN_TTL)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL}
        )

    def _caller(self, request: Request) -> str | None:
        """The client id (the kiosk) behind the request's bearer token; ``None``: no valid token.

        Everything a kiosk reads or changes is scoped by it. A revoked kiosk's call, with a
        token it got before, ends here (:class:`fleet.Revoked`: 403 ``borne_revoquee``).
        """
        client = self.client_of(request.scope)
        if client is not None and self.fleet.is_revoked(client):
            raise fleet.Revoked(client)
        return client

    def client_of(self, scope: Scope) -> str | None:
        """The client id behind a request's bearer token (``None``: no valid token).

        The quota is shared per client (per kiosk), not per token or per connection.
        """
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                entry = self._tokens.get(token)
                if scheme.lower() == "bearer" and entry is not None and self.now() < entry[1]:
                    return entry[0]
        return None

    # ------------------------------------------------------------------ filing

    async def create_dossier(self, request: Request) -> Response:
        """File a dossier, idempotently on ``Idempotency-Key``."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key):
            return _key_problem()
        body = await _json_body(request)
        if isinstance(body, Response):
            return body  # not JSON: said as a problem
        # Canonical form: the same dossier re-serialised differently is the same request.
        print_ = fingerprint(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
        idem = _idem("depot", client, key)
        with self.db.tx() as c:
            detail = f"La clé {key} a déjà servi pour un dossier différent."
            if (replayed := _replayed(c, idem, print_, detail=detail)) is not None:
                return replayed
            errors = filing_errors(body, self._demarches)
            if errors:
                return problem(
                    422,
                    "Dossier invalide.",
                    "Le dossier ne peut pas être instruit en l'état.",
                    erreurs=errors,
                )
            answer = self._file(c, body, client)
            if answer is None:
                return problem(
                    409,
                    "Dossier déjà déposé.",
                    "Ce dossier a déjà été déposé et n'attend pas de complément.",
                )
            text = json.dumps(answer, ensure_ascii=False)
            c.execute(
                "INSERT INTO idem (cle, empreinte, statut_http, reponse) VALUES (?, ?, ?, ?)",
                (idem, print_, 201, text),
            )
        return Response(text, status_code=201, media_type="application/json")

    def _file(self, c: Any, body: dict[str, Any], client: str) -> dict[str, Any] | None:
        """Record a filing of the kiosk ``client`` (or a complement after « à compléter »);
        ``None`` if not allowed (filed and not sent back, or another kiosk's dossier)."""
        now = self.now()
        pieces = body.get("pieces") or []
        statut = "pieces_attendues" if pieces else "depose"
        previous = c.execute(
            "SELECT numero, statut, borne FROM depot WHERE dossier_id = ? ORDER BY numero DESC",
            (body["id"],),
        ).fetchone()
        corps = json.dumps(body, ensure_ascii=False)
        if previous is None:
            numero = c.execute(
                "INSERT INTO depot (dossier_id, borne, reference, corps, statut, depose_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (body["id"], client, body.get("reference"), corps, statut, now),
            ).lastrowid
        elif previous["statut"] == "a_completer" and previous["borne"] == client:
            numero = previous["numero"]
            c.execute(
                "UPDATE depot SET corps = ?, statut = ?, depose_at = ?, depots = depots + 1,"
                " motif = NULL, manquant = NULL WHERE numero = ?",
                (corps, statut, now, numero),
            )
        else:
            return None
        uploads = []
        for piece in pieces:
            upload_id = uuid.uuid4().hex
            c.execute(
                "INSERT INTO piece (id, numero, sha256, taille, type_mime) VALUES (?, ?, ?, ?, ?)",
                (upload_id, numero, piece["sha256"], piece["taille"], piece.get("type_mime")),
            )
            uploads.append(
                {
                    "sha256": piece["sha256"],
                    "taille": piece["taille"],
                    "televersement": f"/v1/televersements/{upload_id}",
                }
            )
        answer: dict[str, Any] = {
            "id": body["id"],
            "numero_national": national_number(int(numero)),
            "statut": statut,
            "pieces": uploads,
        }
        due = self.amount_due(body, now)
        if due is not None:
            answer["montant_du_centimes"] = due
        payments.set_amount_due(c, int(numero), due)
        return answer

    def amount_due(self, body: dict[str, Any], now: float) -> int | None:
        """What the simulated service says the dossier owes, in cents (None: it cannot say)."""
        from kiosk.fees import default_tariffs_dir, estimate, load_tariffs
        from kiosk.settings.timezone import counter_time

        if self._tariffs is None:
            self._tariffs = load_tariffs(default_tariffs_dir())
        definition, answers = self.demarche_of(body), body.get("reponses")
        if definition is None or not isinstance(answers, dict):
            return None
        day = counter_time(datetime.fromtimestamp(now, UTC)).date()
        try:
            return estimate(definition, answers, day, self._tariffs).total
        except Exception:  # the amount is optional: the filing is acknowledged all the same
            log.exception("montant dû non calculé pour le dossier %s", body.get("reference"))
            return None

    def demarche_of(self, body: dict[str, Any]) -> Demarche | None:
        """The definition a filed body was made on (``None``: not one the service has)."""
        from kiosk.demarches import load_catalog
        from kiosk.settings.paths import assets_dir

        if self._catalog is None:
            self._catalog = load_catalog(assets_dir() / "demarches")
        demarche = body.get("demarche")
        if not isinstance(demarche, dict):
            return None
        try:
            return self._catalog.get(str(demarche.get("id")), int(demarche["version"]))
        except (KeyError, TypeError, ValueError):
            return None

    # ------------------------------------------------------------------ uploads

    async def upload(self, request: Request) -> Response:
        """HEAD: where the upload stands. PATCH: append bytes at ``Upload-Offset``."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        upload_id = str(request.path_params["upload_id"])
        with self.db.tx() as c:
            row = c.execute(
                "SELECT p.numero, p.sha256, p.taille FROM piece p"
                " JOIN depot d ON d.numero = p.numero WHERE p.id = ? AND d.borne = ?",
                (upload_id, client),
            ).fetchone()
        if row is None:
            return problem(404, "Téléversement inconnu.")
        path = self.db.upload_path(upload_id)
        offset = path.stat().st_size if path.exists() else 0
        headers = {"Upload-Offset": str(offset), "Upload-Length": str(row["taille"])}
        if request.method == "HEAD":
            return Response(status_code=200, headers={**headers, "Cache-Control": "no-store"})
        if request.headers.get("Content-Type") != "application/offset+octet-stream":
            return problem(415, "Type de contenu attendu : application/offset+octet-stream.")
        claimed = request.headers.get("Upload-Offset", "")
        if not OFFSET.fullmatch(claimed):
            return problem(
                400, "En-tête Upload-Offset obligatoire.", "Un entier positif ou nul (octets)."
            )
        if claimed != str(offset):
            return problem(409, "Décalage incorrect.", f"Le téléversement en est à {offset}.")
        chunk = await request.body()
        if offset + len(chunk) > row["taille"]:
            return problem(413, "Plus d'octets que la taille annoncée.")
        with path.open("ab") as fh:
            fh.write(chunk)
        offset += len(chunk)
        if offset == row["taille"]:
            if file_sha256(path) != row["sha256"]:
                path.unlink()
                return problem(422, "Pièce altérée.", "L'empreinte SHA-256 ne correspond pas.")
            with self.db.tx() as c:
                c.execute("UPDATE piece SET complete = 1 WHERE id = ?", (upload_id,))
                left = c.execute(
                    "SELECT COUNT(*) FROM piece WHERE numero = ? AND complete = 0",
                    (row["numero"],),
                ).fetchone()[0]
                if left == 0:
                    c.execute(
                        "UPDATE depot SET statut = 'depose', depose_at = ?"
                        " WHERE numero = ? AND statut = 'pieces_attendues'",
                        (self.now(), row["numero"]),
                    )
        return Response(status_code=204, headers={"Upload-Offset": str(offset)})

    # ------------------------------------------------------------------ feeds

    async def changes(self, request: Request) -> Response:
        """Decisions recorded after the cursor ``apres``."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        after = cursor(request.query_params.get("apres"))
        size = limit(request.query_params.get("limite"))
        if after is None or size is None:
            return problem(
                400,
                "Paramètres invalides.",
                "apres : un curseur rendu par le service (un entier) ; limite : de 1 à 1000.",
            )
        f = self.app.faults
        with self.db.tx() as c:
            if f.paiement_avant_instruction:
                payments.ask_payment(c, self.now())
            decide_due(c, self.now(), f.delai_instruction, f.parts, self.demarche_of)
            rows = c.execute(
                "SELECT seq, dossier_id, numero, statut, motif, manquant, motifs, date_limite,"
                " documents FROM changement WHERE seq > ?"
                " AND numero IN (SELECT numero FROM depot WHERE borne = ?)"
                " ORDER BY seq LIMIT ?",
                (after, client, size + 1),
            ).fetchall()
        page = rows[:size]
        return JSONResponse(
            {
                "changements": [followup.feed_entry(r) for r in page],
                "curseur": str(page[-1]["seq"] if page else after),
                "encore": len(rows) > size,
            }
        )

    # ------------------------------------------------------------------ signed bundles

    async def bundle_list(self, request: Request) -> Response:
        """The signed bundles published: kind, serial, size of the download."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        return JSONResponse({"paquets": self.bundles.listing()})

    async def bundle(self, request: Request) -> Response:
        """One signed bundle (``PaquetSigne``), as published."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        kind, number = str(request.path_params["type"]), str(request.path_params["serie"])
        item = None
        if number.isascii() and number.isdigit() and len(number) <= 16:
            item = self.bundles.get(kind, int(number))
        if item is None:
            return problem(404, "Paquet inconnu.", code="paquet_inconnu")
        return Response(item.content, media_type="application/json")

    # ------------------------------------------------------------------ follow-up

    async def document(self, request: Request) -> Response:
        """The bytes of a document issued with a decision."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        numero = _filing_number(str(request.path_params["numero"]))
        found = None
        if numero is not None:
            with self.db.tx() as c:
                found = followup.document(c, numero, str(request.path_params["id"]), client)
        if found is None:
            return problem(
                404,
                "Document inconnu.",
                "Aucun document de ce dossier ne porte cet identifiant.",
                code="document_inconnu",
            )
        content, mime = found
        return Response(content, media_type=mime, headers={"Cache-Control": "no-store"})

    async def notification(self, request: Request) -> Response:
        """Send a text message about a dossier, idempotently on ``Idempotency-Key``."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key):
            return _key_problem()
        body = await _json_body(request)
        if isinstance(body, Response):
            return body  # not JSON: said as a problem
        wrong = followup.notification_errors(body)
        if wrong is not None:
            status, code, detail = wrong
            return problem(status, "Message refusé.", detail, code=code)
        print_ = fingerprint(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
        idem = _idem("notification", client, key)  # never a filing's, a timbre's, a kiosk's
        with self.db.tx() as c:
            if (replayed := _replayed(c, idem, print_, code="cle_reutilisee")) is not None:
                return replayed
            numero = _filing_number(body["numero_national"])
            known = (
                numero is not None
                and c.execute(
                    "SELECT 1 FROM depot WHERE numero = ? AND borne = ?", (numero, client)
                ).fetchone()
            )
            if numero is None or not known:
                # Not recorded: the kiosk is told for good, nothing was sent.
                return problem(404, "Dossier inconnu.", code="dossier_inconnu")
            answer = followup.send_notification(c, key, numero, body, self.now())
            text = json.dumps(answer, ensure_ascii=False)
            c.execute(
                "INSERT INTO idem (cle, empreinte, statut_http, reponse) VALUES (?, ?, ?, ?)",
                (idem, print_, 201, text),
            )
        return Response(text, status_code=201, media_type="application/json")

    # ------------------------------------------------------------------ enrolment

    async def file_enrolment(self, request: Request) -> Response:
        """A supervisor's kiosk files a new kiosk's sealed settings under a code's id."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        body = await _json_body(request)
        if isinstance(body, Response):
            return body  # not JSON: said as a problem
        errors = enrolment.filing_errors(body)
        if errors:
            return problem(
                422, "Dépôt d'enrôlement invalide.", errors[0]["message"], erreurs=errors
            )
        with self.db.tx() as c:
            answer = enrolment.file(c, body, client, self.now())
        if not answer:
            return problem(
                409,
                "Code d'enrôlement déjà déposé.",
                "Un code de même identifiant existe : tirez-en un autre.",
                code="code_existant",
            )
        return JSONResponse(answer, status_code=201)

    async def redeem_enrolment(self, request: Request) -> Response:
        """A new kiosk redeems a code, once: its credentials and the sealed settings. No token:
        the verifier derived from the code's secret is the proof."""
        body = await _json_body(request)
        if isinstance(body, Response):
            return body  # not JSON: said as a problem
        with self.db.tx() as c:
            status, answer = enrolment.redeem(c, str(request.path_params["id"]), body, self.now())
        if status != 200:
            title, detail = answer.pop("title"), answer.pop("detail", None)
            return problem(status, title, detail, **answer)
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------ payment

    async def timbre(self, request: Request) -> Response:
        """Check and consume a timbre fiscal électronique, idempotently on ``Idempotency-Key``."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key):
            return _key_problem()
        body = await _json_body(request)
        if isinstance(body, Response):
            return body  # not JSON: said as a problem
        print_ = fingerprint(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
        idem = _idem("timbre", client, key)  # never a filing's, another kiosk's
        with self.db.tx() as c:
            if (replayed := _replayed(c, idem, print_, code="cle_reutilisee")) is not None:
                return replayed
            status, answer = payments.use_timbre(c, body, self.now(), client)
            if status != 201:
                # Not recorded: an unknown timbre may be registered later, and asked again.
                title, detail = answer.pop("title"), answer.pop("detail", None)
                return problem(status, title, detail, **answer)
            text = payments.dumps(answer)
            c.execute(
                "INSERT INTO idem (cle, empreinte, statut_http, reponse) VALUES (?, ?, ?, ?)",
                (idem, print_, 201, text),
            )
        return Response(text, status_code=201, media_type="application/json")

    async def payment(self, request: Request) -> Response:
        """The payment reference of a filing, what it owes and whether it is paid."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        with self.db.tx() as c:
            status, answer = payments.reference_of(c, str(request.path_params["numero"]), client)
        if status != 200:
            title, detail = answer.pop("title"), answer.pop("detail", None)
            return problem(status, title, detail, **answer)
        return JSONResponse(answer)

    async def follow_receipt(self, request: Request) -> Response:
        """A filed dossier's state from its receipt's reference and code (any kiosk)."""
        if self._caller(request) is None:
            return problem(401, "Jeton absent ou expiré.")
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        why = receipts.request_errors(body)
        if why is not None:
            return problem(400, "Requête invalide.", why)
        reference, now = body["reference"], self.now()
        wait = self.lookups.closed(reference, now)
        if wait:
            return problem(
                429,
                "Trop de codes faux pour ce récépissé.",
                "Le suivi de cette référence reprendra dans une heure au plus.",
                headers={"Retry-After": str(wait)},
                code="trop_d_essais",
            )
        f = self.app.faults
        with self.db.tx() as c:
            decide_due(c, now, f.delai_instruction, f.parts, self.demarche_of)
            answer = receipts.lookup(c, reference, body["code"])
        if answer is None:
            self.lookups.wrong(reference, now)
            return problem(
                404,
                "Aucun dossier ne correspond à ce récépissé.",
                "Référence inconnue, code faux, ou dossier déposé sans vérificateur.",
                code="recu_inconnu",
            )
        return JSONResponse(answer)

    # ------------------------------------------------------------------ the site's kiosks

    async def kiosk_report(self, request: Request) -> Response:
        """Keep the asking kiosk's report (its fields and none other)."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        body = await _json_body(request)
        if isinstance(body, Response):
            return body  # not JSON: said as a problem
        status, answer = self.fleet.record_report(client, body)
        if status != 200:
            return problem(status, answer.pop("title"), answer.pop("detail", None), **answer)
        return JSONResponse(answer)

    async def site_kiosks(self, request: Request) -> Response:
        """The kiosks of the asking kiosk's site, with their last report."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        return JSONResponse(self.fleet.listing(client))

    async def revoke_kiosk(self, request: Request) -> Response:
        """A supervisor withdraws a kiosk of the same site from service."""
        client = self._caller(request)
        if client is None:
            return problem(401, "Jeton absent ou expiré.")
        body = await _json_body(request)
        if isinstance(body, Response):
            return body  # not JSON: said as a problem
        status, answer = self.fleet.revoke(client, str(request.path_params["borne"]), body)
        if status != 200:
            return problem(status, answer.pop("title"), answer.pop("detail", None), **answer)
        return JSONResponse(answer)

    # ------------------------------------------------------------------ simulator control

    async def control(self, request: Request) -> Response:
        """Read or change the fault knobs; move simulated time; declare an outage from now."""
        if request.method == "POST":
            try:
                changes = dict(await request.json())
            except (ValueError, TypeError):
                return problem(400, "Corps JSON attendu.")
            self.offset += float(changes.pop("avancer", 0.0))
            outage = changes.pop("panne", None)
            if outage:
                now = self.now()
                self.app.faults.pannes.append([now, now + float(outage)])
            try:
                self.app.configure(changes)
            except KeyError as exc:
                return problem(400, "Réglage inconnu.", f"Réglage inconnu : {exc.args[0]}.")
        f = self.app.faults
        return JSONResponse(
            {
                "reglages": {**f.__dict__, "parts": list(f.parts)},
                "statistiques": dict(self.app.stats),
                "heure": self.now(),
            }
        )

    async def control_payments(self, request: Request) -> Response:
        """POST ``{"payer": "<référence>"}``: the reference was paid (a phone, a
        tobacconist's); ``{"timbre": "<16 chiffres>", "montant_centimes": n}``: a timbre bought.
        GET: whether each timbre of the registry was used (0 or 1)."""
        if request.method == "POST":
            try:
                order = dict(await request.json())
            except (ValueError, TypeError):
                return problem(400, "Corps JSON attendu.")
            with self.db.tx() as c:
                if "payer" in order:
                    done = payments.mark_paid(c, order["payer"], self.now())
                    if done is None:
                        return problem(404, "Référence de paiement inconnue.")
                    return JSONResponse(done)
                if payments.add_timbre(c, order.get("timbre"), order.get("montant_centimes")):
                    return JSONResponse({"timbre": order["timbre"]})
            return problem(400, "Ordre inconnu.", "payer, ou timbre et montant_centimes.")
        with self.db.tx() as c:
            return JSONResponse({"timbres": payments.timbres_used(c)})

    async def control_bundles(self, request: Request) -> Response:
        """POST ``{"type": "demarches", "fichiers": {"<nom>": "<texte>"}}``: publish the next
        bundle of that kind, the shipped files and those given, signed; ``"serie"``: under that
        number; ``"defaut"``: spoilt after signing (sync/server/bundles.py, ``FAULTS``);
        ``"rejouer": n``: bundle n again, as it was. GET: the list."""
        if request.method == "POST":
            try:
                order = dict(await request.json())
                given = order.get("fichiers") or {}
                published = self.bundles.publish(
                    str(order["type"]),
                    {str(k): str(v).encode("utf-8") for k, v in dict(given).items()},
                    serial=order.get("serie"),
                    fault=order.get("defaut"),
                    replay=order.get("rejouer"),
                )
            except (ValueError, TypeError, KeyError):
                return problem(
                    400, "Ordre inconnu.", "type (demarches ou tarifs), fichiers, serie, defaut."
                )
            if published.kind == "demarches" and order.get("defaut") is None:
                # The service takes filings of the démarche versions it publishes.
                for name in published.files:
                    stem, _, version = name.removesuffix(".toml").rpartition(".v")
                    if version.isdigit():
                        self._demarches.setdefault(stem, set()).add(int(version))
            return JSONResponse(published.entry())
        return JSONResponse({"paquets": self.bundles.listing()})

    async def control_notifications(self, request: Request) -> Response:
        """Every text message « sent », and how many times under its key (the exactly-once
        check of the tests)."""
        with self.db.tx() as c:
            return JSONResponse({"notifications": followup.notifications_sent(c)})

    async def control_decide(self, request: Request) -> Response:
        """POST ``{"numero": "NAT-…"}`` or ``{"dossier": "<uuid>"}``, ``"statut"``
        (accepte, refuse, a_completer), optionally ``"motifs"`` and ``"date_limite"``: decide
        that filing now (tests and training make a dossier « à compléter » so)."""
        try:
            order = dict(await request.json())
        except (ValueError, TypeError):
            return problem(400, "Corps JSON attendu.")
        statut = order.get("statut")
        if statut not in followup.STATUSES:
            return problem(400, "Statut inconnu.", "statut : accepte, refuse ou a_completer.")
        motifs = followup.check_motifs(order.get("motifs", []))
        if motifs is None:
            return problem(400, "Motifs mal formés.", "Une liste de Motif (type, message).")
        try:
            limit = order.get("date_limite")
            day = date.fromisoformat(limit) if isinstance(limit, str) else None
        except ValueError:
            return problem(400, "Date limite mal formée.", "AAAA-MM-JJ.")
        now = self.now()
        with self.db.tx() as c:
            numero = _filing_number(str(order.get("numero") or ""))
            if numero is None and isinstance(order.get("dossier"), str):
                row = c.execute(
                    "SELECT MAX(numero) FROM depot WHERE dossier_id = ?", (order["dossier"],)
                ).fetchone()
                numero = row[0] if row is not None else None
            row = c.execute(
                "SELECT statut, corps FROM depot WHERE numero = ?", (numero,)
            ).fetchone()
            if row is None or numero is None:
                return problem(404, "Dossier inconnu.", code="dossier_inconnu")
            if row["statut"] in followup.STATUSES:
                return problem(409, "Dossier déjà décidé.", f"Il est « {row['statut']} ».")
            body = json.loads(row["corps"])
            demarche = self.demarche_of(body)
            motif = motifs[0]["message"] if motifs else None
            manquant: list[str] = []
            if statut == "a_completer":
                if not motifs:
                    motif, manquant, motifs = sent_back(0, demarche, body)
                day = day or followup.deadline(now)
            elif statut == "refuse" and not motifs:
                motif = REFUSALS[0]
                motifs = [{"type": "autre", "message": motif}]
            change = followup.record_decision(
                c,
                numero,
                statut,
                now,
                motif=motif,
                manquant=manquant,
                motifs=motifs,
                date_limite=day if statut == "a_completer" else None,
                theme=demarche.theme if demarche is not None else None,
            )
        return JSONResponse(change)

    async def control_kiosks(self, request: Request) -> Response:
        """POST ``{"revoquer": "<borne>"}`` (as the national service's own administration
        would) or ``{"retablir": "<borne>"}``; GET: every kiosk, its site, report, revocation."""
        if request.method == "POST":
            try:
                order = dict(await request.json())
            except (ValueError, TypeError):
                return problem(400, "Corps JSON attendu.")
            target = order.get("revoquer") or order.get("retablir")
            if not isinstance(target, str) or target not in self.clients:
                return problem(404, "Borne inconnue.", code="borne_inconnue")
            if "revoquer" in order:
                self.fleet.set_revoked(target, by="administration")
            else:
                self.fleet.reinstate(target)
        return JSONResponse({"bornes": self.fleet.everything()})

    async def control_filings(self, request: Request) -> Response:
        """Filing rows per dossier UUID (the exactly-once check of the tests)."""
        return JSONResponse({"depots": self.db.filings_per_dossier()})


def _filing_number(numero: str) -> int | None:
    """The filing row a national number names (``NAT-00000042`` → 42), or ``None``."""
    prefix, _, digits = numero.partition("-")
    if prefix != "NAT" or not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)
