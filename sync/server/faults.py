"""Fault knobs of the reference server: latency, errors, a rate limit, outages, connection resets
and responses lost *after* the server committed (the hardest case for exactly-once); and a
hostile or broken service: answers that never end or come one byte at a time, and dossiers the
service always fails.

With a rate limit (``debit``) the server also plays a national service's front: every answer
says the kiosk's quota (``RateLimit-Policy``), the service's capacity, fleet and the kiosk's rank
in it (``Service-Capacity``), and, to a kiosk that says what it has queued (``Queue-Length``),
the place booked for its next request (``Next-Request-In``); during an outage (``pannes``) the
front answers 503 with ``Retry-After`` and ``Service-Capacity`` (sync/server/quota.py).

Implemented as an ASGI wrapper around the national API so the API code stays clean. A reset or
a lost response is produced by starting the response and then aborting: uvicorn closes the
connection and the client sees a broken exchange, exactly as on a cut line. Every answer of
``/v1`` carries the asking kiosk's quota (``RateLimit-Policy``), as the national service's do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.server.quota import FairShareQuota

PROBLEM = "application/problem+json"
#: Requests/s the reference server says it can take when no ``debit`` is set: it then refuses
#: nothing, but advertises its share like the national service, which always has a quota.
NOMINAL_CAPACITY = 100.0
#: ``w`` of ``RateLimit-Policy``, from the shortest: the first that gives ``q`` ≥ 50 requests
#: (a whole number, as the IETF draft writes it) keeps the rate within 1 %.
POLICY_WINDOWS = (1, 10, 60, 600, 3600)  # seconds


class SimulatedDrop(Exception):
    """Raised inside the ASGI app to make uvicorn drop the connection."""


class _QuietDrops(logging.Filter):
    """Keep uvicorn from printing a traceback for every drop we simulate on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedDrop)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


@dataclass
class Faults:
    """Current knobs; every field can be set through ``POST /_control`` (same names)."""

    latence_ms: float = 0.0
    taux_erreur: float = 0.0  # 500/502/503 answers, nothing recorded
    taux_coupure: float = 0.0  # connection reset before the request is processed
    taux_perte: float = 0.0  # processed and committed, then the connection drops
    # requests/s the whole service accepts (token bucket, 429 beyond); None: it refuses none
    # and advertises the shares of NOMINAL_CAPACITY
    debit: float | None = None
    rafale: float | None = None  # bucket size (default: one second of ``debit``)
    # requests/s advertised to each kiosk; default: ``debit`` shared by the active kiosks
    quota_client: float | None = None
    # kiosks the service serves, said in ``Service-Capacity`` (default: those seen in a day)
    flotte: int | None = None
    pannes: list[list[float]] = field(default_factory=list)  # [start, end] in server time
    delai_instruction: float = 60.0  # seconds before a complete filing is decided
    parts: tuple[float, float] = (0.7, 0.15)  # shares accepted, refused (rest: à compléter)
    # a filing that owes an amount goes « en attente de paiement » and is instructed once paid
    paiement_avant_instruction: bool = True
    taux_sans_fin: float = 0.0  # answers whose body never ends (until the client leaves)
    taux_goutte: float = 0.0  # answers whose body comes one byte every ``goutte_ms``
    goutte_ms: float = 1000.0
    # dossier UUID → the status its every filing gets (0: a 201 whose body is not JSON)
    echecs_dossier: dict[str, int] = field(default_factory=dict)


