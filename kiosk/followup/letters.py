"""The letter that tells a person without email what the national service decided.

A person who chose « par courrier » is told by post: what the service asks (the typed reasons,
with the démarche's names for the documents, and by when), what to pay and where without a bank
card, what was issued for them, or why their request was refused and what they can do. The
letter carries the dossier's reference and the receipt's own QR code (any counter scans it back
to the dossier), the counter's address and opening hours, and nothing else about the person than
their name and postal address (docs/letters.md).

:class:`LetterService` is the use case of ``kiosk courrier``: :meth:`~LetterService.compose` one
letter, :meth:`~LetterService.due` the day's letters, and :meth:`~LetterService.issue` them: the
PDF is delivered (printed, or written to a file) *first*, and only then is each letter recorded
as an attempt that tells the person (kiosk/followup/contact.py), in one transaction. A printer
that fails records nothing: the letter stays due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, exists, func, select

from kiosk.demarches import Catalog
from kiosk.dossiers.base import display_name, utc_now
from kiosk.dossiers.errors import DossierError, DossierNotFound
from kiosk.dossiers.receipts import address_lines, receipt_payment
from kiosk.dossiers.reference import InvalidReference, parse_reference, verification_code
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup import letter_text
from kiosk.followup.contact import Channel, Outcome, record_attempt
from kiosk.followup.letter_model import (
    Block,
    Checklist,
    Letter,
    LetterKind,
    Paragraph,
    PaymentPanel,
)
from kiosk.followup.reasons import Reason, legacy_reasons, reasons_from_json
from kiosk.receipt.model import Counter
from kiosk.settings.timezone import counter_time
from kiosk.site.counter import CounterSettings
from kiosk.store.engine import Store
from kiosk.store.models import (
    ContactAttempt,
    Dossier,
    Estimation,
    NationalDocument,
    NationalNotice,
    Usager,
)

T = TypeVar("T")

__all__ = [
    "Block",
    "Checklist",
    "Letter",
    "LetterError",
    "LetterKind",
    "LetterService",
    "NoPostalAddress",
    "NothingToSay",
    "Paragraph",
    "PaymentPanel",
    "recipient_lines",
]

#: The most lines of a French postal address, the name included (norme NF Z 10-011).
ADDRESS_LINES = 6


class LetterError(DossierError):
    """A letter cannot be made; ``str()`` says why in French, for the agent."""


class NoPostalAddress(LetterError):
    """The dossier has no postal address (or no name) to write to."""


class NothingToSay(LetterError):
    """The dossier has no national decision a letter could announce."""


def recipient_lines(name: str | None, address: Any) -> tuple[str, ...]:
    """The address block as La Poste reads it (norme NF Z 10-011): the name on the first line,
    then the complement, the street, the postcode and town; at most six lines, the address
    lines in capitals and without punctuation (the sorting machines read them better)."""
    if isinstance(address, dict):
        street = [
            str(address[k])
            for k in ("complement", "ligne1", "ligne", "ligne2")
            if isinstance(address.get(k), str | int) and str(address[k]).strip()
        ]
        town = " ".join(
            str(address[k]) for k in ("code_postal", "commune") if address.get(k) is not None
        )
        lines = [*street, town] if town.strip() else street
    else:
        lines = list(address_lines(address))
    cleaned = [_postal(line) for line in lines]
    kept = [line for line in cleaned if line]
    if not kept:
        return ()
    head = [" ".join(name.split())] if name and name.strip() else []
    # The town line is the one La Poste cannot do without: kept when a line must go.
    room = ADDRESS_LINES - len(head)
    body = kept if len(kept) <= room else [*kept[: room - 1], kept[-1]]
    return (*head, *body)


def _postal(line: str) -> str:
    """One address line in capitals, commas and full stops dropped, spaces collapsed."""
    return " ".join(line.replace(",", " ").replace(".", " ").split()).upper()


@dataclass(frozen=True)
class _Facts:
    """A dossier as the letter reads it (kept apart from the session that read it)."""

    dossier_id: str
    state: DossierState
    demarche_id: str
    version: int
    training: bool
    notice_id: int | None  # the latest notice (None: no decision yet), then its columns
    notice_state: str
    deadline: date | None
    detail: str | None
    reasons: Any
    name: str | None
    address: Any
    issued: tuple[str, ...]
    amount_due: int | None


class LetterService:
    """Composes, lists and issues the letters of the dossiers whose person chose the post."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        dossiers: DossierService,
        counter: CounterSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        training: bool = False,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._dossiers = dossiers
        self._counter = counter
        self._now = clock
        self._training = training

    def compose(self, reference: str) -> Letter:
        """The letter announcing the latest national decision on ``reference``.

        Raises:
            DossierNotFound: no such dossier here.
            NothingToSay: no national decision to announce (or the payment asked is made).
            NoPostalAddress: no postal address, or no name, to write to.
        """
        try:
            ref = parse_reference(reference)
        except InvalidReference as exc:
            raise DossierNotFound(reference.strip()) from exc
        facts = self._facts(ref)
        notice_id = facts.notice_id
        if notice_id is None:
            raise NothingToSay(
                f"Le dossier {ref} n'a reçu aucune réponse du service national : il n'y a"
                " rien à lui écrire."
            )
        notice_state, deadline = facts.notice_state, facts.deadline
        detail, stored_reasons = facts.detail, facts.reasons
        state, dossier_id, name, address = facts.state, facts.dossier_id, facts.name, facts.address
        issued, amount_due = facts.issued, facts.amount_due
        try:
            kind = LetterKind(notice_state)
        except ValueError:
            raise NothingToSay(
                f"La dernière réponse du service national pour le dossier {ref} n'est pas de"
                " celles qu'on annonce par courrier."
            ) from None
        if kind is LetterKind.ATTENTE_PAIEMENT and state is not DossierState.ATTENTE_PAIEMENT:
            raise NothingToSay(
                f"Le dossier {ref} n'attend plus de paiement (il est « {state.label} ») : la"
                " lettre demandant de payer n'a plus lieu d'être."
            )
        recipient = recipient_lines(name, address)
        if not address_lines(address) or not recipient:
            raise NoPostalAddress(
                f"Le dossier {ref} n'a pas d'adresse postale : impossible de lui écrire."
                " Appelez la personne ou attendez qu'elle revienne au guichet, et notez"
                " l'adresse dans son dossier si elle souhaite recevoir des courriers."
            )
        if name is None:
            raise NoPostalAddress(
                f"Le dossier {ref} n'a pas le nom de la personne : une lettre sans nom ne peut"
                " pas lui être envoyée. Complétez son identité au guichet."
            )
        try:
            demarche = self._catalog.get(facts.demarche_id, facts.version)
            title, theme = demarche.title, demarche.theme
            labels = {rule.kind: rule.label for rule in demarche.documents}
        except KeyError:  # the definition is gone from this kiosk: the letter still goes
            title, theme, labels = facts.demarche_id, "autre", {}
        reasons = reasons_from_json(stored_reasons) or _from_detail(detail)
        details = self._counter.get()
        sender = Counter(
            name=details.name, address=details.address, phone=details.phone, hours=details.hours
        )
        payment = None
        if kind is LetterKind.ATTENTE_PAIEMENT:
            payment = receipt_payment(self._dossiers.payment(ref))
        blocks = letter_text.body(
            letter_text.Situation(
                kind=kind.value,
                reference=ref,
                title=title,
                theme=theme,
                reasons=reasons,
                labels=labels,
                deadline=deadline,
                payment=payment,
                amount_due=amount_due,
                issued=issued,
                phone=details.phone,
            )
        )
        return Letter(
            dossier_id=dossier_id,
            notice_id=notice_id,
            reference=ref,
            verification_code=verification_code(self._dossiers.receipt_key(), dossier_id, ref),
            demarche_title=title,
            kind=kind,
            recipient=recipient,
            sender=sender,
            dated=counter_time(self._now()).date(),
            subject=letter_text.subject(kind.value, ref),
            blocks=blocks,
            deadline=deadline,
            training=self._training or facts.training,
        )

    def _facts(self, ref: str) -> _Facts:
        """What the letter needs from the store, read in one transaction."""
        with self._store.read() as s:
            dossier = s.scalars(select(Dossier).where(Dossier.reference == ref)).one_or_none()
            if dossier is None:
                raise DossierNotFound(ref)
            notice = s.scalars(
                select(NationalNotice)
                .where(NationalNotice.dossier_id == dossier.id)
                .order_by(NationalNotice.id.desc())
                .limit(1)
            ).one_or_none()
            usager = s.get(Usager, dossier.id)
            return _Facts(
                dossier_id=dossier.id,
                state=DossierState(dossier.state),
                demarche_id=dossier.demarche_id,
                version=dossier.demarche_version,
                training=dossier.training,
                notice_id=notice.id if notice else None,
                notice_state=notice.state if notice else "",
                deadline=notice.deadline if notice else None,
                detail=notice.detail if notice else None,
                reasons=notice.reasons if notice else None,
                name=display_name_for_post(usager),
                address=usager.adresse if usager else None,
                issued=tuple(
                    s.scalars(
                        select(NationalDocument.label)
                        .where(NationalDocument.dossier_id == dossier.id)
                        .order_by(NationalDocument.id)
                    )
                ),
                amount_due=s.scalar(
                    select(Estimation.amount_due_cents).where(Estimation.dossier_id == dossier.id)
                ),
            )

    def due(self, *, limit: int = 500) -> list[str]:
        """The day's letters: the dossiers whose person chose the post and whose latest national
        decision is neither passed on yet nor already printed as a letter, oldest first."""
        latest = (
            select(NationalNotice.dossier_id, func.max(NationalNotice.id).label("notice_id"))
            .group_by(NationalNotice.dossier_id)
            .subquery()
        )
        printed = exists().where(
            ContactAttempt.notice_id == NationalNotice.id,
            ContactAttempt.channel == Channel.COURRIER.value,
            ContactAttempt.outcome == Outcome.IMPRIME.value,
        )
        with self._store.read() as s:
            return list(
                s.scalars(
                    select(Dossier.reference)
                    .join(latest, latest.c.dossier_id == Dossier.id)
                    .join(NationalNotice, NationalNotice.id == latest.c.notice_id)
                    .where(
                        and_(
                            Dossier.contact_mode == Channel.COURRIER.value,
                            Dossier.purged_at.is_(None),
                            NationalNotice.contacted_at.is_(None),
                            ~printed,
                        )
                    )
                    .order_by(NationalNotice.at, NationalNotice.id)
                    .limit(limit)
                )
            )

    def render(self, letters: Sequence[Letter]) -> bytes:
        """The letters as one PDF, a page each (each page stands alone)."""
        from kiosk.followup.letter_pdf import render_letters

        return render_letters(letters)

    def issue(
        self,
        letters: Sequence[Letter],
        deliver: Callable[[bytes], T],
        *,
        agent_id: int | None = None,
    ) -> T:
        """Render ``letters``, hand the PDF to ``deliver`` (the printer, or a file), then record
        each letter as printed for the post, which passes its notice on.

        Nothing is recorded unless ``deliver`` returned: a printer that fails (it raises) leaves
        every letter due.

        Returns:
            What ``deliver`` returned (the printer's confirmation).
        """
        result = deliver(self.render(letters))
        now = self._now()
        with self._store.write() as s:
            for letter in letters:
                record_attempt(
                    s,
                    letter.dossier_id,
                    Channel.COURRIER,
                    Outcome.IMPRIME,
                    at=now,
                    agent_id=agent_id,
                    notice_id=letter.notice_id,
                )
        return result


def display_name_for_post(usager: Usager | None) -> str | None:
    """« Maëlys MARTIN »: given names then the surname in capitals, as La Poste wants the first
    line of an address (the lists show « MARTIN Maëlys »)."""
    if usager is None:
        return None
    if not usager.prenoms:
        return display_name(usager.nom, None)
    return " ".join(p for p in (usager.prenoms, (usager.nom or "").upper()) if p) or None


def _from_detail(detail: str | None) -> tuple[Reason, ...]:
    """Reasons from a notice written before they were typed: its free text, line by line (the
    « À fournir : a ; b » line of kiosk/sync/followup.py becomes one missing document each)."""
    if not detail or not detail.strip():
        return ()
    reason_lines, missing = [], []
    for line in detail.splitlines():
        head, sep, rest = line.partition(":")
        if sep and head.strip() == "À fournir":
            missing += [m.strip() for m in rest.split(";") if m.strip()]
        elif line.strip():
            reason_lines.append(line.strip())
    reasons = legacy_reasons(None, missing)
    free = legacy_reasons(" ".join(reason_lines), ()) if reason_lines else ()
    return (*free, *reasons)
