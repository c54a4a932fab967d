"""The one path of every state change of a dossier, inside the caller's transaction.

Filing, validating, the fallback to « brouillon » when an answer changes after validation, the
national decisions coming back and the retention purge all move a dossier through :func:`move`:
the life cycle's check, the new state, the journal entry, the audit entry and the outbox row (or
the notice of a decision) are written together, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from kiosk.dossiers.states import DossierState, check_transition
from kiosk.followup.reasons import Reason
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.models import Dossier, Event
from kiosk.sync.outbox import on_state_change


def move(
    s: Session,
    dossier: Dossier,
    target: DossierState,
    *,
    now: datetime,
    agent_id: int | None = None,
    reason: str | None = None,
    national_number: str | None = None,
    note: str | None = None,
    reasons: Sequence[Reason] = (),
    deadline: date | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[DossierState, DossierState]:
    """Move ``dossier`` to ``target`` in the open transaction ``s``.

    Args:
        reason: the national service's reason (kept on the dossier, shown to the agent).
        national_number: the national service's number for the dossier, once acknowledged.
        note: why the kiosk itself made the change, for the journal (« réponse modifiée après
            validation »); never personal data.
        reasons: the national service's reasons, typed (kept on the decision's notice).
        deadline: the day to answer an « à compléter » by (kept on the notice).
        labels: the démarche's documents, id → label (what the text message asks to bring).

    Returns:
        The change made, ``(from, to)``.

    Raises:
        IllegalTransition: the life cycle does not allow it (nothing is written).
    """
    current = DossierState(dossier.state)
    check_transition(current, target)
    dossier.state = target.value
    dossier.updated_at = now
    if reason is not None or target in (DossierState.PRET, DossierState.EN_FILE):
        dossier.state_reason = reason
    if national_number is not None:
        dossier.national_number = national_number
    detail: dict[str, Any] = {}
    if reason:
        detail["motif"] = reason
    if national_number:
        detail["numero_national"] = national_number
    if note:
        detail["raison"] = note
    s.add(
        Event(
            dossier_id=dossier.id,
            at=now,
            kind="etat",
            from_state=current.value,
            to_state=target.value,
            agent_id=agent_id,
            detail=detail or None,
        )
    )
    # No reason in the audit: it is free text and may name the person.
    audit(
        s,
        AuditAction.STATE_CHANGED,
        at=now,
        agent_id=agent_id,
        dossier_ref=dossier.reference,
        detail={"de": current.value, "vers": target.value},
    )
    # The outbox row (« en file ») and the notice of a national decision are written in this
    # same transaction: a state change and its outbox row commit together or not at all.
    on_state_change(
        s,
        dossier,
        (current, target),
        reason=reason,
        national_number=national_number,
        now=now,
        reasons=reasons,
        deadline=deadline,
        labels=labels,
    )
    return current, target
