"""The national API over HTTP (httpx), as described in docs/national-api.json.

Turns every answer into one of three outcomes the worker understands (see ``kiosk.ports.national``):
an :class:`Ack`, a :class:`ServiceUnavailable` (retry later, safely) or a :class:`Refused`
(back to the counter). Only 201/202 count as filed: a 200 to a filing is a captive portal or a
proxy, never the national service. Credentials never appear in messages or logs. Every
answer is checked whole against the contract before anything of it is used
(:mod:`sync.answers`): one it does not allow is a :class:`ServiceUnavailable` naming where.

A hostile or broken server can neither exhaust nor stall the kiosk: an answer is read
incrementally and dropped past :data:`MAX_ANSWER` bytes (compression is not accepted, so a
few bytes cannot unfold into gigabytes), and every request has an overall deadline
(:data:`DEADLINE`), from the connection to the last byte of the answer, headers included:
httpx's timeouts bound each read, and a server sending one byte a second never trips them.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import math
import re
import ssl
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpcore
import httpx

from kiosk.ports.national import (
    ENROLMENT_REFUSALS,
    TIMBRE_REFUSALS,
    Ack,
    ChangesPage,
    EnrolmentRefused,
    FieldProblem,
    FilingFailed,
    KioskReport,
    KioskRevoked,
    LocalPiece,
    OutgoingDossier,
    OutgoingNotification,
    OutgoingTimbre,
    PaymentInfo,
    QuotaHint,
    RateLimited,
    ReceiptLocked,
    ReceiptStatus,
    ReceiptUnknown,
    Redeemed,
    Refused,
    ServiceUnavailable,
    SiteKiosk,
    SiteKiosks,
    TimbreVerdict,
    wrong_code_message,
)
from kiosk.updates import PublishedBundle, SignedBundle
from sync import answers
from sync.tls import TlsPolicy, describe_tls_failure

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CHUNK_SIZE = 256 * 1024
# The largest answer of the contract is the démarches' signed bundle (~0.6 MB today, at most
# 4 MB: kiosk/updates/bundle.py); a changes page of 200 decisions is tens of kB. Far above
# both, far below what would hurt a kiosk.
MAX_ANSWER = 8_000_000  # bytes
# From the first byte sent to the last byte received, whatever the pace: a chunk upload of
# 256 KiB still fits at 40 kbit/s.
DEADLINE = 60.0  # seconds
_OFFSET = re.compile(r"[0-9]{1,15}")  # Upload-Offset: bytes, ASCII digits
_POLICY = re.compile(r"(?:^|[;,\s])q=(\d+(?:\.\d+)?)(?:.*?[;,\s]w=(\d+(?:\.\d+)?))?")
_SIZE = re.compile(r"(?:^|[;,\s])([cnr])=(\d{1,12}(?:\.\d{1,6})?)(?=$|[;,\s])")
#: The largest fleet and rank read from ``Service-Capacity``: beyond, a broken answer.
MAX_FLEET = 10_000_000
#: The longest wait a ``Next-Request-In`` may book (seconds); beyond, it is ignored.
MAX_BOOKED = 86_400.0
#: The problem ``code`` that says the asking kiosk was withdrawn from service (any call).
REVOKED = "borne_revoquee"


def amount_due(value: object, reference: str) -> int | None:
    """The acknowledgement's ``montant_du_centimes``, if it is an amount a dossier can owe.

    Optional in the contract: absent or null says nothing. Anything else that is not a whole
    number of cents from 0 to 200 000 € (a negative, a fraction, a string, ``true``, a billion)
    is ignored with a warning, the one field of an answer the client reads so: the filing
    itself is acknowledged all the same, and the agent keeps the kiosk's estimate rather than
    a wrong « montant dû ». Refusing the acknowledgement for it would lose the filing for good:
    every retry with the same key gets the same answer replayed.
    """
    if value is None:
        return None
    try:
        return answers.integer(value, "montant_du_centimes", lo=0, hi=answers.MAX_AMOUNT)
    except answers.Malformed:
        shown = repr(value)
        log.warning(
            "dossier %s : montant dû illisible dans l'accusé de réception du service national"
            " (%s), ignoré",
            reference,
            shown if len(shown) <= 40 else shown[:39] + "…",
        )
        return None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" is a digit to isdigit(), not to float()
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def parse_rate_policy(value: str | None) -> float | None:
    """Requests per second from ``RateLimit-Policy: borne;q=100;w=10`` (``None`` if absent or
    unreadable: the IETF draft says a malformed policy is ignored). The form of before, without
    a policy name and with a decimal quota (``q=0.05;w=1``), still reads."""
    if not value:
        return None
    match = _POLICY.search(value)
    if match is None:
        return None
    window = float(match.group(2) or 1.0)
    rate = float(match.group(1)) / window if window > 0 else None
    return rate if rate is not None and math.isfinite(rate) else None  # 400 digits: inf


def parse_service_capacity(value: str | None) -> tuple[float | None, int | None, int | None]:
    """(capacity in requests/s, fleet, rank) from ``Service-Capacity: c=100;n=10000;r=42``.

    Each part that is missing or out of bounds is ``None`` (the kiosk keeps what it knew).
    """
    if not value:
        return None, None, None
    parts = dict(_SIZE.findall(value[:200]))
    capacity = float(parts["c"]) if "c" in parts else None
    if capacity is not None and not 0 < capacity < 1e9:
        capacity = None
    fleet, rank = (int(parts[k]) if k in parts and parts[k].isdigit() else None for k in ("n", "r"))
    fleet = fleet if fleet is not None and 0 < fleet <= MAX_FLEET else None
    rank = rank if rank is not None and rank < MAX_FLEET else None
    return capacity, fleet, rank


def parse_next_request(value: str | None) -> float | None:
    """Seconds from ``Next-Request-In: 12.5`` (the place booked for the next request)."""
    if not value:
        return None
    text = value.strip()
    if not (0 < len(text) <= 20 and text.isascii() and text.replace(".", "", 1).isdigit()):
        return None
    seconds = float(text)
    return seconds if seconds <= MAX_BOOKED else None


class HttpNationalApi:
    """:class:`kiosk.ports.national.NationalApi` over HTTP. Blocking; one instance per worker."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 15.0,
        throttle: Callable[[], None] | None = None,
        chunk_size: int = CHUNK_SIZE,
        transport: httpx.BaseTransport | None = None,
        tls: ssl.SSLContext | None = None,
        max_answer: int = MAX_ANSWER,
        deadline: float = DEADLINE,
    ) -> None:
        """``tls``: from :meth:`sync.tls.TlsPolicy.context` (default: the system's trust store).

        ``timeout`` bounds each connect, read and write; ``deadline`` a whole request and its
        answer; ``max_answer`` the bytes of an answer.
        """
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            verify=tls or TlsPolicy().context(),
            follow_redirects=False,  # a redirect to a login page must not look like an answer
            # Compressed answers would make the size cap meaningless (a zip bomb).
            headers={"User-Agent": "pn-kiosk-sync/1", "Accept-Encoding": "identity"},
        )
        _bound_by_deadline(self._http)
        self._max_answer = max_answer
        self._deadline = deadline
        self._client_id = client_id
        self._secret = client_secret
        self._throttle = throttle or (lambda: None)
        self._queue_length: Callable[[], int] | None = None
        self._chunk = chunk_size
        self._token: str | None = None
        self._token_expires = 0.0
        self.quota = QuotaHint()

    def set_throttle(self, throttle: Callable[[], None]) -> None:
        """Call ``throttle`` before every request (the worker's token bucket)."""
        self._throttle = throttle

    def set_queue_length(self, queued: Callable[[], int]) -> None:
        """Say with every request how many this kiosk has queued after it (``Queue-Length``):
        the service books the place of the next one, and forgets a kiosk that has none."""
        self._queue_length = queued

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # ------------------------------------------------------------------ the three calls

    def submit(self, dossier: OutgoingDossier) -> Ack:
        """File the dossier (idempotent on its key), then upload each document, resuming.

        The acknowledgement is checked whole before any upload: one the contract does not allow
        uploads nothing (``FilingFailed``).
        """
        response = self._call(
            "POST",
            "/v1/dossiers",
            json=dossier.body,
            headers={"Idempotency-Key": dossier.idempotency_key},
        )
        if response.status_code not in (201, 202):
            self._fail(response, expected="201", filing=True)
        # From here on the service has answered this filing: what goes wrong is about it.
        data = self._json(response, error=FilingFailed)
        ack = self._check(answers.filing, data, "dépôt", dossier.dossier_id, error=FilingFailed)
        for piece in dossier.pieces:
            path = ack.uploads.get(piece.sha256)
            if path is None:
                raise Refused(f"Le service national n'attend pas la pièce {piece.sha256[:12]}….")
            self._upload(piece, path)
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        amount = amount_due(data.get("montant_du_centimes"), dossier.reference)
        return Ack(national_number=ack.national_number, replayed=replayed, amount_due_cents=amount)

    def changes(self, cursor: str | None, limit: int = 200) -> ChangesPage:
        """Status changes after ``cursor``: the whole page, or none of it."""
        params: dict[str, str | int] = {"limite": limit}
        if cursor:
            params["apres"] = cursor
        response = self._call("GET", "/v1/changements", params=params)
        if response.status_code != 200:
            self._fail(response, expected="200")
        return self._check(answers.changes_page, self._json(response), "décisions")

    # ------------------------------------------------------------------ payment

    def use_timbre(self, timbre: OutgoingTimbre) -> TimbreVerdict:
        """Have the service check and consume a timbre (idempotent on the kiosk's key).

        A timbre unknown or already used is the service's final word (:class:`TimbreVerdict`
        not accepted, with its reason); anything else unexpected is :class:`ServiceUnavailable`
        (the row waits and is sent again with the same key).
        """
        response = self._call(
            "POST",
            "/v1/timbres",
            json={
                "timbre": timbre.timbre,
                "dossier": timbre.dossier_id,
                "numero_national": timbre.national_number,
                "reference": timbre.reference,
            },
            headers={"Idempotency-Key": timbre.idempotency_key},
        )
        if response.status_code in (404, 409, 422):
            problem = _problem(response) or {}
            code = problem.get("code")
            if isinstance(code, str) and code in TIMBRE_REFUSALS:
                return TimbreVerdict(accepted=False, message=TIMBRE_REFUSALS[code])
        if response.status_code != 201:
            self._fail(response, expected="201")
        amount, remaining = self._check(
            answers.timbre, self._json(response), "timbre", timbre.timbre
        )
        return TimbreVerdict(accepted=True, amount_cents=amount, remaining_cents=remaining)

    def payment_reference(self, national_number: str) -> PaymentInfo | None:
        """The dossier's payment reference (``None``: nothing is due)."""
        response = self._call("GET", f"/v1/dossiers/{quote(national_number, safe='')}/paiement")
        if response.status_code != 200:
            self._fail(response, expected="200")
        return self._check(answers.payment, self._json(response), "paiement")

    def follow_receipt(self, reference: str, code: str) -> ReceiptStatus:
        """The state of the dossier a receipt names, whichever kiosk filed it (``POST
        /v1/suivi``); see :class:`~kiosk.ports.national.ReceiptApi`."""
        response = self._call("POST", "/v1/suivi", json={"reference": reference, "code": code})
        problem = _problem(response) or {}
        if response.status_code == 404 and problem.get("code") == "recu_inconnu":
            raise ReceiptUnknown(reference)
        if response.status_code == 429 and problem.get("code") == "trop_d_essais":
            raise ReceiptLocked(
                "Trop de codes faux pour ce récépissé.",
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"), now=datetime.now(UTC).timestamp()
                ),
            )
        if response.status_code != 200:
            self._fail(response, expected="200")
        return self._check(answers.receipt_status, self._json(response), "suivi", reference)

    # ------------------------------------------------------------------ follow-up

    def notify(self, notification: OutgoingNotification) -> str:
        """Have the service send a text message (idempotent on the kiosk's key); returns the
        service's id for it. A refusal for good (unknown dossier, number or text refused) is
        :class:`Refused`; anything else unexpected :class:`ServiceUnavailable` (the row waits
        and goes again with the same key)."""
        response = self._call(
            "POST",
            "/v1/notifications",
            json={
                "numero_national": notification.national_number,
                "canal": "sms",
                "telephone": notification.phone,
                "texte": notification.text,
            },
            headers={"Idempotency-Key": notification.idempotency_key},
        )
        if response.status_code in (400, 404, 409, 422):
            problem = _problem(response) or {}
            detail = problem.get("detail") or problem.get("title")
            code = problem.get("code")
            raise Refused(
                str(detail) if isinstance(detail, str) and detail.strip() else "SMS refusé.",
                (FieldProblem("code", code),) if isinstance(code, str) else (),
            )
        if response.status_code != 201:
            self._fail(response, expected="201")
        return self._check(answers.notification, self._json(response), "SMS")

    def document(self, national_number: str, document_id: str, max_bytes: int) -> bytes:
        """The bytes of a document issued for the dossier, abandoned past ``max_bytes``."""
        if not answers.DOCUMENT_ID.fullmatch(document_id):
            raise ValueError(document_id)
        path = (
            f"/v1/dossiers/{quote(national_number, safe='')}/documents/"
            f"{quote(document_id, safe='')}"
        )
        response = self._call("GET", path, limit=min(max_bytes, answers.MAX_DOCUMENT))
        if response.status_code != 200:
            self._fail(response, expected="200")
        _expect_type(response, answers.DOCUMENT_TYPES, "document")
        return response.content

    # ------------------------------------------------------------------ signed bundles

    def bundles(self) -> tuple[PublishedBundle, ...]:
        """The signed bundles of démarches and tariffs the service publishes."""
        response = self._call("GET", "/v1/paquets")
        if response.status_code != 200:
            self._fail(response, expected="200")
        return self._check(answers.bundles, self._json(response), "paquets")

    def bundle(self, kind: str, serial: int, max_bytes: int) -> SignedBundle:
        """One bundle as published, abandoned as soon as it passes ``max_bytes``. Only its
        envelope is checked here; the kiosk verifies the rest (kiosk/updates/verify.py)."""
        if kind not in answers.BUNDLE_KINDS or not 1 <= serial <= answers.MAX_SERIAL:
            raise ValueError((kind, serial))
        response = self._call("GET", f"/v1/paquets/{kind}/{serial}", limit=max_bytes)
        if response.status_code != 200:
            self._fail(response, expected="200")
        # A portal's page is no bundle: never one refused (and reported) for the service.
        _expect_type(response, frozenset({"application/json"}), "paquet")
        return self._check(answers.bundle, response.content, "paquet", kind, serial)

    # ------------------------------------------------------------------ enrolment

    def file_enrolment(
        self, enrolment_id: str, verifier_digest: str, sealed: bytes, lifetime_s: int
    ) -> datetime:
        """File a new kiosk's sealed settings under a code's id (as this kiosk); returns when
        the service will forget them. The id taken is :class:`EnrolmentRefused`
        (``code_existant``); any other refusal is :class:`ServiceUnavailable`."""
        response = self._call(
            "POST",
            "/v1/enrolements",
            json={
                "id": enrolment_id,
                "empreinte_verificateur": verifier_digest,
                "scelle": _b64url(sealed),
                "duree_s": lifetime_s,
            },
        )
        problem = _problem(response) or {}
        if response.status_code == 409 and problem.get("code") == "code_existant":
            raise EnrolmentRefused(ENROLMENT_REFUSALS["code_existant"], reason="code_existant")
        if response.status_code in (400, 409, 422):  # a kiosk's bug, not the agent's to fix
            detail = problem.get("detail") or problem.get("title")
            raise ServiceUnavailable(
                f"Le service national a refusé le dépôt du code ({response.status_code}"
                + (f" : {detail.rstrip(' .')}" if isinstance(detail, str) and detail else "")
                + ")."
            )
        if response.status_code != 201:
            self._fail(response, expected="201")
        data = self._json(response)
        return self._check(answers.enrolment_filed, data, "enrôlement", enrolment_id)

    def redeem_enrolment(self, enrolment_id: str, verifier: bytes) -> Redeemed:
        """Redeem a code with no token (a kiosk being enrolled has no credentials): its
        credentials and the sealed settings. The service's final word on the code (unknown,
        wrong, expired, used, annulled) is :class:`EnrolmentRefused`, in the agent's words."""
        if not answers.ENROLMENT_ID.fullmatch(enrolment_id):
            raise ValueError(enrolment_id)
        response = self._send(
            "POST", f"/v1/enrolements/{enrolment_id}", json={"verificateur": _b64url(verifier)}
        )
        if response.status_code in (403, 404, 410):
            problem = _problem(response) or {}
            code = problem.get("code")
            if response.status_code == 403 and code == "code_incorrect":
                left = problem.get("essais_restants")
                remaining = left if isinstance(left, int) and 0 <= left <= 10 else None
                raise EnrolmentRefused(
                    wrong_code_message(remaining), reason="code_incorrect", remaining=remaining
                )
            if isinstance(code, str) and code in ENROLMENT_REFUSALS:
                raise EnrolmentRefused(ENROLMENT_REFUSALS[code], reason=code)
        if response.status_code != 200:
            self._fail(response, expected="200")
        return self._check(answers.redeemed, self._json(response), "enrôlement")

    # ------------------------------------------------------------------ the site's kiosks

    def report(self, report: KioskReport) -> datetime:
        """Send this kiosk's report (nothing personal: its fields are the contract's
        ``RapportBorne``, which the service refuses to extend); returns when it was received."""
        response = self._call("POST", "/v1/bornes/rapport", json=report.to_json())
        if response.status_code != 200:
            self._fail(response, expected="200")
        data = self._json(response)
        return self._check(answers.report_received, data, "rapport", self._client_id)

    def site_kiosks(self) -> SiteKiosks:
        """Every kiosk of this kiosk's site, with its last report."""
        response = self._call("GET", "/v1/bornes")
        if response.status_code != 200:
            self._fail(response, expected="200")
        return self._check(answers.site_kiosks, self._json(response), "bornes")

    def revoke(self, kiosk_id: str, *, by: str) -> SiteKiosk:
        """Withdraw a kiosk of this site from service; :class:`Refused` with the service's
        words when it will not (unknown here, or this kiosk itself)."""
        if not answers.KIOSK_ID.fullmatch(kiosk_id):
            raise Refused(f"Identifiant de borne invalide : « {kiosk_id[:64]} ».")
        response = self._call(
            "POST", f"/v1/bornes/{quote(kiosk_id, safe='')}/revocation", json={"par": by}
        )
        if response.status_code in (404, 409, 422):
            problem = _problem(response) or {}
            detail = problem.get("detail") or problem.get("title")
            code = problem.get("code")
            said = str(detail) if isinstance(detail, str) and detail.strip() else None
            raise Refused(
                said or "Révocation refusée.",
                (FieldProblem("code", code),) if isinstance(code, str) else (),
            )
        if response.status_code != 200:
            self._fail(response, expected="200")
        revoked = self._check(answers.site_kiosk, self._json(response), "révocation")
        if revoked.id != kiosk_id or not revoked.revoked:
            raise ServiceUnavailable(
                "Réponse inattendue du service national (révocation : la borne rendue n'est pas"
                " celle révoquée)."
            )
        return revoked

    # ------------------------------------------------------------------ uploads (tus-like)

    def _upload(self, piece: LocalPiece, url: str) -> None:
        """Send the rest of ``piece``: ask the server where it stopped, then PATCH from there."""
        content: bytes | None = None
        for _round in range(10_000):
            head = self._call("HEAD", url)
            if head.status_code not in (200, 204):
                self._fail(head, expected="200", filing=True)
            # ASCII digits only: int() would also take « 1_0 », « +5 » or « ٣ ».
            said = head.headers.get("Upload-Offset", "")
            offset = int(said) if _OFFSET.fullmatch(said) else -1
            if not 0 <= offset <= piece.size:
                # Not charged to the dossier: a cut line can look like a HEAD with no headers.
                raise ServiceUnavailable(
                    "Réponse inattendue du service national (téléversement : Upload-Offset"
                    " absent ou hors de la pièce)."
                )
            if offset == piece.size:
                return
            try:
                if content is None:
                    content = piece.read(piece.path)  # decrypted by the document store
                chunk = content[offset : offset + self._chunk]
            except (OSError, ValueError) as exc:
                # The scan is gone from this kiosk: only the agent can fix that.
                raise Refused(f"Pièce introuvable sur la borne : {piece.path.name}.") from exc
            patch = self._call(
                "PATCH",
                url,
                content=chunk,
                headers={
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
            )
            if patch.status_code == 409:
                continue  # our offset was stale (a lost answer): ask again
            if patch.status_code != 204:
                self._fail(patch, expected="204", filing=True)
        raise FilingFailed("Téléversement interrompu trop de fois.")

    # ------------------------------------------------------------------ plumbing

    def _call(
        self, method: str, path: str, *, limit: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One authorised request (a new token once if the service says ours expired);
        ``limit``: a smaller cap than :data:`MAX_ANSWER` on this answer's bytes."""
        for attempt in (1, 2):
            headers = dict(kwargs.pop("headers", None) or {})
            headers["Authorization"] = f"Bearer {self._bearer()}"
            response = self._send(method, path, headers=headers, limit=limit, **kwargs)
            kwargs["headers"] = headers
            if response.status_code != 401 or attempt == 2:
                return response
            self._token = None
        raise AssertionError("unreachable")

    def _send(
        self, method: str, path: str, *, limit: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        self._throttle()  # every request spends a token of the kiosk's bucket
        if self._queue_length is not None:
            kwargs["headers"] = {
                **(kwargs.get("headers") or {}),
                "Queue-Length": str(max(0, self._queue_length())),
            }
        deadline = time.monotonic() + self._deadline
        bound = _DEADLINE.set(deadline)  # read by the connection's every send and receive
        try:
            request = self._http.build_request(method, path, **kwargs)
            streamed = self._http.send(request, stream=True)
            try:
                content = self._read(
                    streamed, deadline, min(limit or self._max_answer, self._max_answer)
                )
            finally:
                streamed.close()
        except httpx.TimeoutException as exc:
            if time.monotonic() + _SLACK >= deadline:
                raise ServiceUnavailable(self._too_slow()) from exc
            raise ServiceUnavailable("Le service national ne répond pas (délai dépassé).") from exc
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                describe_tls_failure(exc)
                or f"Connexion au service national impossible ({type(exc).__name__})."
            ) from exc
        finally:
            _DEADLINE.reset(bound)
        response = httpx.Response(
            streamed.status_code, headers=streamed.headers, content=content, request=request
        )
        if response.status_code == 403 and (_problem(response) or {}).get("code") == REVOKED:
            # Whatever was asked, the token included: this kiosk is withdrawn from service.
            raise KioskRevoked(
                "Le service national indique que cette borne a été retirée du service."
            )
        rate = parse_rate_policy(response.headers.get("RateLimit-Policy"))
        if rate is not None:
            self.quota.rate = rate
        capacity, fleet, rank = parse_service_capacity(response.headers.get("Service-Capacity"))
        if capacity is not None and fleet is not None:
            self.quota.capacity, self.quota.fleet = capacity, fleet
            self.quota.rank = rank
        # A place booked for this answer's next request only: none said, none kept.
        self.quota.next_in = parse_next_request(response.headers.get("Next-Request-In"))
        return response

    def _read(self, response: httpx.Response, deadline: float, limit: int) -> bytes:
        """The answer's body, read as it comes; abandoned past the size cap or the deadline."""
        if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
            raise ServiceUnavailable(
                "Réponse illisible (compressée sans avoir été demandée) : le service national"
                " n'a pas été joint."
            )
        chunks: list[bytes] = []
        size = 0
        # Already read when built from bytes (a transport in memory: tests, a mock).
        raw = [response.content] if response.is_stream_consumed else response.iter_raw()
        for chunk in raw:
            size += len(chunk)
            if size > limit:
                raise ServiceUnavailable(
                    "Réponse démesurée du service national (plus de"
                    f" {limit / 1_000_000:g} Mo) : abandonnée."
                )
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(self._too_slow())
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_slow(self) -> str:
        return (
            "Le service national répond trop lentement (réponse abandonnée après"
            f" {self._deadline:g} s)."
        )

    def _bearer(self) -> str:
        if self._token is not None and time.monotonic() < self._token_expires:
            return self._token
        response = self._send(
            "POST",
            "/v1/jetons",
            json={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._secret,
            },
        )
        if response.status_code in (400, 401, 403):
            # Not the dossiers' fault: keep them queued, say clearly what to fix.
            raise ServiceUnavailable(
                "Les identifiants de la borne sont refusés par le service national"
                " (vérifiez PN_KIOSK_API_CLIENT_ID et PN_KIOSK_API_CLIENT_SECRET)."
            )
        if response.status_code != 200:
            self._fail(response, expected="200")
        token, ttl = self._check(answers.token, self._json(response), "jeton")
        self._token = token
        self._token_expires = time.monotonic() + max(0.0, float(ttl) - 10.0)  # renew early
        return token

    @staticmethod
    def _json(
        response: httpx.Response, *, error: type[ServiceUnavailable] = ServiceUnavailable
    ) -> dict[str, Any]:
        try:
            data = response.json()
        except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
            if error is FilingFailed:
                raise error("Réponse illisible du service national à ce dépôt.") from exc
            raise error(
                "Réponse illisible (portail captif ou proxy ?) : le service national n'a pas"
                " été joint."
            ) from exc
        if not isinstance(data, dict):
            raise error("Réponse inattendue du service national.")
        return data

    @staticmethod
    def _check(
        read: Callable[..., _T],
        data: Any,
        label: str,
        *args: Any,
        error: type[ServiceUnavailable] = ServiceUnavailable,
    ) -> _T:
        """``read(data, *args)`` (one of :mod:`sync.answers`); an answer the contract does not
        allow is ``error``, in French, naming what and where (``label``: which answer)."""
        try:
            return read(data, *args)
        except answers.Malformed as exc:
            log.warning("réponse du service national refusée (%s) : %s", label, exc)
            raise error(f"Réponse inattendue du service national ({label} : {exc}).") from exc

    def _fail(self, response: httpx.Response, *, expected: str, filing: bool = False) -> None:
        """Raise the exception that matches an unexpected answer.

        ``filing``: the answer is about one dossier's filing or upload. An error the service
        gives about it alone (a 4xx, a 500) is then :class:`FilingFailed`; one that says the
        service as a whole is unavailable (502–504, a ``Retry-After``) stays
        :class:`ServiceUnavailable`.
        """
        status = response.status_code
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), now=datetime.now(UTC).timestamp()
        )
        problem = _problem(response)
        detail = problem.get("detail") or problem.get("title") if problem else None
        if not isinstance(detail, str) or not detail.strip():
            detail = None  # the agent reads it: no blank, list or number
        if status == 429:
            raise RateLimited("Le service national demande de ralentir.", retry_after=retry_after)
        if status in (409, 422) and problem:
            listed = problem.get("erreurs")
            errors = tuple(
                FieldProblem(str(e.get("champ", "")), str(e.get("message", "")))
                for e in (listed if isinstance(listed, list) else ())
                if isinstance(e, dict)
            )
            raise Refused(str(detail or "Dossier refusé par le service national."), errors)
        if 200 <= status < 300:
            raise ServiceUnavailable(
                f"Réponse {status} au lieu de {expected} (portail captif ou proxy ?) : le service"
                " national n'a pas été joint."
            )
        about_filing = (
            filing and retry_after is None and 400 <= status <= 501 and status not in (401, 408)
        )
        raise (FilingFailed if about_filing else ServiceUnavailable)(
            f"Le service national a répondu {status}"
            + (f" : {detail.rstrip(' .')}" if detail else "")  # the detail's own full stop
            + ".",
            retry_after=retry_after,
        )


