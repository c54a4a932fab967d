"""Reading dossiers: one dossier as the counter opens it, everything about one dossier, lists."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche, FieldType, JSONValue, missing_required, required_documents
from kiosk.dossiers.base import DossierBase
from kiosk.dossiers.mandate import mandate_issue
from kiosk.dossiers.reference import RECEIPT_KEY_SETTING
from kiosk.dossiers.search import search_dossiers
from kiosk.dossiers.states import DossierState
from kiosk.dossiers.views import Document, DossierSummary, DossierView, JournalEntry, Missing
from kiosk.followup.correction import CorrectionScope, correction_scope
from kiosk.messages import Message
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.models import Dossier, Event, Piece, Setting, Usager


@dataclass(frozen=True)
class CounterDossier:
    """A dossier as the counter opens it: everything about it, whether it can still change and
    why not, and what filing still needs."""

    view: DossierView
    #: Why the answers can no longer change (None while they can).
    locked: Message | None
    #: What the mandate still needs before filing (None when it allows filing).
    mandate: Message | None
    #: What the national service asked to change, for a dossier it sent back (None otherwise):
    #: only that may change.
    correction: CorrectionScope | None = None

    @property
    def editable(self) -> bool:
        """Whether the answers may still change."""
        return self.locked is None

    @property
    def filed(self) -> bool:
        """Whether the dossier has left the counter (it has a receipt to reprint)."""
        return self.view.summary.state not in (
            DossierState.BROUILLON,
            DossierState.PRET,
            DossierState.ABANDONNE,
        )


def locked_reason(view: DossierView) -> Message | None:
    """Why a dossier's answers can no longer change, in words for the person (None if they can)."""
    state = view.summary.state
    if state.editable:
        return None
    if state is DossierState.EN_FILE:
        return Message(
            "Ce dossier est déposé : il attend d'être envoyé au service national. Ses réponses ne"
            " peuvent plus être modifiées."
        )
    if state is DossierState.TRANSMIS:
        return Message(
            "Ce dossier a été transmis au service national, qui l'examine. Ses réponses ne"
            " peuvent plus être modifiées."
        )
    if state is DossierState.ATTENTE_PAIEMENT:
        return Message(
            "Ce dossier a été transmis au service national et attend d'être payé. Ses réponses"
            " ne peuvent plus être modifiées."
        )
    if state is DossierState.PAYE:
        return Message(
            "Ce dossier est payé ; le service national l'examine. Ses réponses ne peuvent plus"
            " être modifiées."
        )
    if state is DossierState.ACCEPTE:
        return Message("Ce dossier a été accepté par le service national.")
    if state is DossierState.REFUSE:
        return Message("Ce dossier a été refusé par le service national.")
    return Message(
        "Ce dossier a été abandonné : pour reprendre la démarche, commencez-en un autre."
    )


