"""The sync worker: drains the outbox to the national service and pulls its decisions back.

Runs on its own thread (``SyncThread``) or in a command (``kiosk sync --once``), never on the UI
thread. Time and waiting go through an injected :class:`~sync.clock.Clock` and
:class:`~sync.clock.Sleeper`, so tests and benchmarks run this exact code in simulated time.

Listeners receive a :class:`SyncStatus` *on the worker thread*: a UI must hand it over to its
own thread (a queued signal) before touching a widget.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState, IllegalTransition
from kiosk.followup.reasons import Reason, ReasonKind
from kiosk.ports.national import (
    BundleApi,
    FilingFailed,
    FleetApi,
    FollowUpApi,
    KioskRevoked,
    NationalApi,
    PaymentApi,
    QuotaHint,
    RateLimited,
    Refused,
    ServiceUnavailable,
)
from kiosk.security.revocation import KioskWithdrawn
from kiosk.store.documents import DocumentError
from kiosk.sync.bundles import BundleUpdates
from kiosk.sync.followup import NationalFollowUp
from kiosk.sync.issued import MAX_ISSUED_BYTES, DocumentMismatch, IssuedDocuments, ToFetch
from kiosk.sync.notifications import ClaimedNotification, NotificationQueue
from kiosk.sync.outbox import Claimed, Outbox
from kiosk.sync.payments import ClaimedTimbre, PaymentQueue
from kiosk.sync.report import Reporter
from kiosk.updates import MAX_BUNDLE_BYTES, BundleRefused
from sync.clock import Clock, Sleeper
from sync.policy import CircuitState, Scheduler, SyncPolicy

log = logging.getLogger(__name__)

CURSOR_KEY = "sync.curseur"
STATUS_KEY = "sync.etat"
QUOTA_KEY = "sync.quota"
#: What the service last said of its size (``Service-Capacity``): kept across restarts, since a
#: kiosk started while the service is down must still spread its probes over the fleet's window.
SERVICE_KEY = "sync.service"
#: Tries a one-off pass (``sync --once``) gives a dossier failing on its own before leaving it
#: to the next pass (its backoff saved): the pass ends, the others are sent.
PASS_TRIES = 3
#: How often the published bundles of démarches and tariffs are looked at (and once at start): a
#: new tariff period or démarche version is announced weeks ahead, so a day late costs nothing,
#: and a fleet asks the service little.
BUNDLE_INTERVAL = 86_400.0
#: The shortest time between two pulls an agent asks for (« Actualiser »), in seconds.
_PULL_SPACING = 2.0
#: The kiosk's report on itself (docs/sites.md): sent when it changed, at most every
#: REPORT_SPACING seconds, and at least every REPORT_HEARTBEAT while the service answers (a
#: fleet of 50,000 kiosks then sends ~14 reports a second, not ~170). A kiosk silent for 48 hours
#: is flagged to its supervisor: an hourly heartbeat leaves that far from any doubt.
REPORT_SPACING = 300.0
REPORT_HEARTBEAT = 3600.0
#: Seconds: a request's place this near, the next dossier is claimed now and the request waits
#: for its place with it (:meth:`SyncWorker.throttle`), instead of being claimed once the place
#: has come: the claim (a transaction on the store, longer on a site's busy server) no longer
#: delays each request. Far below the claim's lease (60 s), so a claimed row is never taken
#: again by another counter while it waits.
CLAIM_AHEAD = 2.0
#: Seconds: the longest a one-off pass waits before looking again at a row it cannot take yet.
#: On a site's store the row may be another counter's, sent and acknowledged a moment later:
#: waiting for its whole lease (a minute) kept a pass running long after the queue was empty.
LOOK_AGAIN = 1.0


@dataclass(frozen=True)
class SyncStatus:
    """What the home screen shows: connection, queue size, next attempt, last problem."""

    circuit: CircuitState
    waiting: int
    next_attempt_in: float
    last_error: str | None
    last_success: datetime | None
    attention: int = 0  # of the waiting: dossiers the service keeps failing on their own
    #: Decisions applied since the worker started: a new one tells the worklist to read again.
    decisions: int = 0

    @property
    def online(self) -> bool:
        """Whether the national service answered the last request."""
        return self.circuit is CircuitState.CLOSED and self.last_error is None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (also what is saved for ``kiosk sync status``)."""
        return {
            "circuit": self.circuit.value,
            "en_attente": self.waiting,
            "prochain_essai_dans": round(self.next_attempt_in, 1),
            "derniere_erreur": self.last_error,
            "dernier_succes": self.last_success.isoformat() if self.last_success else None,
            "a_verifier": self.attention,
            # Read by a screen in another process (app/sync_link.py): a change there tells its
            # worklist to read the decisions again.
            "decisions_appliquees": self.decisions,
        }