class FaultInjector:
    """ASGI middleware applying :class:`Faults` to every ``/v1`` request."""

    def __init__(
        self,
        app: ASGIApp,
        clock: Callable[[], float],
        rng: random.Random,
        identify: Callable[[Scope], str | None] = lambda scope: None,
    ) -> None:
        """Wrap ``app``; ``identify`` names the client of a request (``None``: anonymous)."""
        self.app = app
        self.faults = Faults()
        self.clock = clock
        self.rng = rng
        self.identify = identify
        self.stats: Counter[str] = Counter()
        # The active kiosks' shares of ``debit`` (of NOMINAL_CAPACITY while none is set).
        self.quotas = FairShareQuota(NOMINAL_CAPACITY)
        self._ranks: dict[str, int] = {}  # each client's rank in the fleet, as first seen
        self._tokens = 0.0
        self._at = clock()

    def configure(self, changes: dict[str, Any]) -> None:
        """Apply knob changes (unknown names raise KeyError)."""
        known = set(asdict(self.faults))
        for key, value in changes.items():
            if key not in known:
                raise KeyError(key)
            setattr(self.faults, key, tuple(value) if key == "parts" else value)
        if "debit" in changes or "rafale" in changes:
            self._tokens = self._burst()
            self._at = self.clock()
        if "debit" in changes:
            # The clients counted so far still count.
            self.quotas.capacity = self.faults.debit or NOMINAL_CAPACITY
        self.quotas.enrolled = self.faults.flotte

    def _burst(self) -> float:
        f = self.faults
        return f.rafale if f.rafale is not None else max(1.0, f.debit or 1.0)

    def _rate_limited(self) -> float | None:
        """Seconds to wait if the bucket is empty, else ``None`` (and a token is spent)."""
        rate = self.faults.debit
        if not rate:
            return None
        now = self.clock()
        self._tokens = min(self._burst(), self._tokens + (now - self._at) * rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return (1.0 - self._tokens) / rate

    def _outage_left(self) -> float | None:
        now = self.clock()
        for start, end in self.faults.pannes:
            if start <= now < end:
                return end - now
        return None

    def quota(self, client: str | None) -> float:
        """The quota advertised to ``client`` now (requests/s)."""
        if self.faults.quota_client:
            return self.faults.quota_client
        return self.quotas.quota(self.clock(), client)

    def policy_header(
        self, client: str | None, waiting: int | None = None, *, down: bool = False
    ) -> list[tuple[bytes, bytes]]:
        """What the service says of the load it takes, to ``client``: its quota
        (``RateLimit-Policy``, on every answer of ``/v1``), and with a capacity (``debit``) that
        capacity, the fleet and the client's rank (``Service-Capacity``) and, to a client with
        ``waiting`` requests queued after this one, the place booked for the next
        (``Next-Request-In``; not while ``down``)."""
        headers = [(b"ratelimit-policy", policy_value(self.quota(client)).encode())]
        if not self.faults.debit:
            return headers
        quotas, now = self.quotas, self.clock()
        size = f"c={format_rate(quotas.capacity)};n={quotas.fleet(now)}"
        if client is not None:
            size += f";r={self._ranks.setdefault(client, len(self._ranks))}"
        headers.append((b"service-capacity", size.encode()))
        if client is not None and waiting and not down:
            booked = quotas.book(client, now)
            headers.append((b"next-request-in", f"{booked:.3f}".encode()))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/v1"):
            await self.app(scope, receive, send)
            return
        self.stats["requetes"] += 1
        f = self.faults
        if f.latence_ms > 0:
            await asyncio.sleep(f.latence_ms / 1000 * self.rng.uniform(0.5, 1.5))
        client = self.identify(scope)
        waiting = queue_length(scope)
        outage = self._outage_left()
        if outage is not None:
            # The front answers for the service behind it: when to come back, and its size.
            await self._problem(
                send, 503, "Service en maintenance.", math.ceil(outage), client, down=True
            )
            return
        if client is not None:
            # Refused or not, a client asking is an active client: it counts in the share.
            self.quotas.seen(client, self.clock(), waiting)
        wait = self._rate_limited()
        if wait is not None:
            retry = max(1, math.ceil(wait))
            await self._problem(send, 429, "Trop de requêtes.", retry, client, waiting=waiting)
            return
        draw = self.rng.random()
        if draw < f.taux_coupure:
            self.stats["coupures"] += 1
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise SimulatedDrop("reset before processing")
        draw -= f.taux_coupure
        if draw < f.taux_erreur:
            # No Retry-After here: a random failure is not a planned outage.
            status = self.rng.choice((500, 502, 503))
            await self._problem(send, status, "Erreur du service.", None, client)
            return
        draw -= f.taux_erreur
        if draw < f.taux_sans_fin + f.taux_goutte:
            endless = draw < f.taux_sans_fin
            self.stats["sans_fin" if endless else "goutte"] += 1
            await self._stream_forever(receive, send, endless=endless)
            return
        draw -= f.taux_sans_fin + f.taux_goutte
        if await self._fail_dossier(scope, send, client):
            return
        lose = draw < f.taux_perte
        extra = self.policy_header(client, waiting)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.stats[str(message["status"])] += 1
                message = {**message, "headers": [*message.get("headers", []), *extra]}
                if lose:
                    self.stats["pertes"] += 1
                    await send(message)
                    raise SimulatedDrop("response lost after commit")
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _stream_forever(self, receive: Receive, send: Send, *, endless: bool) -> None:
        """A 200 whose body never ends: 64 KiB at a time, or a byte every ``goutte_ms``."""
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        piece = b"[" * 65536 if endless else b"["
        try:
            while not gone.is_set():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                await asyncio.sleep(0 if endless else self.faults.goutte_ms / 1000)
        finally:
            watcher.cancel()

    async def _fail_dossier(self, scope: Scope, send: Send, client: str | None) -> bool:
        """Answer a filing of a dossier listed in ``echecs_dossier`` with its failure."""
        if scope["method"] != "POST" or scope["path"] != "/v1/dossiers":
            return False
        key = dict(scope.get("headers", ())).get(b"idempotency-key", b"").decode("latin-1")
        status = self.faults.echecs_dossier.get(key.partition(".")[0])
        if status is None:
            return False
        self.stats["echecs_dossier"] += 1
        if status:
            await self._problem(send, status, "Erreur pour ce dossier.", None, client)
            return True
        headers = [(b"content-type", b"application/json"), *self.policy_header(client)]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": b"<html>oups</html>"})
        return True

    async def _problem(
        self,
        send: Send,
        status: int,
        title: str,
        retry: int | None,
        client: str | None,
        *,
        waiting: int | None = None,
        down: bool = False,
    ) -> None:
        self.stats[str(status)] += 1
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status}, ensure_ascii=False
        ).encode()
        headers = [(b"content-type", PROBLEM.encode()), (b"content-length", b"%d" % len(body))]
        if retry is not None:
            headers.append((b"retry-after", str(retry).encode()))
        headers += self.policy_header(client, waiting, down=down or status >= 500)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def policy_value(rate: float) -> str:
    """``RateLimit-Policy`` for ``rate`` requests/s, as the IETF draft writes it: a named
    policy, a whole quota ``q`` per window of ``w`` whole seconds (``borne;q=180;w=3600`` for
    one request every 20 s), never under one request an hour."""
    window = next((w for w in POLICY_WINDOWS if rate * w >= 50), POLICY_WINDOWS[-1])
    return f"borne;q={max(1, round(rate * window))};w={window}"


def queue_length(scope: Scope) -> int | None:
    """The requests a kiosk says it has queued after this one (``Queue-Length``), if it says."""
    for name, value in scope.get("headers", ()):
        if name == b"queue-length":
            text = value.decode("latin-1").strip()
            # At most seven digits: a count, never a number to choke on.
            return int(text) if text.isascii() and text.isdigit() and len(text) <= 7 else None
    return None


def format_rate(rate: float) -> str:
    """A rate as ``RateLimit-Policy`` writes it: plain decimals (``0.05``), never ``5e-02``."""
    return f"{rate:.4f}".rstrip("0").rstrip(".") or "0"
