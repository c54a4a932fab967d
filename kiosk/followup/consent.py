"""The person's consent to be contacted about their dossier, and by which channel.

The démarche's contact step asks how the person wants to be told (``contact.mode``: a text
message, a letter, or coming back to the counter); the person confirms the whole dossier, that
choice included, when it is filed. Filing therefore records the consent: the time on the dossier
(``contact_consent_at``, the channel being ``contact_mode``) and a journal entry naming the
channel. Filing again after « à compléter » records it again if the channel changed. Nothing is
sent to a person who gave no channel (the worklist lists them for the counter).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.store.models import Dossier, Event


def record_consent(
    s: Session, dossier: Dossier, *, now: datetime, agent_id: int | None = None
) -> bool:
    """Record, in the filing's transaction, that the person agreed to be contacted by the
    dossier's channel; ``False`` when no channel was chosen or it is already recorded."""
    mode = dossier.contact_mode
    if not mode:
        return False
    last = s.scalars(
        select(Event.detail)
        .where(Event.dossier_id == dossier.id, Event.kind == "consentement_contact")
        .order_by(Event.id.desc())
        .limit(1)
    ).one_or_none()
    if (
        dossier.contact_consent_at is not None
        and isinstance(last, dict)
        and last.get("canal") == mode
    ):
        return False
    dossier.contact_consent_at = now
    s.add(
        Event(
            dossier_id=dossier.id,
            at=now,
            kind="consentement_contact",
            agent_id=agent_id,
            detail={"canal": mode},
        )
    )
    return True
