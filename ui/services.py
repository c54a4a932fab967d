"""What each screen is given by the composition root: the narrow part of the domain it uses.

``UiServices`` is what the composition root (``app/container.py``) builds once; the window hands
each screen only its slice (``WizardServices``, ``ReviewServices``…), the way qutebrowser's
``api`` package is all an extension may see. The dossier use cases a screen calls are listed as
a ``Protocol``: a screen cannot reach a use case it was not given, and a test can hand it a fake.
The store itself is never given to a screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # imported for the types only: the window must paint before these load
    from pathlib import Path

    from kiosk.demarches import Catalog, JSONValue
    from kiosk.dossiers.answers import AnswerResult
    from kiosk.dossiers.attachments import Attached, Attachments, ScanAttached
    from kiosk.dossiers.fees import FeesView
    from kiosk.dossiers.mandate import MandateService, MandateStatus, Revocation
    from kiosk.dossiers.payment import PaymentView
    from kiosk.dossiers.queries import CounterDossier
    from kiosk.dossiers.receipts import FollowReceipt, ReceiptService
    from kiosk.dossiers.service import DossierService
    from kiosk.dossiers.states import DossierState
    from kiosk.dossiers.views import DossierSummary, DossierView
    from kiosk.enrolment.service import Enrolled, Issued
    from kiosk.followup.contact import Channel, Outcome
    from kiosk.followup.letter_desk import Printed
    from kiosk.followup.worklist import Need, WorkItem, Worklist
    from kiosk.identity.model import IdentityReading
    from kiosk.ports.devices import (
        Camera,
        CodeReader,
        ConnectionBadge,
        GlyphReader,
        Printer,
        ScannedFile,
        Scanner,
        ScanSource,
        Speech,
        TextReader,
    )
    from kiosk.ports.identity import IdentityReader
    from kiosk.ports.national import SiteKiosk
    from kiosk.security.agents import AgentInfo, AgentService, PinCheck
    from kiosk.security.audit import AuditLog
    from kiosk.security.retention import RetentionService
    from kiosk.security.revocation import KioskWithdrawn
    from kiosk.site.counter import CounterSettings
    from kiosk.site.screen import ScreenSettings
    from kiosk.sync.fleet import SiteView


# ------------------------------------------------------------------ the dossier use cases, by need


class OpensDossiers(Protocol):
    """Open a dossier at the counter (``kiosk.dossiers.queries``)."""

    def open(self, reference: str, *, agent_id: int | None = None) -> CounterDossier:
        """The dossier's view, whether it can change and why not; the opening is audited."""
        ...


class ShowsDossiers(Protocol):
    """Read one dossier (``kiosk.dossiers.queries``)."""

    def show(self, reference: str) -> DossierView:
        """Everything about one dossier."""
        ...


class AnswersDossiers(OpensDossiers, Protocol):
    """What the questions' screen does (``kiosk.dossiers.answers``)."""

    def answer(
        self, reference: str, path: str, raw: str | JSONValue, *, agent_id: int | None = None
    ) -> AnswerResult:
        """Save one answer (autosave)."""
        ...

    def apply_identity(
        self, reference: str, reading: IdentityReading, *, agent_id: int | None = None
    ) -> list[AnswerResult]:
        """Answer the applicant's identity questions from a document read, all or none."""
        ...

    def remove_group_item(
        self, reference: str, group_id: str, index: int, *, agent_id: int | None = None
    ) -> None:
        """Remove one item of a repeatable group."""
        ...


class FilesDossiers(OpensDossiers, Protocol):
    """What the review does (``kiosk.dossiers.lifecycle``)."""

    def file(self, reference: str, *, agent_id: int | None = None) -> DossierSummary:
        """File the dossier: complete, mandate signed, queued; or nothing changes."""
        ...


class EstimatesFees(Protocol):
    """What a dossier costs (``kiosk.dossiers.fees``): kept at filing, computed live before."""

    def fees(self, reference: str, *, lang: str = "fr") -> FeesView:
        """The dossier's fees, line by line, in ``lang``; the amount the service says due."""
        ...


