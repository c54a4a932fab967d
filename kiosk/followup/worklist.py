"""The agent's worklist: the dossiers that need someone, and what was done to reach each person.

A dossier is on the list while it waits for the person or for the agent:

- « à compléter »: sent back by the national service, until it is filed again or abandoned;
- « paiement »: waiting to be paid;
- « accepté »: accepted, while the person has not been told or a document the service issued
  (a provisional registration certificate) has not been handed over;
- « refusé »: refused, until the person has been told.

Each entry says how to reach the person (the channel they chose, their phone, their address),
what the service asked and by when, and every attempt made, with its date, agent and outcome
(:mod:`kiosk.followup.contact`). The most urgent come first: the nearest deadline, then the
oldest decision. Purged dossiers (the person's data erased) are never listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Row, Select, func, select, union
from sqlalchemy.orm import Session

from kiosk.demarches import Catalog
from kiosk.dossiers.base import display_name
from kiosk.dossiers.errors import DossierError, DossierNotFound
from kiosk.dossiers.receipts import address_lines
from kiosk.dossiers.reference import InvalidReference, parse_reference
from kiosk.dossiers.states import DossierState
from kiosk.followup.contact import Channel, Outcome, record_attempt
from kiosk.followup.reasons import Reason, legacy_reasons, reasons_from_json
from kiosk.messages import Message
from kiosk.store.engine import Store
from kiosk.store.models import (
    Agent,
    ContactAttempt,
    Dossier,
    Estimation,
    NationalDocument,
    NationalNotice,
    PaymentReference,
    Usager,
)


class Need(StrEnum):
    """Why a dossier is on the worklist."""

    A_COMPLETER = "a_completer"
    PAIEMENT = "paiement"
    ACCEPTE = "accepte"
    REFUSE = "refuse"

    @property
    def label(self) -> str:
        """The need as the agent reads it."""
        return _NEEDS[self]


_NEEDS = {
    Need.A_COMPLETER: "à compléter",
    Need.PAIEMENT: "en attente de paiement",
    Need.ACCEPTE: "accepté : à prévenir ou à remettre",
    Need.REFUSE: "refusé : à prévenir",
}
_BY_STATE = {
    DossierState.A_COMPLETER: Need.A_COMPLETER,
    DossierState.ATTENTE_PAIEMENT: Need.PAIEMENT,
    DossierState.ACCEPTE: Need.ACCEPTE,
    DossierState.REFUSE: Need.REFUSE,
}
#: The same, by the stored state's text.
_NEED_OF = {state.value: need for state, need in _BY_STATE.items()}
#: The default page: what a screen shows before the agent narrows it.
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class Attempt:
    """One attempt to reach the person, as the worklist shows it."""

    at: datetime
    agent: str | None
    channel: Channel
    outcome: Outcome
    note: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "le": self.at.isoformat(),
            "agent": self.agent,
            "canal": self.channel.value,
            "resultat": self.outcome.value,
            "note": self.note,
        }


@dataclass(frozen=True)
class IssuedDocument:
    """A document the national service issued for the dossier."""

    id: int
    kind: str
    label: str
    received: bool
    printed_at: datetime | None
    handed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "id": self.id,
            "type": self.kind,
            "titre": self.label,
            "recu": self.received,
            "imprime_le": self.printed_at.isoformat() if self.printed_at else None,
            "remis_le": self.handed_at.isoformat() if self.handed_at else None,
        }


@dataclass(frozen=True)
class WorkItem:
    """One dossier that needs someone."""

    reference: str
    #: Why it is on the worklist; None once it needs nobody (shown on its own).
    need: Need | None
    state: DossierState
    demarche_id: str
    demarche_title: str
    usager: str | None
    contact_mode: str | None
    consent_at: datetime | None
    telephone: str | None
    address: tuple[str, ...]
    #: When the national service decided (its latest notice), or the dossier last changed.
    since: datetime
    #: When the person was last told of that decision (None: not yet).
    told_at: datetime | None
    reasons: tuple[Reason, ...]
    deadline: date | None
    reason_text: str | None
    amount_due_cents: int | None
    payment_reference: str | None
    attempts: tuple[Attempt, ...]
    documents: tuple[IssuedDocument, ...]
    training: bool

    @property
    def contact_label(self) -> str:
        """How the person asked to be told, as the agent reads it."""
        labels = {
            "telephone": "par SMS ou téléphone",
            "courrier": "par courrier",
            "guichet": "revient au guichet",
        }
        if self.contact_mode is None:
            return "mode de contact non renseigné"
        return labels.get(self.contact_mode, self.contact_mode)

    @property
    def to_hand_over(self) -> tuple[IssuedDocument, ...]:
        """The documents the service issued that the person has not received yet."""
        return tuple(d for d in self.documents if d.handed_at is None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, for ``kiosk suivi --json``."""
        return {
            "reference": self.reference,
            "besoin": self.need.value if self.need else None,
            "etat": self.state.value,
            "demarche": self.demarche_id,
            "titre": self.demarche_title,
            "usager": self.usager,
            "contact": self.contact_mode,
            "consentement_le": self.consent_at.isoformat() if self.consent_at else None,
            "telephone": self.telephone,
            "adresse": list(self.address),
            "depuis": self.since.isoformat(),
            "prevenu_le": self.told_at.isoformat() if self.told_at else None,
            "motifs": [r.to_json() for r in self.reasons],
            "date_limite": self.deadline.isoformat() if self.deadline else None,
            "motif": self.reason_text,
            "montant_du_centimes": self.amount_due_cents,
            "reference_paiement": self.payment_reference,
            "tentatives": [a.to_json() for a in self.attempts],
            "documents": [d.to_json() for d in self.documents],
            "formation": self.training,
        }