class DossierQueries(DossierBase):
    """Look dossiers up; the counter's opening of one is written to the audit journal."""

    def open(self, reference: str, *, agent_id: int | None = None) -> CounterDossier:
        """Open a dossier at the counter: its view, whether it can change and why, what the
        mandate needs, in one transaction that also records who opened it."""
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            now = self._now()
            audit(s, AuditAction.DOSSIER_VIEWED, at=now, agent_id=agent_id, dossier_ref=ref)
            view = self._view(s, dossier, demarche)
            locked = locked_reason(view)
            mandate = mandate_issue(s, dossier.id, demarche, now.date()) if locked is None else None
            correction = correction_scope(s, dossier, demarche)
            return CounterDossier(view=view, locked=locked, mandate=mandate, correction=correction)

    def correction(self, reference: str) -> CorrectionScope | None:
        """What the national service asked to change in the dossier (None: not a correction)."""
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            return correction_scope(s, dossier, demarche)

    def mandate_issue(self, reference: str) -> Message | None:
        """What the dossier's mandate needs before filing, or None when a signature already
        given still holds (the counter then does not ask for it again)."""
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            return mandate_issue(s, dossier.id, demarche, self._now().date())

    def show(self, reference: str) -> DossierView:
        """Everything about one dossier, with what is still missing."""
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            return self._view(s, dossier, demarche)

    def viewed(self, reference: str, *, agent_id: int | None = None) -> None:
        """Record in the audit that an agent looked at a dossier (from the command line).

        A store opened from a read-only folder can record nothing: the dossier is still shown
        (support reading a copy; whoever reads it holds its key, with which they could read
        the file directly anyway).
        """
        ref = self._parse_ref(reference)
        if self._store.read_only:
            with self._store.read() as s:
                self._load(s, ref)
            return
        with self._store.write() as s:
            self._load(s, ref)
            audit(s, AuditAction.DOSSIER_VIEWED, at=self._now(), agent_id=agent_id, dossier_ref=ref)

    def list(
        self, *, state: DossierState | None = None, search: str | None = None, limit: int = 50
    ) -> list[DossierSummary]:
        """Dossiers, most recently changed first, filtered by state and/or a search text."""
        with self._store.read() as s:
            rows = search_dossiers(s, state=state, text=search, limit=limit)
            return [self._summary(d, usager_nom, immat) for d, usager_nom, immat in rows]

    def usage_counts(self, since: datetime) -> dict[str, int]:
        """How many dossiers of each démarche were started at this kiosk from ``since`` on
        (démarche id → count; a démarche never started is absent): the home screen puts the
        most used first."""
        with self._store.read() as s:
            rows = s.execute(
                select(Dossier.demarche_id, func.count())
                .where(Dossier.created_at >= since)
                .group_by(Dossier.demarche_id)
            )
            return {str(demarche_id): int(count) for demarche_id, count in rows}

    def receipt_key(self) -> bytes:
        """The secret behind receipts' verification codes, created on first use."""
        with self._store.read() as s:
            value = s.get(Setting, RECEIPT_KEY_SETTING)
            if value is not None:
                return bytes.fromhex(value.value)
        with self._store.write() as s:
            value = s.get(Setting, RECEIPT_KEY_SETTING)
            if value is None:
                value = Setting(key=RECEIPT_KEY_SETTING, value=secrets.token_hex(32))
                s.add(value)
            return bytes.fromhex(value.value)

    def _view(self, s: Session, dossier: Dossier, demarche: Demarche) -> DossierView:
        answers = self._answers(s, dossier.id)
        missing = tuple(Missing(i.path, i.message) for i in missing_required(demarche, answers))
        provided = {
            (kind, item_path)
            for kind, item_path in s.execute(
                select(Piece.kind, Piece.item_path).where(
                    Piece.dossier_id == dossier.id, Piece.status == "fournie"
                )
            )
        }
        documents = tuple(
            Document(
                kind=r.kind,
                label=document_label(demarche, answers, r.label, r.item_path),
                provided=(r.kind, r.item_path) in provided,
                item_path=r.item_path,
            )
            for r in required_documents(demarche, answers)
        )
        events = s.scalars(
            select(Event).where(Event.dossier_id == dossier.id).order_by(Event.id)
        ).all()
        journal = tuple(
            JournalEntry(
                at=e.at,
                kind=e.kind,
                from_state=DossierState(e.from_state) if e.from_state else None,
                to_state=DossierState(e.to_state) if e.to_state else None,
                detail=e.detail,
            )
            for e in events
        )
        labels: dict[str, str] = {}
        for path in answers:
            try:
                labels[path] = demarche.field_for_path(path).label
            except KeyError:
                labels[path] = path
        usager = s.get(Usager, dossier.id)
        return DossierView(
            summary=self._summary_of(s, dossier),
            answers=dict(answers),
            missing=missing,
            documents=documents,
            journal=journal,
            routage=dossier.routage,
            contact_mode=dossier.contact_mode,
            national_number=dossier.national_number,
            state_reason=dossier.state_reason,
            training=dossier.training,
            telephone=usager.telephone if usager else None,
            adresse=usager.adresse if usager else None,
            labels=labels,
        )


def document_label(
    demarche: Demarche, answers: dict[str, JSONValue], label: str, item_path: str | None
) -> str:
    """``label`` naming the group item a per-item document is for (« … — Cohéritier 1 : Léo »)."""
    if item_path is None:
        return label
    group_id, _, rest = item_path.partition("[")
    index = int(rest.rstrip("]"))
    try:
        group = demarche.group(group_id)
    except KeyError:
        return label
    names = [
        str(answers[f"{item_path}.{f.id}"])
        for f in group.fields
        if f.type is FieldType.TEXT and isinstance(answers.get(f"{item_path}.{f.id}"), str)
    ][:2]
    who = f"{group.item_label} {index + 1}" + (f" : {' '.join(names)}" if names else "")
    return f"{label} — {who}"