class TakesPayments(Protocol):
    """A filed dossier's payment at the counter (``kiosk.dossiers.payment``)."""

    def payment(self, reference: str) -> PaymentView:
        """Where the payment stands: the amount asked, its reference, the timbres given."""
        ...

    def add_timbre(
        self, reference: str, number: str, *, agent_id: int | None = None
    ) -> PaymentView:
        """Record a timbre fiscal électronique, to be checked by the national service."""
        ...


class RevokesMandates(Protocol):
    """A dossier's mandate on its card (``kiosk.dossiers.mandate``): its state, its revocation
    at the counter and the attestation printed for the person."""

    def status(self, reference: str) -> MandateStatus:
        """Whether it is signed, until when, whether it was revoked."""
        ...

    def revoke(self, reference: str, *, agent_id: int | None = None) -> Revocation:
        """The person revokes it (a second time: said, nothing changes)."""
        ...

    def attestation_pdf(self, reference: str, *, training: bool = False) -> bytes:
        """The revocation attestation (A4 PDF)."""
        ...


class FindsDossiers(Protocol):
    """What the home screen does (``kiosk.dossiers.queries``)."""

    def usage_counts(self, since: datetime) -> dict[str, int]:
        """Dossiers started here since ``since``, by démarche (the most used tiles first)."""
        ...

    def list(
        self, *, state: DossierState | None = None, search: str | None = None, limit: int = 50
    ) -> list[DossierSummary]:
        """Dossiers matching a search."""
        ...


class SignsIn(Protocol):
    """The sign-in keypad's part of the agents (``kiosk.security.agents``): never their
    administration, which needs a supervisor signed in."""

    def list(self) -> list[AgentInfo]:
        """The agents who may sign in here."""
        ...

    def check_pin(self, identifiant: str, pin: str) -> PinCheck | None:
        """Argon2 on the PIN being typed, ahead of :meth:`sign_in` (nothing counted, nothing
        told)."""
        ...

    def sign_in(self, identifiant: str, pin: str, *, checked: PinCheck | None = None) -> AgentInfo:
        """Check a PIN (with the lockout after wrong ones); ``checked``: the check made while
        it was typed, if any."""
        ...


class AttachesDocuments(Protocol):
    """The documents screen's part of the attachments (``kiosk.dossiers.attachments``)."""

    def list(self, reference: str) -> list[Attached]:
        """The documents provided for a dossier."""
        ...

    def attach(
        self,
        reference: str,
        kind: str,
        data: bytes,
        mime_type: str,
        *,
        item_path: str | None = None,
        agent_id: int | None = None,
    ) -> object:
        """Store a captured document and record it for the dossier (the attach use case); what
        was stored is of no use to a screen."""
        ...

    def attach_scan(
        self,
        reference: str,
        kind: str,
        scans: ScanSource,
        scanned: ScannedFile,
        *,
        item_path: str | None = None,
        agent_id: int | None = None,
    ) -> ScanAttached:
        """Attach a scan from the scanner's folder and delete it there (says if it stayed)."""
        ...

    def read(self, path: Path) -> bytes:
        """A stored document's bytes, for its thumbnail."""
        ...


class FollowsUp(Protocol):
    """The follow-up after the counter (``kiosk.followup.worklist``)."""

    def worklist(self, *, need: Need | None = None, limit: int = 200) -> Worklist:
        """The dossiers that need someone, most urgent first, and each need's count."""
        ...

    def item(self, reference: str) -> WorkItem:
        """One filed dossier's follow-up: what was asked, how to reach the person, attempts."""
        ...

    def record_contact(
        self,
        reference: str,
        channel: Channel,
        outcome: Outcome,
        *,
        note: str | None = None,
        agent_id: int | None = None,
    ) -> WorkItem:
        """Record an attempt to reach the person; the entry as it now stands."""
        ...

    def hand_over(self, reference: str, document_id: int, *, agent_id: int | None = None) -> None:
        """A document the national service issued was handed over at the counter."""
        ...


