"""National decisions coming back: move dossiers through their states, and tell the agent whom
to call.

Every change goes through :meth:`DossierService.transition` (so the journal, the outbox and the
notice are written together). Applying a change twice is harmless: a crash between applying a
page of changes and saving the cursor makes the worker read that page again.

Only the kiosk's own record of an acknowledgement proves that the service received a dossier
(docs/sync.md, « Why exactly once »): a decision is applied to a dossier « transmis » whose
acknowledged outbox row carries the same national number, and to nothing else. A decision for
a dossier still « en file » that was sent at least once (its acknowledgement may have been lost)
is held until the acknowledgement comes; one for a dossier never sent, or naming another number,
is set aside, logged and written to the audit journal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import (
    ACKNOWLEDGED_STATES,
    TRANSITIONS,
    DossierState,
    IllegalTransition,
)
from kiosk.followup.reasons import reasons_from_json, reasons_to_json
from kiosk.ports.national import ReturnedDocument, StatusChange
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.engine import Store
from kiosk.store.models import Dossier, NationalNotice, OutboxItem, Setting, Usager
from kiosk.sync.issued import announce
from kiosk.sync.outbox import ACKNOWLEDGED

log = logging.getLogger(__name__)

#: Decisions waiting for the acknowledgement of their dossier (JSON, by dossier UUID).
HELD_KEY = "sync.decisions_retenues"

_STATUS_TO_STATE = {
    "accepte": DossierState.ACCEPTE,
    "refuse": DossierState.REFUSE,
    "a_completer": DossierState.A_COMPLETER,
    "en_attente_paiement": DossierState.ATTENTE_PAIEMENT,
    "paye": DossierState.PAYE,
}

_CONTACT_LABELS = {
    "guichet": "revient au guichet",
    "telephone": "par téléphone",
    "courrier": "par courrier",
}


def change_reason(change: StatusChange) -> str | None:
    """What the agent tells the person: the service's reason, then what is missing."""
    parts = [change.reason] if change.reason else []
    if change.missing:
        parts.append("À fournir : " + " ; ".join(change.missing))
    return "\n".join(parts) or None