@dataclass(frozen=True)
class Worklist:
    """A page of the worklist and how many dossiers each need has in all."""

    items: tuple[WorkItem, ...]
    counts: dict[Need, int]

    @property
    def total(self) -> int:
        """How many dossiers need someone, whatever the page shows."""
        return sum(self.counts.values())


class NotReceived(DossierError):
    """A document the service announced has not been fetched yet."""


class NotFiled(DossierError):
    """The dossier has not left the counter: there is nothing to follow yet."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            Message(
                "Le dossier {reference} n'a pas été déposé : il n'y a rien à suivre.",
                reference=reference,
            )
        )


class FollowUpService:
    """The worklist and the contact attempts, for the screen and ``kiosk suivi``."""

    def __init__(self, store: Store, catalog: Catalog, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._catalog = catalog
        self._now = clock

    def worklist(self, *, need: Need | None = None, limit: int = DEFAULT_LIMIT) -> Worklist:
        """The dossiers that need someone, most urgent first (``limit`` of them), and the
        count of each need."""
        with self._store.read() as s:
            listed = _listed().subquery()
            # The latest notice of each dossier gives its deadline and the decision's time;
            # ISO texts sort chronologically, so SQLite orders the whole list in one pass and
            # the counts come from the same rows (a few thousand pairs of short strings).
            latest = (
                select(func.max(NationalNotice.id))
                .where(NationalNotice.dossier_id == listed.c.id)
                .correlate(listed)
                .scalar_subquery()
            )
            ordered = (
                select(listed.c.id, listed.c.state)
                .outerjoin(NationalNotice, NationalNotice.id == latest)
                .order_by(
                    NationalNotice.deadline.is_(None),
                    NationalNotice.deadline,
                    NationalNotice.at,
                    listed.c.id,
                )
            )
            counts = dict.fromkeys(Need, 0)
            ids = []
            for dossier_id, state in s.execute(ordered):
                row_need = _NEED_OF[state]  # a dict, not an enum call: thousands of rows
                counts[row_need] += 1
                if need is None or row_need is need:
                    ids.append(dossier_id)
            items = self._items(s, ids[: max(limit, 0)])
        return Worklist(items=tuple(items), counts=counts)

    def item(self, reference: str) -> WorkItem:
        """One filed dossier with all its attempts, whether or not it is on the worklist
        (``need`` is None once it needs nobody).

        Raises:
            DossierNotFound: no such dossier here; NotFiled: it never left the counter.
        """
        ref = _parse(reference)
        with self._store.read() as s:
            return self._items(s, [_filed_id(s, ref)])[0]

    def record_contact(
        self,
        reference: str,
        channel: Channel,
        outcome: Outcome,
        *,
        note: str | None = None,
        agent_id: int | None = None,
    ) -> WorkItem:
        """Record an attempt to reach the person (a call, the person at the counter); returns
        the entry as it now stands.

        Raises:
            DossierNotFound, NotOnWorklist.
        """
        ref = _parse(reference)
        with self._store.write() as s:
            dossier_id = _filed_id(s, ref)
            record_attempt(
                s, dossier_id, channel, outcome, at=self._now(), agent_id=agent_id, note=note
            )
        return self.item(ref)

    def hand_over(self, reference: str, document_id: int, *, agent_id: int | None = None) -> None:
        """The document the service issued was given to the person at the counter.

        Raises:
            DossierNotFound: no such dossier or document.
        """
        ref = _parse(reference)
        with self._store.write() as s:
            row = s.execute(
                select(NationalDocument)
                .join(Dossier, Dossier.id == NationalDocument.dossier_id)
                .where(Dossier.reference == ref, NationalDocument.id == document_id)
            ).scalar_one_or_none()
            if row is None:
                raise DossierNotFound(ref)
            if row.handed_at is not None:
                return
            if row.file_path is None:
                raise NotReceived(
                    Message(
                        "« {document} » n'est pas encore arrivé du service national : il ne peut"
                        " pas être remis. Il sera imprimable dès son arrivée.",
                        document=row.label,
                    )
                )
            now = self._now()
            row.handed_at = now
            record_attempt(
                s,
                row.dossier_id,
                Channel.GUICHET,
                Outcome.REMIS,
                at=now,
                agent_id=agent_id,
                note=row.label,
                notice_id=row.notice_id,
            )

    def _items(self, s: Session, ids: list[str]) -> list[WorkItem]:
        if not ids:
            return []
        # Columns, not ORM objects: a page of the worklist is read at every visit.
        rows = {
            row.id: row
            for row in s.execute(
                select(
                    Dossier.id,
                    Dossier.reference,
                    Dossier.state,
                    Dossier.demarche_id,
                    Dossier.demarche_version,
                    Dossier.contact_mode,
                    Dossier.contact_consent_at,
                    Dossier.updated_at,
                    Dossier.state_reason,
                    Dossier.training,
                    Usager.nom,
                    Usager.prenoms,
                    Usager.telephone,
                    Usager.adresse,
                )
                .outerjoin(Usager, Usager.dossier_id == Dossier.id)
                .where(Dossier.id.in_(ids))
            )
        }
        notices = _latest_notices(s, ids)
        listed = {i for i, _ in _candidates(s, ids[0])} if len(ids) == 1 else set(ids)
        attempts = _attempts(s, ids)
        documents = _documents(s, ids)
        money = dict(
            s.execute(
                select(Estimation.dossier_id, Estimation.amount_due_cents).where(
                    Estimation.dossier_id.in_(ids)
                )
            ).all()
        )
        references = dict(
            s.execute(
                select(PaymentReference.dossier_id, PaymentReference.reference).where(
                    PaymentReference.dossier_id.in_(ids)
                )
            ).all()
        )
        items = []
        for dossier_id in ids:
            row = rows[dossier_id]
            notice = notices.get(dossier_id)
            state = DossierState(row.state)
            reasons: tuple[Reason, ...] = ()
            if notice is not None:
                reasons = reasons_from_json(notice.reasons) or (
                    legacy_reasons(notice.detail, ()) if state is DossierState.A_COMPLETER else ()
                )
            items.append(
                WorkItem(
                    reference=row.reference,
                    need=_BY_STATE.get(state) if dossier_id in listed else None,
                    state=state,
                    demarche_id=row.demarche_id,
                    demarche_title=self._title(row.demarche_id, row.demarche_version),
                    usager=display_name(row.nom, row.prenoms),
                    contact_mode=row.contact_mode,
                    consent_at=row.contact_consent_at,
                    telephone=row.telephone,
                    address=address_lines(row.adresse),
                    since=notice.at if notice is not None else row.updated_at,
                    told_at=notice.contacted_at if notice is not None else None,
                    reasons=reasons,
                    deadline=notice.deadline if notice is not None else None,
                    reason_text=row.state_reason,
                    amount_due_cents=money.get(dossier_id),
                    payment_reference=references.get(dossier_id),
                    attempts=tuple(attempts.get(dossier_id, ())),
                    documents=tuple(documents.get(dossier_id, ())),
                    training=row.training,
                )
            )
        return items

    def _title(self, demarche_id: str, version: int) -> str:
        try:
            return self._catalog.get(demarche_id, version).title
        except KeyError:
            return demarche_id


def _parse(reference: str) -> str:
    try:
        return parse_reference(reference)
    except InvalidReference as exc:
        raise DossierNotFound(reference.strip()) from exc


def _filed_id(s: Session, ref: str) -> str:
    row = s.execute(select(Dossier.id, Dossier.state).where(Dossier.reference == ref)).one_or_none()
    if row is None:
        raise DossierNotFound(ref)
    if DossierState(row.state) in _NOT_FILED:
        raise NotFiled(ref)
    return str(row.id)


_NOT_FILED = frozenset({DossierState.BROUILLON, DossierState.PRET, DossierState.ABANDONNE})


def _candidates(s: Session, dossier_id: str | None = None) -> list[tuple[str, DossierState]]:
    """``(dossier id, state)`` of every dossier that needs someone (or of ``dossier_id`` only)."""
    rows = s.execute(_listed(dossier_id)).all()
    return [(i, DossierState(state)) for i, state in rows]


def _listed(dossier_id: str | None = None) -> Select[str, str]:
    """The query of the dossiers that need someone: ``(id, state)``.

    Each branch gives the state itself, from the indexes alone where it can (migration 0007's
    covering indexes on ``dossier``): a decision « accepté » or « refusé » is final, so an
    untold notice of that decision names its dossier's state. With thousands of dossiers to
    follow among a hundred thousand, reading each dossier's row again would cost a random page
    (decrypted) per line.
    """
    waiting = select(Dossier.id, Dossier.state).where(
        Dossier.state.in_([DossierState.A_COMPLETER.value, DossierState.ATTENTE_PAIEMENT.value]),
        Dossier.purged_at.is_(None),
    )
    untold = select(NationalNotice.dossier_id, NationalNotice.state).where(
        NationalNotice.contacted_at.is_(None),
        # The retention purge closes a purged dossier's notices: no dossier row to read here.
        NationalNotice.state.in_([DossierState.ACCEPTE.value, DossierState.REFUSE.value]),
    )
    not_handed = (
        select(NationalDocument.dossier_id, Dossier.state)
        .join(Dossier, Dossier.id == NationalDocument.dossier_id)
        .where(
            NationalDocument.handed_at.is_(None),
            Dossier.state == DossierState.ACCEPTE.value,
            Dossier.purged_at.is_(None),
        )
    )
    if dossier_id is not None:
        waiting = waiting.where(Dossier.id == dossier_id)
        untold = untold.where(NationalNotice.dossier_id == dossier_id)
        not_handed = not_handed.where(NationalDocument.dossier_id == dossier_id)
    listed = union(waiting, untold, not_handed).subquery()
    return select(listed.c.id, listed.c.state)


def _latest_notices(s: Session, ids: Iterable[str]) -> dict[str, Row[Any]]:
    """Each dossier's latest notice: ``at``, ``contacted_at``, ``reasons``, ``deadline``,
    ``detail`` (columns, not ORM objects: read for every line of a page)."""
    latest = (
        select(func.max(NationalNotice.id))
        .where(NationalNotice.dossier_id.in_(list(ids)))
        .group_by(NationalNotice.dossier_id)
    )
    rows = s.execute(
        select(
            NationalNotice.dossier_id,
            NationalNotice.at,
            NationalNotice.contacted_at,
            NationalNotice.reasons,
            NationalNotice.deadline,
            NationalNotice.detail,
        ).where(NationalNotice.id.in_(latest))
    )
    return {row.dossier_id: row for row in rows}


def _attempts(s: Session, ids: list[str]) -> dict[str, list[Attempt]]:
    out: dict[str, list[Attempt]] = {}
    for dossier_id, at, agent, channel, outcome, note in s.execute(
        select(
            ContactAttempt.dossier_id,
            ContactAttempt.at,
            Agent.nom,
            ContactAttempt.channel,
            ContactAttempt.outcome,
            ContactAttempt.note,
        )
        .outerjoin(Agent, Agent.id == ContactAttempt.agent_id)
        .where(ContactAttempt.dossier_id.in_(ids))
        .order_by(ContactAttempt.at, ContactAttempt.id)
    ):
        out.setdefault(dossier_id, []).append(
            Attempt(
                at=at,
                agent=agent,
                channel=_enum(Channel, channel, Channel.GUICHET),
                outcome=_enum(Outcome, outcome, Outcome.JOINT),
                note=note,
            )
        )
    return out


def _documents(s: Session, ids: list[str]) -> dict[str, list[IssuedDocument]]:
    out: dict[str, list[IssuedDocument]] = {}
    for row in s.scalars(
        select(NationalDocument)
        .where(NationalDocument.dossier_id.in_(ids))
        .order_by(NationalDocument.id)
    ):
        out.setdefault(row.dossier_id, []).append(
            IssuedDocument(
                id=row.id,
                kind=row.kind,
                label=row.label,
                received=row.file_path is not None,
                printed_at=row.printed_at,
                handed_at=row.handed_at,
            )
        )
    return out


_E = TypeVar("_E", Channel, Outcome)


def _enum(kind: type[_E], value: str, default: _E) -> _E:
    try:
        return kind(value)
    except ValueError:
        return default


def deadline_text(item: WorkItem) -> Message | None:
    """« à fournir avant le … », when the service set a deadline."""
    if item.deadline is None:
        return None
    return Message("À fournir avant le {date}.", date=item.deadline)