class PrintsLetters(Protocol):
    """Letters by post on the counter's printer (``kiosk.followup.letter_desk``)."""

    def print_letter(self, reference: str, *, agent_id: int | None = None) -> Printed:
        """Print one dossier's letter; recorded as sent once the printer took it."""
        ...

    def due(self) -> int:
        """How many letters the day's batch would print."""
        ...

    def print_due(self, *, agent_id: int | None = None) -> Printed:
        """Print the day's letters."""
        ...

    def print_document(
        self, reference: str, document_id: int, *, agent_id: int | None = None
    ) -> Printed:
        """Print a document the national service issued (a provisional certificate)."""
        ...


class IssuesEnrolments(Protocol):
    """A supervisor enrols a new kiosk of the site (``kiosk.enrolment.service``)."""

    def issue(self, *, by: AgentInfo | None) -> Issued:
        """A one-time code filed at the national service, with its QR code's text."""
        ...


class EnrolsKiosk(Protocol):
    """A kiosk with no credentials enrols itself (``kiosk.enrolment.service``)."""

    @property
    def settings_file(self) -> Path:
        """The settings file an enrolment writes."""
        ...

    def redeem(self, text: str) -> Enrolled:
        """Redeem the code typed, or the QR code's text: credentials and site settings
        written."""


class WatchesSiteKiosks(Protocol):
    """The site's kiosks for a supervisor (``kiosk.sync.fleet``): their reports, and revoking
    a lost one at the national service."""

    def view(self) -> SiteView:
        """The site's kiosks fetched now, or the last ones fetched and why not now."""
        ...

    def revoke(self, kiosk_id: str, *, by: AgentInfo | None) -> SiteKiosk:
        """Withdraw a kiosk of the site from service (a supervisor only; journalled)."""
        ...


# ------------------------------------------------------------------ each screen's slice


@dataclass(frozen=True)
class SignInServices:
    """The sign-in keypad."""

    agents: SignsIn


@dataclass(frozen=True)
class HomeServices:
    """Start a démarche, find a dossier again."""

    catalog: Catalog
    dossiers: FindsDossiers
    receipts: ReceiptService
    #: A receipt's QR code read: its dossier here, else its state at the national service.
    follow_receipt: FollowReceipt | None = None


@dataclass(frozen=True)
class CardServices:
    """A dossier's card."""

    catalog: Catalog
    dossiers: OpensDossiers
    fees: EstimatesFees
    payments: TakesPayments
    #: Ask the sync worker to send now (after a timbre is given; None: no sync).
    sync_wake: Callable[[], None] | None = None
    #: What happened after the counter (None: not offered).
    followup: FollowsUp | None = None
    #: The dossier's mandate, and the printer of its revocation attestation (None: not shown).
    mandates: RevokesMandates | None = None
    printer: Printer | None = None
    training: bool = False
    #: A dossier's letter by post (None: not offered).
    letters: PrintsLetters | None = None


@dataclass(frozen=True)
class FollowUpServices:
    """The agent's worklist."""

    followup: FollowsUp
    #: The day's letters by post (None: not offered).
    letters: PrintsLetters | None = None
    #: Ask the sync to pull the national decisions now (None: no sync).
    sync_refresh: Callable[[], None] | None = None


@dataclass(frozen=True)
class IdentityPhotos:
    """The CAN and the MRZ read off a photo instead of typed (docs/identity.md, « CAN and MRZ
    by camera »): the camera that takes each (the same one at a real counter; in training mode,
    simulated cameras filming the training card's front and its MRZ), the text reader that
    reads the CAN, and the glyph reader that reads the MRZ."""

    text: TextReader
    can_camera: Camera
    mrz_camera: Camera
    glyphs: GlyphReader


