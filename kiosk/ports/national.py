"""What the kiosk needs from the national service, as a ``Protocol`` and plain values.

The HTTP client (``sync.client``) and any simulator implement :class:`NationalApi`; the domain
never knows which one it has. Failures are split the way the worker must treat them:

- :class:`ServiceUnavailable` (and its :class:`RateLimited` case): *transient*, retry later;
  nothing is known about the request (it may or may not have been recorded: the idempotency key
  makes the retry safe). Its :class:`FilingFailed` case: the service answered about this one
  filing, neither acknowledged nor refused (a 400, a 500, an unreadable body): the dossier, not
  the service, may be at fault; it waits its own backoff while the others go on.
- :class:`Refused`: *permanent*, the service read the dossier and will never accept it as is;
  the dossier goes back to the counter with the reason, in French.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from kiosk.followup.reasons import Reason
from kiosk.messages import translatable
from kiosk.updates import PublishedBundle, SignedBundle


@dataclass(frozen=True)
class LocalPiece:
    """A supporting document to upload: the file on this kiosk and what the server is told.

    ``read`` gives the document's plain bytes (files are stored encrypted: the upload must go
    through the document store, never read the file as it is on disk); ``size`` is the plain size.
    """

    sha256: str
    path: Path
    size: int
    mime_type: str
    read: Callable[[Path], bytes] = Path.read_bytes


@dataclass(frozen=True)
class OutgoingDossier:
    """One submission, ready to send: the body is deterministic so a resend is a replay."""

    idempotency_key: str
    dossier_id: str
    reference: str
    body: dict[str, Any]
    pieces: tuple[LocalPiece, ...] = ()


@dataclass(frozen=True)
class Ack:
    """The national service recorded the dossier and every supporting document."""

    national_number: str
    replayed: bool = False
    #: What the service says is due for the dossier, in cents (authoritative over the
    #: kiosk's estimate); None when it did not say, or said something unusable.
    amount_due_cents: int | None = None


@dataclass(frozen=True)
class StatusChange:
    """A decision of the national service about one dossier."""

    dossier_id: str
    national_number: str
    # "accepte", "refuse", "a_completer", "en_attente_paiement" or "paye"
    status: str
    reason: str | None = None
    missing: tuple[str, ...] = ()
    #: What the service asks for, typed (the contract's ``motifs``); a service speaking the
    #: contract's first version gives only ``reason`` and ``missing``.
    reasons: tuple[Reason, ...] = ()
    #: The day by which the person must answer an « à compléter » (``date_limite``).
    deadline: date | None = None
    #: Documents the service issued with the decision (a provisional registration certificate,
    #: a decision letter), to fetch and keep encrypted.
    documents: tuple[ReturnedDocument, ...] = ()


@dataclass(frozen=True)
class ReturnedDocument:
    """A document the national service issued for a dossier, as the decisions feed announces it
    (``documents`` of a change); its bytes come from :meth:`FollowUpApi.document`."""

    id: str
    kind: str  # "certificat_provisoire", "lettre_decision" (the contract's enum)
    title: str
    mime_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ChangesPage:
    """Status changes after a cursor, and the cursor to ask from next time."""

    changes: tuple[StatusChange, ...]
    cursor: str
    more: bool = False


@dataclass(frozen=True)
class FieldProblem:
    """One field the service found invalid, with its message in French."""

    field: str
    message: str


class ServiceUnavailable(Exception):
    """The service did not (knowingly) record the request: down, cut, overloaded, a portal.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(ServiceUnavailable):
    """The service is up but asks us to slow down (HTTP 429)."""


class FilingFailed(ServiceUnavailable):
    """The service answered this filing with neither an acknowledgement nor a refusal."""