@dataclass
class OnceReport:
    """What one ``sync --once`` pass did."""

    sent: int = 0
    replayed: int = 0
    refused: list[str] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)  # left queued: failing on their own
    failures: int = 0
    decisions: int = 0
    waiting: int = 0
    stopped_open: bool = False
    last_error: str | None = None
    timbres_accepted: list[str] = field(default_factory=list)  # references of their dossiers
    timbres_refused: list[str] = field(default_factory=list)
    #: Signed bundles put in use, and refused, as « demarches 2 », « tarifs 3 ».
    bundles_installed: list[str] = field(default_factory=list)
    bundles_refused: list[str] = field(default_factory=list)
    sms_sent: list[str] = field(default_factory=list)  # references of their dossiers
    sms_refused: list[str] = field(default_factory=list)
    documents_received: list[str] = field(default_factory=list)  # references
    #: The national service said this kiosk was revoked: its keys are destroyed, it stops.
    revoked: bool = False


Listener = Callable[[SyncStatus], None]


class SyncWorker:
    """One worker per kiosk process. Not thread-safe: call it from one thread only."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        followup: NationalFollowUp,
        dossiers: DossierService,
        api: NationalApi,
        clock: Clock,
        sleeper: Sleeper,
        rng: random.Random,
        policy: SyncPolicy | None = None,
        listener: Listener | None = None,
        poll_interval: float = 300.0,
        payments: PaymentQueue | None = None,
        payment_api: PaymentApi | None = None,
        bundles: BundleUpdates | None = None,
        bundle_api: BundleApi | None = None,
        bundle_interval: float = BUNDLE_INTERVAL,
        notifications: NotificationQueue | None = None,
        issued: IssuedDocuments | None = None,
        followup_api: FollowUpApi | None = None,
        reporter: Reporter | None = None,
        fleet_api: FleetApi | None = None,
        on_revoked: Callable[[], object] | None = None,
    ) -> None:
        """``payments`` and ``payment_api``: the timbres to send and the payment references to
        fetch (kiosk/sync/payments.py); without them the worker sends filings only.
        ``bundles`` and ``bundle_api``: the signed bundles of démarches and tariffs to install,
        and from where (looked at every ``bundle_interval`` seconds and at start).
        ``notifications``, ``issued`` and ``followup_api``: the text messages to send and the
        documents issued with decisions to fetch (kiosk/sync/notifications.py, issued.py).
        ``reporter`` and ``fleet_api``: this kiosk's report on itself, and where it goes
        (kiosk/sync/report.py). ``on_revoked``: what to do when the service says this kiosk was
        revoked (the withdrawal: kiosk/security/revocation.py); the worker then stops."""
        self._reporter = reporter if fleet_api is not None else None
        self._fleet_api = fleet_api
        self._on_revoked = on_revoked
        self.revoked = False
        # The report at start, then when it changes (send_report).
        self._next_report, self._last_report = clock.time(), float("-inf")
        self._reported: dict[str, Any] | None = None
        #: The last sync error while dossiers wait (the report's « dernière erreur »): the
        #: service down, or a dossier it keeps failing while it answers the rest.
        self._recent_error: str | None = None
        self._notifications = notifications if followup_api is not None else None
        self._issued = issued if followup_api is not None else None
        self._followup_api = followup_api
        self._next_documents = clock.time()  # at start: those announced before a restart
        self._document_not_before: dict[int, float] = {}  # row → its own backoff (this run)
        # Without a pinned key no bundle could be accepted: none is even asked for.
        usable = bundle_api is not None and bundles is not None and bundles.enabled
        self._bundles = bundles if usable else None
        self._bundle_api = bundle_api
        self._bundle_interval = bundle_interval
        self._next_bundles = clock.time()  # at start
        self._payments = payments if payment_api is not None else None
        self._payment_api = payment_api
        self._outbox = outbox
        self._followup = followup
        self._dossiers = dossiers
        self._api = api
        self._clock = clock
        self._sleeper = sleeper
        self._rng = rng
        self._restore_service_size(api.quota)
        self.scheduler = Scheduler(policy or SyncPolicy(), rng, clock.time(), service=api.quota)
        self._listener = listener
        self._poll_interval = poll_interval
        self._next_pull = clock.time()  # pull once at start
        self._decisions_applied = 0
        self._last_pull = float("-inf")
        self._last_success: datetime | None = None
        self._last_published: tuple[Any, ...] | None = None
        self._last_saved = 0.0
        self._saved_size: tuple[float | None, int | None, int | None] | None = None
        saved_quota = outbox.get_marker(QUOTA_KEY)
        self._saved_quota: float | None = None
        if isinstance(saved_quota, int | float) and saved_quota > 0:
            # Remember the quota across restarts: a kiosk must not start above it.
            self._saved_quota = float(saved_quota)
            self.scheduler.on_success(clock.time(), self._saved_quota)
        self.report = OnceReport()
        self._queued = outbox.counts().waiting  # refreshed with the status, see queue_length
        self._restore_last_success()

    def _restore_last_success(self) -> None:
        """After a restart, the last successful exchange is reported as it was, not « none »."""
        saved = self._outbox.get_marker(STATUS_KEY)
        if isinstance(saved, dict) and isinstance(saved.get("dernier_succes"), str):
            try:
                self._last_success = datetime.fromisoformat(saved["dernier_succes"])
            except ValueError:
                self._last_success = None

    def _restore_service_size(self, hint: QuotaHint) -> None:
        saved = self._outbox.get_marker(SERVICE_KEY)
        if hint.capacity is not None or not isinstance(saved, dict):
            return
        capacity, fleet, rank = saved.get("capacite"), saved.get("bornes"), saved.get("rang")
        if isinstance(capacity, int | float) and capacity > 0 and isinstance(fleet, int):
            hint.capacity, hint.fleet = float(capacity), fleet
            hint.rank = rank if isinstance(rank, int) else None

    # ------------------------------------------------------------------ hooks for the client

    def throttle(self) -> None:
        """Block until the scheduler lets one more request out (passed to the HTTP client)."""
        # Whatever answered last (a token, a refusal) carried the current quota: pace on it.
        self.scheduler.adopt_quota(self._clock.time(), self._api.quota.rate)
        while (wait := self.scheduler.acquire(self._clock.time())) > 0:
            self._sleeper.sleep(wait)

    def queue_length(self) -> int:
        """What this kiosk has queued after the request about to leave (``Queue-Length``, passed
        to the HTTP client): the service books the place of the next one by it, and stops
        counting a kiosk that says 0. The dossiers waiting at the last count (at most every
        2 s, with the status), less those sent since: a hint, not a ledger."""
        return max(0, self._queued - 1)

    def wake(self) -> None:
        """Something changed (a dossier queued): stop waiting and look at the queue now."""
        self._sleeper.wake()

    def pull_now(self) -> None:
        """An agent asks for the latest decisions (« Actualiser » on the worklist): pull them
        at the next step instead of at the next poll. Safe from any thread."""
        # Never more often than every few seconds: a finger resting on the button must not keep
        # the worker pulling while dossiers wait to be sent.
        self._next_pull = min(self._next_pull, self._last_pull + _PULL_SPACING)
        self._sleeper.wake()

    def link_up(self) -> None:
        """The network came back (OS event): allow a probe now instead of after the cooldown."""
        self.scheduler.probe_now(self._clock.time())
        self._sleeper.wake()

    # ------------------------------------------------------------------ one step

    def step(self) -> float:
        """Do one unit of work; return how long to wait before the next step (0: go on)."""
        now = self._clock.time()
        wait = self.scheduler.delay(now)
        if wait > 0:
            claimed = self._outbox.claim() if wait <= CLAIM_AHEAD else None
            if claimed is None:
                return wait
            self._send(claimed)  # waits for its place in throttle
            return 0.0
        if now >= self._next_pull:
            self.pull_changes()
            return 0.0
        if self._bundles is not None and now >= self._next_bundles:
            self.fetch_bundles()
            return 0.0
        if self._reporter is not None and now >= self._next_report:
            self.send_report()
            return 0.0
        claimed = self._outbox.claim()
        if claimed is not None:
            self._send(claimed)
            return 0.0
        timbre = self._payments.claim() if self._payments is not None else None
        if timbre is not None:
            self._send_timbre(timbre)
            return 0.0
        message = self._notifications.claim() if self._notifications is not None else None
        if message is not None:
            self._send_notification(message)
            return 0.0
        if self._issued is not None and now >= self._next_documents:
            self.fetch_documents()
            return 0.0
        due = self._outbox.next_due()
        until = self._next_pull
        if self._bundles is not None:
            until = min(until, self._next_bundles)
        if self._issued is not None:
            until = min(until, self._next_documents)
        if self._reporter is not None:
            until = min(until, self._next_report)
        message_due = self._notifications.next_due() if self._notifications else None
        if message_due is not None:
            until = min(until, message_due.timestamp())
        if due is not None:
            until = min(until, due.timestamp())
        timbre_due = self._payments.next_due() if self._payments is not None else None
        if timbre_due is not None:
            until = min(until, timbre_due.timestamp())
        return max(0.05, until - now)

    def _send(self, claimed: Claimed) -> bool:
        """Send one submission; ``False`` if it failed on its own (:class:`FilingFailed`)."""
        item = claimed.dossier
        now = self._clock.time
        try:
            ack = self._api.submit(item)
        except KioskRevoked:
            # Given back: on a site's store, another counter sends it.
            self._release(claimed, "Borne retirée du service.", 0.0, charged=False)
            raise
        except Refused as exc:
            # Permanent: back to the counter with the service's own words; never retried as is.
            self.scheduler.on_success(now(), self._api.quota.rate)
            self._move(
                item.reference,
                DossierState.A_COMPLETER,
                reason=exc.reason(),
                reasons=refusal_reasons(exc),
            )
            self.report.refused.append(item.reference)
            self._queued -= 1
            return True
        except FilingFailed as exc:
            # The service answered, about this dossier alone: it is up, the circuit is left as
            # it is and the dossiers behind go on; this one waits its own, growing, backoff.
            log.warning("dépôt %s en échec : %s", item.reference, exc)
            self._release(claimed, str(exc), self.scheduler.dossier_delay(claimed.attempts))
            if item.reference not in self.report.failing:
                self.report.failing.append(item.reference)
            self.report.failures += 1
            return False
        except RateLimited as exc:
            delay = self.scheduler.on_rate_limited(now(), exc.retry_after, self._api.quota.rate)
            self._release(claimed, str(exc), delay, charged=False)
            self.report.failures += 1
            return True
        except ServiceUnavailable as exc:
            delay = self.scheduler.on_failure(now(), str(exc), exc.retry_after)
            # Not the dossier's failure (given back); a little jitter of its own so that the
            # probes of an outage go to the rows in turn.
            own = min(self.scheduler.policy.backoff_cap, 2.0 ** min(claimed.attempts, 10))
            retry = max(delay, own * self._rng.uniform(0.5, 1.0))
            self._release(claimed, str(exc), retry, charged=False)
            self.report.failures += 1
            self.report.last_error = str(exc)
            return True
        if item.reference in self.report.failing:
            self.report.failing.remove(item.reference)
        self._succeeded()
        try:
            # « transmis », the national number and the amount due, in one transaction.
            self._dossiers.record_acknowledgement(
                item.reference,
                national_number=ack.national_number,
                amount_due_cents=ack.amount_due_cents,
            )
        except IllegalTransition:
            log.info("dossier %s déjà sorti de la file", item.reference)
        self.report.sent += 1
        self.report.replayed += int(ack.replayed)
        self._queued -= 1
        # A decision pulled while this acknowledgement was lost was held for it.
        held = self._followup.apply_held()
        if held:
            self.report.decisions += held
            self._next_documents = self._clock.time()
        return True

    def _send_timbre(self, claimed: ClaimedTimbre) -> None:
        """Have the service check and consume one timbre; keep its answer (same key on retry)."""
        assert self._payments is not None
        assert self._payment_api is not None
        item = claimed.timbre
        now = self._clock.time
        try:
            verdict = self._payment_api.use_timbre(item)
        except KioskRevoked:
            self._release_timbre(claimed, "Borne retirée du service.", 0.0)
            raise
        except RateLimited as exc:
            delay = self.scheduler.on_rate_limited(now(), exc.retry_after, self._api.quota.rate)
            self._release_timbre(claimed, str(exc), delay)
            self.report.failures += 1
            return
        except ServiceUnavailable as exc:
            delay = self.scheduler.on_failure(now(), str(exc), exc.retry_after)
            own = min(self.scheduler.policy.backoff_cap, 2.0 ** min(claimed.attempts, 10))
            self._release_timbre(claimed, str(exc), max(delay, own * self._rng.uniform(0.5, 1.0)))
            self.report.failures += 1
            self.report.last_error = str(exc)
            return
        self._succeeded()
        self._payments.record(claimed.item_id, verdict)
        kind = self.report.timbres_accepted if verdict.accepted else self.report.timbres_refused
        kind.append(item.reference)

    def _release_timbre(self, claimed: ClaimedTimbre, error: str, delay: float) -> None:
        assert self._payments is not None
        retry_at = datetime.fromtimestamp(self._clock.time() + delay, UTC)
        self._payments.release(claimed.item_id, error, retry_at=retry_at)

    def _send_notification(self, claimed: ClaimedNotification) -> None:
        """Have the service send one text message; keep its answer (same key on retry)."""
        assert self._notifications is not None
        assert self._followup_api is not None
        item = claimed.notification
        now = self._clock.time
        try:
            remote = self._followup_api.notify(item)
        except KioskRevoked:
            self._release_notification(claimed, "Borne retirée du service.", 0.0)
            raise
        except Refused as exc:
            # For good (unknown dossier, number refused): « SMS refusé » for the agent.
            self._succeeded()
            self._notifications.record(claimed.item_id, remote_id=None, error=str(exc))
            self.report.sms_refused.append(item.reference)
            return
        except RateLimited as exc:
            delay = self.scheduler.on_rate_limited(now(), exc.retry_after, self._api.quota.rate)
            self._release_notification(claimed, str(exc), delay)
            self.report.failures += 1
            return
        except ServiceUnavailable as exc:
            # Lost, cut, down: nothing is known; the same key makes the retry a replay.
            delay = self.scheduler.on_failure(now(), str(exc), exc.retry_after)
            own = min(self.scheduler.policy.backoff_cap, 2.0 ** min(claimed.attempts, 10))
            retry = max(delay, own * self._rng.uniform(0.5, 1.0))
            self._release_notification(claimed, str(exc), retry)
            self.report.failures += 1
            self.report.last_error = str(exc)
            return
        self._succeeded()
        self._notifications.record(claimed.item_id, remote_id=remote)
        self.report.sms_sent.append(item.reference)

    def _release_notification(self, claimed: ClaimedNotification, error: str, delay: float) -> None:
        assert self._notifications is not None
        retry_at = datetime.fromtimestamp(self._clock.time() + delay, UTC)
        self._notifications.release(claimed.item_id, error, retry_at=retry_at)

    def fetch_documents(self) -> int:
        """Fetch the documents issued with decisions and not received yet, check each against
        its announced size and SHA-256 and keep it encrypted; returns how many were kept.

        A document that fails on its own (not there yet, not the one announced) waits its own
        growing delay; the service failing as a whole stops the round (backoff, circuit).
        """
        if self._issued is None or self._followup_api is None:
            return 0
        now = self._clock.time()
        kept = 0
        waiting: list[float] = []
        for item in self._issued.to_fetch():
            not_before = self._document_not_before.get(item.row_id, 0.0)
            if not_before > now:
                waiting.append(not_before)
                continue
            if self.scheduler.state is CircuitState.OPEN:
                waiting.append(self._clock.time())  # the service is down: after its backoff
                break
            try:
                content = self._followup_api.document(
                    item.national_number, item.remote_id, min(item.size, MAX_ISSUED_BYTES)
                )
            except FilingFailed as exc:
                waiting.append(self._document_failed(item, str(exc)))  # this document's
                continue
            except RateLimited as exc:
                self.scheduler.on_rate_limited(
                    self._clock.time(), exc.retry_after, self._api.quota.rate
                )
                waiting.append(self._clock.time())
                break
            except ServiceUnavailable as exc:
                self.scheduler.on_failure(self._clock.time(), str(exc), exc.retry_after)
                self.report.last_error = str(exc)
                waiting.append(self._clock.time())
                break
            self._succeeded()
            try:
                self._issued.keep(item, content)
            except (DocumentMismatch, DocumentError) as exc:
                log.warning("document %s de %s non gardé : %s", item.remote_id, item.reference, exc)
                waiting.append(self._document_failed(item, str(exc)))
                continue
            self._document_not_before.pop(item.row_id, None)
            self.report.documents_received.append(item.reference)
            kept += 1
        self._next_documents = min(waiting, default=float("inf"))
        return kept

    def _document_failed(self, item: ToFetch, error: str) -> float:
        """Count the failure and return when the document is asked again."""
        assert self._issued is not None
        attempts = self._issued.failed(item, error)
        at = self._clock.time() + self.scheduler.dossier_delay(attempts)
        self._document_not_before[item.row_id] = at
        return at

    def send_notifications(self) -> int:
        """Send the text messages due now, one try each (a one-off pass); returns how many the
        service took. Stops as soon as the service is known down."""
        if self._notifications is None:
            return 0
        sent = len(self.report.sms_sent)
        while self.scheduler.state is not CircuitState.OPEN:
            message = self._notifications.claim()
            if message is None:
                break
            self._send_notification(message)
        return len(self.report.sms_sent) - sent

    def fetch_payment_references(self) -> int:
        """Ask the service the payment reference of each dossier that owes an amount and has
        none yet (printed on the next receipt); returns how many were kept."""
        if self._payments is None or self._payment_api is None:
            return 0
        kept = 0
        for dossier_id, number in self._payments.references_to_fetch():
            try:
                info = self._payment_api.payment_reference(number)
            except ServiceUnavailable as exc:
                self.scheduler.on_failure(self._clock.time(), str(exc), exc.retry_after)
                self.report.last_error = str(exc)
                return kept
            self._succeeded()
            if info is not None:
                self._payments.keep_reference(dossier_id, info)
                kept += 1
        return kept

    def fetch_bundles(self) -> int:
        """Install the signed bundles of démarches and tariffs the service publishes newer than
        those in use; returns how many were installed. Each is verified before anything of it
        is used (kiosk/sync/bundles.py): a refused one is reported and not fetched again, and
        the files in use stay as they are."""
        if self._bundles is None or self._bundle_api is None:
            return 0
        self._next_bundles = self._clock.time() + self._bundle_interval
        try:
            published = self._bundle_api.bundles()
        except RateLimited as exc:
            self.scheduler.on_rate_limited(
                self._clock.time(), exc.retry_after, self._api.quota.rate
            )
            return 0
        except ServiceUnavailable as exc:
            self.scheduler.on_failure(self._clock.time(), str(exc), exc.retry_after)
            self.report.last_error = str(exc)
            return 0
        self._succeeded()
        installed = 0
        for wanted in self._bundles.wanted(published):
            name = f"{wanted.kind} {wanted.serial}"
            if self._bundles.too_large(wanted):
                self.report.bundles_refused.append(name)
                continue
            try:
                signed = self._bundle_api.bundle(wanted.kind, wanted.serial, MAX_BUNDLE_BYTES)
            except RateLimited as exc:
                now = self._clock.time()
                self.scheduler.on_rate_limited(now, exc.retry_after, self._api.quota.rate)
                return installed
            except ServiceUnavailable as exc:
                # Cut, too slow, larger than it may be, a portal: tried again at the next look.
                log.warning("paquet %s non téléchargé : %s", name, exc)
                self.scheduler.on_failure(self._clock.time(), str(exc), exc.retry_after)
                self.report.last_error = str(exc)
                return installed
            self._succeeded()
            try:
                self._bundles.install(signed)
            except BundleRefused:
                self.report.bundles_refused.append(name)  # reported by install
                continue
            except OSError as exc:
                # The disk, not the bundle: nothing changed, tried again at the next look.
                log.warning("paquet %s non installé (disque) : %s", name, exc)
                continue
            installed += 1
            self.report.bundles_installed.append(name)
        return installed

    def _release(self, claimed: Claimed, error: str, delay: float, *, charged: bool = True) -> None:
        self._recent_error = error
        retry_at = datetime.fromtimestamp(self._clock.time() + delay, UTC)
        self._outbox.release(claimed.item_id, error, retry_at=retry_at, charged=charged)

    def _move(
        self,
        reference: str,
        target: DossierState,
        *,
        reason: str | None = None,
        national_number: str | None = None,
        reasons: tuple[Reason, ...] = (),
    ) -> None:
        try:
            self._dossiers.transition(
                reference,
                target,
                reason=reason,
                national_number=national_number,
                reasons=reasons,
            )
        except IllegalTransition:
            # Already moved by a decision pulled in the meantime (which also closed the row).
            log.info("dossier %s déjà sorti de la file", reference)

    def _succeeded(self) -> None:
        rate = self._api.quota.rate
        self.scheduler.on_success(self._clock.time(), rate)
        self._last_success = datetime.fromtimestamp(self._clock.time(), UTC)
        # The service's quota follows its number of active kiosks, so it moves a little on
        # almost every answer: save it only when it changed markedly (one write, not one per
        # request). Only a safe starting pace after a restart depends on it.
        saved = self._saved_quota
        if rate is not None and rate > 0 and (saved is None or abs(rate - saved) > 0.2 * saved):
            self._outbox.set_marker(QUOTA_KEY, rate)
            self._saved_quota = rate
        hint = self._api.quota
        size = (hint.capacity, hint.fleet, hint.rank)
        if hint.capacity is not None and size != self._saved_size:
            self._outbox.set_marker(
                SERVICE_KEY, {"capacite": size[0], "bornes": size[1], "rang": size[2]}
            )
            self._saved_size = size

    def send_report(self, *, force: bool = False) -> bool:
        """Send this kiosk's report if it changed since the last one sent (its last successful
        exchange aside) or the heartbeat is due, or ``force``; returns whether it was sent."""
        assert self._reporter is not None
        assert self._fleet_api is not None
        now = self._clock.time()
        report = self._reporter.build(
            last_sync=self._last_success,
            last_error=self.scheduler.last_error or self._recent_error,
        )
        if report.queued == 0 and self._recent_error is not None:
            # Everything went: an old dossier's error is no one's concern any more.
            self._recent_error = None
            if self.scheduler.last_error is None:
                report = replace(report, last_error=None)
        key = {**report.to_json(), "derniere_synchro": None}
        heartbeat = self._last_report + REPORT_HEARTBEAT
        if not force and key == self._reported and now < heartbeat:
            self._next_report = min(heartbeat, now + REPORT_SPACING)
            return False
        self._next_report = now + REPORT_SPACING
        try:
            self._fleet_api.report(report)
        except RateLimited as exc:
            self.scheduler.on_rate_limited(now, exc.retry_after, self._api.quota.rate)
            return False
        except ServiceUnavailable as exc:
            self.scheduler.on_failure(self._clock.time(), str(exc), exc.retry_after)
            self.report.last_error = str(exc)
            return False
        self._succeeded()
        self._reported, self._last_report = key, now
        return True

    def _withdraw(self) -> None:
        """The service says this kiosk was revoked: the withdrawal (keys destroyed, the store
        closed), once; nothing more is sent."""
        log.warning("le service national indique que cette borne est révoquée")
        self.revoked = True
        self.report.revoked = True
        if self._on_revoked is not None:
            self._on_revoked()

    def pull_changes(self) -> int:
        """Apply every decision recorded since the saved cursor; returns how many were applied."""
        self._last_pull = self._clock.time()
        self._next_pull = self._last_pull + self._poll_interval
        cursor = self._outbox.get_marker(CURSOR_KEY)
        applied = self._followup.apply_held()  # acknowledged since, e.g. before a restart
        while True:
            try:
                page = self._api.changes(cursor if isinstance(cursor, str) else None)
            except RateLimited as exc:
                now = self._clock.time()
                self.scheduler.on_rate_limited(now, exc.retry_after, self._api.quota.rate)
                return applied
            except ServiceUnavailable as exc:
                self.scheduler.on_failure(self._clock.time(), str(exc), exc.retry_after)
                self.report.last_error = str(exc)
                return applied
            self._succeeded()
            applied += sum(self._followup.apply(change) for change in page.changes)
            # Saved after applying: a crash in between re-reads the page (apply is idempotent).
            cursor = page.cursor
            self._outbox.set_marker(CURSOR_KEY, cursor)
            if not page.more:
                break
        self.report.decisions += applied
        self._decisions_applied += applied
        if applied:
            self._next_documents = self._clock.time()  # announced with them: fetch now
        # After the decisions: a dossier just asked to pay gets its reference now.
        self.fetch_payment_references()
        return applied

    # ------------------------------------------------------------------ loops

    def run_once(self, *, stop_when_open: bool = True) -> OnceReport:
        """Send everything queued, then pull decisions, then report. Stops early if the service
        is down; at once if it says this kiosk was revoked (``report.revoked``)."""
        self.report = OnceReport()
        try:
            return self._pass(stop_when_open=stop_when_open)
        except KioskRevoked:
            self._withdraw()
            return self.report

    def _pass(self, *, stop_when_open: bool) -> OnceReport:
        own_failures: dict[int, int] = {}  # outbox row → its own failures in this pass
        self._next_pull = float("inf")  # pull at the end, once the queue is drained
        # A circuit opened by an earlier pass whose cooldown is over lets this pass probe
        # (still open otherwise: the pass stops at once, as before).
        self.scheduler.delay(self._clock.time())
        while True:
            if stop_when_open and self.scheduler.state is CircuitState.OPEN:
                self.report.stopped_open = True
                break
            wait = self.scheduler.delay(self._clock.time())
            if wait > CLAIM_AHEAD:
                self._sleeper.sleep(wait)
                continue
            # The place is near (or here): claimed now, sent at the place (throttle).
            # A dossier failing on its own gets a few tries in a pass, then the next pass's.
            given_up = [i for i, n in own_failures.items() if n >= PASS_TRIES]
            claimed = self._outbox.claim(skip=given_up)
            if claimed is not None:
                if not self._send(claimed):
                    own_failures[claimed.item_id] = own_failures.get(claimed.item_id, 0) + 1
                self.publish()
                continue
            due = self._outbox.next_due(skip=given_up, held=False)
            if due is None:
                break
            # Rows waiting for their own backoff, leased by a process that died, or being sent
            # by another counter of the site: looked at again within LOOK_AGAIN.
            self._sleeper.sleep(min(LOOK_AGAIN, max(0.05, due.timestamp() - self._clock.time())))
        if not self.report.stopped_open and self._payments is not None:
            # The timbres of acknowledged dossiers, one try each in a pass (a failure waits).
            while (timbre := self._payments.claim()) is not None:
                self._send_timbre(timbre)
                if stop_when_open and self.scheduler.state is CircuitState.OPEN:
                    self.report.stopped_open = True
                    break
        if not self.report.stopped_open:
            self.pull_changes()
            # The messages of the decisions just pulled, and their documents, in this pass;
            # neither goes while the service is known down (each stops at an open circuit).
            self.send_notifications()
            self.fetch_documents()
        if not self.report.stopped_open and self._bundles is not None:
            self.fetch_bundles()
        if not self.report.stopped_open and self._reporter is not None:
            self.send_report(force=True)  # a pass is a round: its outcome goes to the site
        self.report.waiting = self._outbox.counts().waiting
        self.publish(force=True)
        return self.report

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set (the long-running mode of the app and ``--watch``), or the
        kiosk is withdrawn from service."""
        try:
            self._loop(stop)
        except KioskWithdrawn:
            # Withdrawn by another part of the kiosk (a supervisor's screen learnt it first):
            # its store is closed for good, nothing more to do here.
            self.revoked = True

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                wait = self.step()
            except KioskRevoked:
                self._withdraw()
                return  # nothing more to send, nor to save: the store is closed
            except KioskWithdrawn:
                raise
            except Exception as exc:  # the thread must survive anything; the row stays queued
                log.exception("erreur inattendue de synchronisation")
                wait = self.scheduler.on_failure(self._clock.time(), f"Erreur interne : {exc}")
            self.publish()
            if wait > 0 and not stop.is_set():
                self._sleeper.sleep(wait)
        self.publish(force=True)

    # ------------------------------------------------------------------ status

    def status(self) -> SyncStatus:
        """The current status (one small count query)."""
        now = self._clock.time()
        counts = self._outbox.counts()
        self._queued = counts.waiting
        return SyncStatus(
            circuit=self.scheduler.state,
            waiting=counts.waiting,
            next_attempt_in=self.scheduler.next_attempt_in(now),
            last_error=self.scheduler.last_error,
            last_success=self._last_success,
            attention=counts.attention,
            decisions=self._decisions_applied,
        )

    def publish(self, *, force: bool = False) -> None:
        """Tell the listener and save the status, when it changed (at most every 2 s)."""
        if self.revoked:
            return  # the store is closed for good
        now = self._clock.time()
        if not force and now - self._last_saved < 2.0:
            return
        status = self.status()
        key = (
            status.circuit,
            status.waiting,
            status.last_error,
            status.attention,
            status.decisions,
        )
        if force or key != self._last_published:
            self._last_published = key
            self._outbox.set_marker(STATUS_KEY, status.to_json())
            if self._listener is not None:
                self._listener(status)
        self._last_saved = now


def refusal_reasons(refused: Refused) -> tuple[Reason, ...]:
    """A refused filing's field errors as typed reasons (« information incorrecte » at the
    answer path the service named); its message alone, « autre », when it named none."""
    typed = tuple(
        reason
        for p in refused.problems
        if (
            reason := Reason.from_json(
                {"type": ReasonKind.CHAMP_INCORRECT.value, "message": p.message, "champ": p.field}
            )
        )
        is not None
    )
    if typed:
        return typed
    fallback = Reason.from_json({"type": ReasonKind.AUTRE.value, "message": str(refused)})
    return () if fallback is None else (fallback,)


class SyncThread:
    """Runs a :class:`SyncWorker` on a daemon thread; ``stop()`` ends it within one wait."""

    def __init__(self, worker: SyncWorker, sleeper: Sleeper) -> None:
        self.worker = worker
        self._sleeper = sleeper
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run, args=(self._stop,), name="pn-sync", daemon=True
        )

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the worker to stop and wait for it (a request in flight ends first)."""
        self._stop.set()
        self._sleeper.wake()
        self._thread.join(timeout)