@dataclass(frozen=True)
class WizardServices:
    """The questions, the identity read."""

    catalog: Catalog
    dossiers: AnswersDossiers
    identity: IdentityReader | None
    #: The CAN of the simulated card on the reader, in training mode.
    training_can: str | None
    #: Reads the question aloud (« Écouter »; None: no such button).
    speech: Speech | None = None
    #: The CAN and MRZ by camera (None: typed only).
    identity_photos: IdentityPhotos | None = None


@dataclass(frozen=True)
class DocumentsServices:
    """The supporting documents: scanner folder, camera, SANE scanner, attached files."""

    catalog: Catalog
    dossiers: ShowsDossiers
    attachments: AttachesDocuments
    scans: ScanSource
    #: The camera that photographs documents (None: none configured, the scanner only).
    camera: Camera | None
    #: The scanner the kiosk drives itself (None: none configured, its folder only).
    scanner: Scanner | None = None


@dataclass(frozen=True)
class ConsentServices:
    """The mandate to read and sign."""

    catalog: Catalog
    dossiers: ShowsDossiers
    mandates: MandateService
    counter: CounterSettings
    #: Prints the person's copy once signed (None: no « Imprimer ma copie »).
    printer: Printer | None = None
    training: bool = False
    #: The scanner's folder, for a mandate signed on paper (None: no « Signé sur papier »).
    scans: ScanSource | None = None


@dataclass(frozen=True)
class ReviewServices:
    """The review, and filing."""

    catalog: Catalog
    dossiers: FilesDossiers
    #: Ask the sync worker to send now (after a dossier is filed; None: no sync).
    sync_wake: Callable[[], None] | None
    fees: EstimatesFees


@dataclass(frozen=True)
class ReceiptServices:
    """The receipt on screen and on paper."""

    catalog: Catalog
    dossiers: ShowsDossiers
    receipts: ReceiptService
    printer: Printer


@dataclass(frozen=True)
class SupervisionServices:
    """The supervisor's screen: agents, the counter's details, the audit, retention."""

    agents: AgentService
    counter: CounterSettings
    audit: AuditLog | None
    retention: RetentionService | None
    #: The inactivity delays (None: fixed, not offered).
    screen: ScreenSettings | None = None
    #: The site's kiosks (None: no national service configured, not offered).
    kiosks: WatchesSiteKiosks | None = None
    #: New kiosks of the site enrolled from here (None: this kiosk is not enrolled itself).
    enrolments: IssuesEnrolments | None = None


@dataclass(frozen=True)
class EnrolServices:
    """« Borne à configurer »: the kiosk enrols itself with a supervisor's code."""

    enrolment: EnrolsKiosk
    #: Where a code typed alone is redeemed (the QR code carries its own address).
    api_url: str
    #: The camera and the QR code reader that scan the code (None: typed only).
    camera: Camera | None = None
    codes: CodeReader | None = None