class Refused(Exception):
    """The service will never accept this dossier as it is (HTTP 422, or 409 on a key reuse)."""

    def __init__(self, message: str, problems: tuple[FieldProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems

    def reason(self) -> str:
        """The text shown to the agent: the message, then one line per field."""
        lines = [str(self)] + [f"{p.field} : {p.message}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class OutgoingTimbre:
    """A timbre fiscal électronique to have the service check and consume for a dossier.

    ``idempotency_key`` is the kiosk's own, one per timbre given: a resend after a lost answer
    is a replay, never a second consumption.
    """

    idempotency_key: str
    timbre: str  # 16 ASCII digits
    dossier_id: str
    national_number: str
    reference: str


@dataclass(frozen=True)
class TimbreVerdict:
    """What the service said of a timbre: accepted (its value, what is still due) or not (why,
    in French: unknown, already used)."""

    accepted: bool
    amount_cents: int | None = None
    remaining_cents: int | None = None
    message: str | None = None


#: The service's refusals of a timbre (its problem's ``code``), as the agent reads them.
TIMBRE_REFUSALS = {
    "timbre_inconnu": translatable(
        "Timbre inconnu du service national : vérifiez les 16 chiffres, ou le timbre n'est pas"
        " encore enregistré."
    ),
    "timbre_utilise": translatable(
        "Ce timbre a déjà été utilisé : il ne peut pas payer ce dossier."
    ),
    "timbre_invalide": translatable(
        "Numéro de timbre refusé par le service national (16 chiffres attendus)."
    ),
    "dossier_inconnu": translatable(
        "Le service national ne connaît pas ce dossier : le timbre n'a pas été utilisé."
    ),
}


@dataclass(frozen=True)
class PaymentInfo:
    """The reference under which a dossier's fees can be paid later, from a phone (``url``, what
    the receipt's QR code carries) or in cash at an approved tobacconist's."""

    reference: str
    amount_cents: int
    url: str


class PaymentApi(Protocol):
    """The payment side of the national service (docs/national-api.json, « paiement »)."""

    def use_timbre(self, timbre: OutgoingTimbre) -> TimbreVerdict:
        """Check the timbre and, if valid and unused, consume it for the dossier.

        Raises:
            ServiceUnavailable: try again later with the same key (safe to repeat).
        """
        ...

    def payment_reference(self, national_number: str) -> PaymentInfo | None:
        """The dossier's payment reference (``None``: nothing is due)."""
        ...


class BundleApi(Protocol):
    """The signed bundles of démarches and tariffs the national service publishes
    (docs/national-api.json, « paquets »). Nothing of them is trusted here: the kiosk verifies
    each against its pinned keys before using a byte of it (kiosk/updates/)."""

    def bundles(self) -> tuple[PublishedBundle, ...]:
        """The published bundles (kind, serial, when issued, size).

        Raises:
            ServiceUnavailable: try again later.
        """
        ...

    def bundle(self, kind: str, serial: int, max_bytes: int) -> SignedBundle:
        """One bundle as published, abandoned past ``max_bytes``.

        Raises:
            ServiceUnavailable: try again later (also: too large, not found).
        """
        ...


@dataclass(frozen=True)
class OutgoingNotification:
    """A text message the national service's notification endpoint sends for the kiosk.

    ``text`` carries the dossier's reference and what to do, nothing else about the person; the
    phone number is the delivery address. ``idempotency_key`` is the kiosk's, one per message:
    a resend after a lost answer is a replay, never a second message.
    """

    idempotency_key: str
    national_number: str
    reference: str
    phone: str
    text: str


class FollowUpApi(Protocol):
    """What the kiosk uses after the decision (docs/national-api.json, « suivi »)."""

    def notify(self, notification: OutgoingNotification) -> str:
        """Have the service send the text message; returns the service's id for it.

        Raises:
            ServiceUnavailable: try again later with the same key (safe to repeat).
            Refused: the service will never send it (unknown dossier, number refused).
        """
        ...

    def document(self, national_number: str, document_id: str, max_bytes: int) -> bytes:
        """The bytes of a document the service issued for the dossier.

        Raises:
            ServiceUnavailable: try again later (also: too large, not found yet).
        """
        ...


@dataclass(frozen=True)
class ReceiptStatus:
    """A filed dossier's state as the national service tells it to any kiosk that reads its
    receipt (docs/national-api.json, ``Suivi``): nothing personal."""

    reference: str
    national_number: str
    #: "pieces_attendues", "en_instruction", "en_attente_paiement", "a_completer", "accepte"
    #: or "refuse"
    status: str
    filed_on: date
    deadline: date | None = None
    remaining_cents: int | None = None


class ReceiptUnknown(Exception):
    """The service knows no dossier for this receipt (unknown reference, wrong code, or a
    dossier filed without its verifier, or not yet filed)."""


class ReceiptLocked(ServiceUnavailable):
    """Too many wrong codes for this reference: its lookups are closed for ``retry_after``."""


class ReceiptApi(Protocol):
    """A receipt looked up at the national service (``POST /v1/suivi``)."""

    def follow_receipt(self, reference: str, code: str) -> ReceiptStatus:
        """The state of the dossier the receipt names.

        Raises:
            ReceiptUnknown: no dossier for this reference and code.
            ReceiptLocked: too many wrong codes for this reference lately.
            ServiceUnavailable: the service cannot say now.
        """
        ...


@dataclass(frozen=True)
class KioskCredentials:
    """A kiosk's client id and secret at the national service (``/v1/jetons``)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Redeemed:
    """What a kiosk gets for an enrolment code: its own credentials, and the site's settings as
    the supervisor's kiosk sealed them (kiosk/enrolment/seal.py: the service cannot read them)."""

    credentials: KioskCredentials
    sealed: bytes = field(repr=False)


class EnrolmentRefused(Exception):
    """The service refused an enrolment code for good; ``reason`` is its problem's ``code``
    (``code_inconnu``, ``code_incorrect``, ``code_expire``, ``code_utilise``,
    ``code_bloque``; ``code_existant`` when filing), ``remaining`` the wrong tries left."""

    def __init__(self, message: str, *, reason: str, remaining: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.remaining = remaining


#: The service's refusals of an enrolment code (its problem's ``code``), as the agent reads them.
ENROLMENT_REFUSALS = {
    "code_inconnu": (
        "Ce code d'enrôlement est inconnu du service national : vérifiez-le, ou demandez-en un"
        " nouveau au superviseur."
    ),
    "code_expire": (
        "Ce code d'enrôlement a expiré : demandez-en un nouveau au superviseur (un code vaut"
        " 30 minutes)."
    ),
    "code_utilise": (
        "Ce code d'enrôlement a déjà servi à enrôler une borne : demandez-en un nouveau au"
        " superviseur."
    ),
    "code_bloque": (
        "Trop d'essais avec un code faux : ce code d'enrôlement est annulé. Demandez-en un"
        " nouveau au superviseur."
    ),
    "code_existant": "Le service national connaît déjà ce code : un autre va être tiré.",
}


def wrong_code_message(remaining: int | None) -> str:
    """A well-formed code whose secret is not the one filed (« code_incorrect »)."""
    if remaining is None:
        return "Code d'enrôlement incorrect : vérifiez-le groupe par groupe."
    return (
        f"Code d'enrôlement incorrect : vérifiez-le groupe par groupe (il reste {remaining}"
        " essai(s) avant qu'il soit annulé)."
    )


class RedeemsEnrolment(Protocol):
    """What a kiosk being enrolled asks of the national service: its code redeemed, once."""

    def redeem_enrolment(self, enrolment_id: str, verifier: bytes) -> Redeemed:
        """Redeem a code, once, with no credentials of one's own (a kiosk being enrolled has
        none): the new kiosk's credentials and the sealed settings.

        Raises:
            EnrolmentRefused: unknown, wrong (counted), expired, used or annulled.
            ServiceUnavailable: try again later (nothing was counted).
        """
        ...


class EnrolmentApi(RedeemsEnrolment, Protocol):
    """Enrolling a kiosk through the national service (docs/national-api.json,
    « enrôlement »). Calls block; run them off the UI thread."""

    def file_enrolment(
        self, enrolment_id: str, verifier_digest: str, sealed: bytes, lifetime_s: int
    ) -> datetime:
        """File sealed settings under a new code's id (as the signed-in kiosk); returns when
        the service will forget them.

        Raises:
            EnrolmentRefused: the id is taken (``code_existant``): draw another code.
            ServiceUnavailable: try again later.
        """
        ...


@dataclass
class QuotaHint:
    """What the service last said of the load it takes: this kiosk's quota (``rate``, requests
    per second), its own capacity (requests per second, the whole service), the number of
    kiosks it serves (``fleet``) and this kiosk's rank among them, and the place it booked for
    this kiosk's next request (``next_in``, seconds after its answer; read once). ``None``: not
    said (yet)."""

    rate: float | None = None
    extra: dict[str, str] = field(default_factory=dict)
    capacity: float | None = None
    fleet: int | None = None
    rank: int | None = None
    next_in: float | None = None


class NationalApi(Protocol):
    """The national service as the kiosk uses it. Calls block; run them off the UI thread."""

    quota: QuotaHint

    def submit(self, dossier: OutgoingDossier) -> Ack:
        """File the dossier and upload its documents (resuming a broken upload).

        Raises:
            ServiceUnavailable: try again later (the same call is safe to repeat).
            Refused: the dossier must go back to the counter.
        """
        ...

    def changes(self, cursor: str | None, limit: int = 200) -> ChangesPage:
        """Status changes recorded after ``cursor`` (``None``: from the beginning)."""
        ...


# ---------------------------------------------------------------------- the site's kiosks


class KioskRevoked(Exception):
    """The national service says this kiosk was withdrawn from service (its problem's ``code``
    ``borne_revoquee``, on any authenticated call, the token request included).

    Not a :class:`ServiceUnavailable`: nothing is to be tried again. The kiosk destroys its keys
    and stops (kiosk/security/revocation.py).
    """


#: Where a kiosk's dossiers are kept: its own encrypted store, or the site's shared one (a
#: revoked counter on a site store loses nothing: the site's other counters send its dossiers).
STORAGE_KINDS = frozenset({"borne", "site"})
#: At most this many references of unsent dossiers go with a report (the oldest first).
MAX_REPORTED_UNSENT = 1000
#: The longest « last error » a report carries, in characters.
MAX_REPORTED_ERROR = 300


@dataclass(frozen=True)
class KioskReport:
    """What a kiosk says of itself to the national service: nothing about any person.

    ``unsent``: the references (``PN-XXXX-XXXX``) of the dossiers not yet acknowledged, oldest
    first, at most :data:`MAX_REPORTED_UNSENT`; ``queued`` counts them all. Times are UTC.
    """

    version: str
    queued: int
    oldest_unsent: datetime | None
    last_sync: datetime | None
    last_error: str | None
    unsent: tuple[str, ...]
    storage: str = "borne"

    def to_json(self) -> dict[str, Any]:
        """The body of the report (docs/national-api.json, ``RapportBorne``): exactly these
        fields, which the service refuses to extend (``additionalProperties: false``)."""
        return {
            "version": self.version,
            "file_attente": self.queued,
            "plus_ancien_non_envoye": _stamp(self.oldest_unsent),
            "derniere_synchro": _stamp(self.last_sync),
            "derniere_erreur": self.last_error,
            "non_envoyes": list(self.unsent),
            "stockage": self.storage,
        }


def _stamp(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class SiteKiosk:
    """A kiosk of the site as the national service lists it: its last report (``None``: it
    never sent one), when that report arrived, and whether it was revoked (when, by whom)."""

    id: str
    report: KioskReport | None
    received_at: datetime | None
    revoked: bool = False
    revoked_at: datetime | None = None
    revoked_by: str | None = None


@dataclass(frozen=True)
class SiteKiosks:
    """The kiosks of the asking kiosk's site."""

    site: str
    kiosks: tuple[SiteKiosk, ...]


class FleetApi(Protocol):
    """The site's kiosks at the national service (docs/national-api.json, « bornes »)."""

    def report(self, report: KioskReport) -> datetime:
        """Send this kiosk's report; returns when the service received it.

        Raises:
            ServiceUnavailable: try again at the next report.
            KioskRevoked: this kiosk was withdrawn from service.
        """
        ...

    def site_kiosks(self) -> SiteKiosks:
        """Every kiosk of this kiosk's site, with its last report.

        Raises:
            ServiceUnavailable: not fetched (the caller keeps what it last had).
            KioskRevoked: this kiosk was withdrawn from service.
        """
        ...

    def revoke(self, kiosk_id: str, *, by: str) -> SiteKiosk:
        """Withdraw the kiosk ``kiosk_id`` of this site from service (``by``: the supervisor's
        identifier, kept by the service); returns it as the service now lists it.

        Raises:
            ServiceUnavailable: not done (nothing changed; try again).
            Refused: unknown here, or this kiosk itself (the message says which).
            KioskRevoked: this kiosk was withdrawn from service.
        """
        ...