def _b64url(data: bytes) -> str:
    """``data`` in base64url without padding (the contract's form for bytes in JSON)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    """The RFC 9457 problem document, if the answer is one."""
    if not response.headers.get("Content-Type", "").startswith("application/problem+json"):
        return None
    try:
        data = response.json()
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _expect_type(response: httpx.Response, allowed: frozenset[str], label: str) -> None:
    """A 200 whose ``Content-Type`` is not one the contract gives for it (parameters such as
    ``charset`` aside) is no answer of the service: a captive portal's page, a proxy's."""
    given = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if given not in allowed:
        shown = given[:60] or "aucun"
        raise ServiceUnavailable(
            f"Réponse inattendue du service national ({label} : type {shown} au lieu de"
            f" {' ou '.join(sorted(allowed))}) : portail captif ou proxy ?"
        )


# ---------------------------------------------------------------------- the overall deadline

_DEADLINE: ContextVar[float | None] = ContextVar("pn_sync_deadline", default=None)
_SLACK = 0.05  # seconds: a read cut by the deadline ends within this of it


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left before the current request's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("délai global de la requête dépassé")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(
            ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """Opens :class:`_DeadlineStream` connections."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(
            path, _left(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _bound_by_deadline(client: httpx.Client) -> None:
    """Make the client's connections (direct or through a proxy) honour :data:`_DEADLINE`.

    httpx has no option for it: its transports' pool takes a network backend only at
    construction, so the backend is wrapped in place (``tests/sync/test_hostile_server.py``
    fails if a new httpx moves it). Another transport (a test's mock) is left as it is; the
    deadline then bounds the reading of the body only.
    """
    for transport in (client._transport, *client._mounts.values()):
        pool: Any = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(transport, httpx.HTTPTransport) and isinstance(
            backend, httpcore.NetworkBackend
        ):
            pool._network_backend = _DeadlineBackend(backend)