@dataclass(frozen=True)
class UiServices:
    """Everything the composition root builds for the touchscreen; the window slices it."""

    catalog: Catalog
    #: Every dossier use case; the window hands each screen the ones it calls.
    dossiers: DossierService
    receipts: ReceiptService
    agents: AgentService
    printer: Printer
    attachments: Attachments
    mandates: MandateService
    scans: ScanSource
    counter: CounterSettings
    identity: IdentityReader | None = None
    camera: Camera | None = None
    #: The SANE scanner behind « Numériser » (None: the scanner's folder only).
    scanner: Scanner | None = None
    #: The CAN and MRZ by camera (None: typed only).
    identity_photos: IdentityPhotos | None = None
    #: Reads the questions aloud (None: no « Écouter »).
    speech: Speech | None = None
    training: bool = False
    training_can: str | None = None
    #: ``subscribe(callback)``: ``callback(badge)`` is then called, from the sync thread, on
    #: every change of connection state or queue size (None: no sync configured).
    sync_subscribe: Callable[[Callable[[ConnectionBadge], None]], None] | None = None
    sync_wake: Callable[[], None] | None = None
    audit: AuditLog | None = None
    retention: RetentionService | None = None
    followup: FollowsUp | None = None
    letters: PrintsLetters | None = None
    #: Ask the sync worker to pull the national decisions now (None: no sync).
    sync_refresh: Callable[[], None] | None = None
    #: The site's inactivity delays, set by a supervisor (None: the window's own).
    screen: ScreenSettings | None = None
    #: A receipt followed from any kiosk (None: this kiosk's dossiers only).
    follow_receipt: FollowReceipt | None = None
    #: This kiosk has no credentials yet: it opens on « Borne à configurer » (None: it has).
    enrolment: EnrolsKiosk | None = None
    #: Where a code typed alone is redeemed (the national service of this kiosk's settings).
    api_url: str = ""
    #: Reads the enrolment's QR code off a photo (None: the code is typed).
    codes: CodeReader | None = None
    #: New kiosks of the site, enrolled by a supervisor from here (None: not offered).
    enrolments: IssuesEnrolments | None = None
    #: The site's kiosks at the national service (None: no sync configured).
    site_kiosks: WatchesSiteKiosks | None = None
    #: ``subscribe(callback)``: ``callback(error)`` is called, from whichever thread learnt it,
    #: once the national service said this kiosk was revoked and its keys are destroyed.
    withdrawn_subscribe: Callable[[Callable[[KioskWithdrawn], None]], None] | None = None
    #: The start-up work the home screen does not wait for (the sync's thread and training
    #: mode's reference server; the PDF engine warmed up): the window calls it once, when the
    #: home screen is first painted, or a while after the services arrive if no one signs in.
    #: It returns at once, the work runs on a thread of its own (None: nothing to start).
    start_later: Callable[[], None] | None = None

    def sign_in(self) -> SignInServices:
        """The sign-in screen's slice."""
        return SignInServices(self.agents)

    def home(self) -> HomeServices:
        """The home screen's slice."""
        return HomeServices(self.catalog, self.dossiers, self.receipts, self.follow_receipt)

    def card(self) -> CardServices:
        """The dossier card's slice."""
        return CardServices(
            self.catalog,
            self.dossiers,
            self.dossiers,
            self.dossiers,
            self.sync_wake,
            followup=self.followup,
            mandates=self.mandates,
            printer=self.printer,
            training=self.training,
            letters=self.letters,
        )

    def worklist(self) -> FollowUpServices | None:
        """The worklist screen's slice (None: no follow-up offered)."""
        if self.followup is None:
            return None
        return FollowUpServices(self.followup, self.letters, self.sync_refresh)

    def wizard(self) -> WizardServices:
        """The questions' slice."""
        return WizardServices(
            self.catalog,
            self.dossiers,
            self.identity,
            self.training_can,
            self.speech,
            identity_photos=self.identity_photos,
        )

    def documents(self) -> DocumentsServices:
        """The documents screen's slice."""
        return DocumentsServices(
            self.catalog, self.dossiers, self.attachments, self.scans, self.camera, self.scanner
        )

    def consent(self) -> ConsentServices:
        """The mandate screen's slice."""
        return ConsentServices(
            self.catalog,
            self.dossiers,
            self.mandates,
            self.counter,
            printer=self.printer,
            training=self.training,
            scans=self.scans,
        )

    def review(self) -> ReviewServices:
        """The review's slice."""
        return ReviewServices(self.catalog, self.dossiers, self.sync_wake, self.dossiers)

    def receipt(self) -> ReceiptServices:
        """The receipt screen's slice."""
        return ReceiptServices(self.catalog, self.dossiers, self.receipts, self.printer)

    def supervision(self) -> SupervisionServices:
        """The supervision screen's slice."""
        return SupervisionServices(
            self.agents,
            self.counter,
            self.audit,
            self.retention,
            self.screen,
            self.site_kiosks,
            enrolments=self.enrolments,
        )

    def enrol(self) -> EnrolServices | None:
        """« Borne à configurer »'s slice (None: the kiosk has its credentials)."""
        if self.enrolment is None:
            return None
        return EnrolServices(self.enrolment, self.api_url, self.camera, self.codes)