@dataclass(frozen=True)
class ToContact:
    """A person to call or write to about a national decision."""

    notice_id: int
    reference: str
    usager: str | None
    contact_mode: str | None
    telephone: str | None
    adresse: Any
    state: DossierState
    what: str | None
    at: datetime

    @property
    def contact_label(self) -> str:
        """How the person asked to be told, as the agent reads it."""
        if self.contact_mode is None:
            return "mode de contact non renseigné"
        return _CONTACT_LABELS.get(self.contact_mode, self.contact_mode)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, for ``--json`` output."""
        return {
            "avis": self.notice_id,
            "reference": self.reference,
            "usager": self.usager,
            "contact": self.contact_mode,
            "telephone": self.telephone,
            "adresse": self.adresse,
            "etat": self.state.value,
            "motif": self.what,
            "le": self.at.isoformat(),
        }


class _Verdict(Enum):
    APPLY = "appliquer"
    HOLD = "retenir"  # sent, not acknowledged yet: wait for the acknowledgement
    SET_ASIDE = "ecarter"  # never received, or another number: not from the service we filed with
    NOTHING = "rien"  # unknown here, already applied, or resubmitted since


class NationalFollowUp:
    """Applies national status changes and lists the people the agent must contact."""

    def __init__(
        self, store: Store, dossiers: DossierService, *, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._dossiers = dossiers
        self._now = clock

    def apply(self, change: StatusChange) -> bool:
        """Move the dossier to the decided state; ``False`` if there was nothing to do."""
        target = _STATUS_TO_STATE.get(change.status)
        if target is None:
            return False  # an intermediate status (« en instruction »): nothing for the agent
        verdict, reference = self._verdict(change)
        if verdict is _Verdict.HOLD:
            self._hold(change)
        elif verdict is _Verdict.SET_ASIDE:
            self._set_aside(reference, target)
        elif verdict is _Verdict.APPLY:
            documents = change.documents

            def record_documents(s: Session, dossier: Dossier) -> None:
                # With the decision, before its notice (which then names them): one transaction.
                if documents:
                    announce(s, dossier.id, documents, now=self._now())

            try:
                self._dossiers.transition(
                    reference,
                    target,
                    reason=change_reason(change),
                    reasons=change.reasons,
                    deadline=change.deadline,
                    before=record_documents,
                )
            except IllegalTransition:
                # Another counter of the site (the store is shared) applied it between the
                # check and this write, which wrote nothing: nothing left to do, unless not so.
                if self._verdict(change)[0] is _Verdict.APPLY:
                    raise
                return False
            return True
        return False

    def apply_held(self) -> int:
        """Apply the held decisions whose dossier is now acknowledged; returns how many.

        The worker calls this after an acknowledgement and before each pull. A decision stays
        held while its dossier is still waiting for its acknowledgement.
        """
        held = self._held()
        if not held:
            return 0
        applied = 0
        keep: dict[str, Any] = {}
        for dossier_id, fields in held.items():
            change = held_change(fields)
            if change is None:
                continue  # unreadable (a hand-edited setting): dropped, the feed is the truth
            if self._verdict(change)[0] is _Verdict.HOLD:
                keep[dossier_id] = fields
            else:
                applied += self.apply(change)
        self._save_held(keep)
        return applied

    def _verdict(self, change: StatusChange) -> tuple[_Verdict, str]:
        """What to do with ``change``, from the kiosk's own record of the dossier's filing."""
        with self._store.read() as s:
            row = s.execute(
                select(Dossier.reference, Dossier.state, Dossier.national_number).where(
                    Dossier.id == change.dossier_id
                )
            ).one_or_none()
            if row is None:
                return _Verdict.NOTHING, ""  # filed from another kiosk, or purged here
            latest = s.execute(
                select(OutboxItem.state, OutboxItem.last_attempt_at, OutboxItem.national_number)
                .where(OutboxItem.dossier_id == change.dossier_id)
                .order_by(OutboxItem.seq.desc())
                .limit(1)
            ).one_or_none()
        reference, state_value, number = row
        state = DossierState(state_value)
        if state is DossierState.EN_FILE:
            if latest is not None and latest.last_attempt_at is not None:
                # Sent: the service may have recorded it and its answer been lost. The retry
                # (same key) will get the acknowledgement replayed; the decision waits for it.
                return _Verdict.HOLD, reference
            return _Verdict.SET_ASIDE, reference  # never sent: the service cannot have it
        if state not in ACKNOWLEDGED_STATES:
            return _Verdict.NOTHING, reference  # already applied (a page read twice), or later
        acknowledged = (
            latest is not None
            and latest.state == ACKNOWLEDGED
            and latest.national_number == number == change.national_number
        )
        if not acknowledged:
            return _Verdict.SET_ASIDE, reference
        if _STATUS_TO_STATE[change.status] not in TRANSITIONS[state]:
            # Already there (a page read twice), or passed: « payé » by a timbre before the
            # service's « en attente de paiement » reached the kiosk.
            return _Verdict.NOTHING, reference
        return _Verdict.APPLY, reference

    def _set_aside(self, reference: str, target: DossierState) -> None:
        # No reason nor number in the log or the audit: free text from outside.
        log.warning(
            "décision nationale « %s » écartée pour le dossier %s : aucun accusé de réception"
            " de ce dépôt n'est enregistré sur la borne",
            target.value,
            reference,
        )
        with self._store.write() as s:
            audit(
                s,
                AuditAction.OTHER,
                at=self._now(),
                dossier_ref=reference,
                detail={"evenement": "decision_nationale_ecartee", "etat": target.value},
            )

    def _hold(self, change: StatusChange) -> None:
        log.info("décision nationale retenue en attendant l'accusé de réception du dépôt")
        held = self._held()
        held[change.dossier_id] = held_fields(change)  # one per dossier: the latest decision wins
        self._save_held(held)

    def _held(self) -> dict[str, Any]:
        with self._store.read() as s:
            row = s.get(Setting, HELD_KEY)
            value = json.loads(row.value) if row is not None else {}
        return value if isinstance(value, dict) else {}

    def _save_held(self, held: dict[str, Any]) -> None:
        text = json.dumps(held, ensure_ascii=False, sort_keys=True)
        with self._store.write() as s:
            row = s.get(Setting, HELD_KEY)
            if row is None:
                s.add(Setting(key=HELD_KEY, value=text))
            else:
                row.value = text

    def list_to_contact(self, *, limit: int = 200) -> list[ToContact]:
        """Decisions not yet passed on to the person, oldest first."""
        with self._store.read() as s:
            rows = s.execute(
                select(NationalNotice, Dossier.reference, Dossier.contact_mode, Usager)
                .join(Dossier, Dossier.id == NationalNotice.dossier_id)
                .outerjoin(Usager, Usager.dossier_id == NationalNotice.dossier_id)
                .where(NationalNotice.contacted_at.is_(None))
                .order_by(NationalNotice.at, NationalNotice.id)
                .limit(limit)
            ).all()
            return [
                ToContact(
                    notice_id=notice.id,
                    reference=reference,
                    usager=_name(usager),
                    contact_mode=mode,
                    telephone=usager.telephone if usager else None,
                    adresse=usager.adresse if usager else None,
                    state=DossierState(notice.state),
                    what=notice.detail,
                    at=notice.at,
                )
                for notice, reference, mode, usager in rows
            ]

    def mark_contacted(self, notice_id: int) -> None:
        """The agent told the person: the notice leaves the list."""
        with self._store.write() as s:
            s.execute(
                update(NationalNotice)
                .where(NationalNotice.id == notice_id)
                .values(contacted_at=self._now())
            )


def held_fields(change: StatusChange) -> dict[str, Any]:
    """A decision as it is held (JSON): every field, the typed ones in their contract form."""
    fields = asdict(change)
    fields["reasons"] = reasons_to_json(change.reasons)
    fields["deadline"] = change.deadline.isoformat() if change.deadline else None
    return fields


def held_change(fields: Any) -> StatusChange | None:
    """A held decision read back (``None``: unreadable); one held by an earlier version, without
    the typed fields, reads as it was."""
    if not isinstance(fields, dict):
        return None
    try:
        deadline = fields.get("deadline")
        return StatusChange(
            dossier_id=str(fields["dossier_id"]),
            national_number=str(fields["national_number"]),
            status=str(fields["status"]),
            reason=fields.get("reason"),
            missing=tuple(str(m) for m in fields.get("missing") or ()),
            reasons=reasons_from_json(fields.get("reasons")),
            deadline=date.fromisoformat(deadline) if isinstance(deadline, str) else None,
            documents=tuple(ReturnedDocument(**d) for d in fields.get("documents") or ()),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _name(usager: Usager | None) -> str | None:
    if usager is None or not (usager.nom or usager.prenoms):
        return None
    return " ".join(p for p in ((usager.nom or "").upper(), usager.prenoms or "") if p)
