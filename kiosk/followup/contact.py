"""Every attempt to reach the person about their dossier, and when they count as told.

An attempt has a channel (how) and an outcome (what came of it). The attempts that tell the
person (reached on the phone, a letter printed for the post, a text message the national service
accepted, the person at the counter) mark the decision's notice as passed on, in the same
transaction: it leaves the « à prévenir » part of the worklist. The others (no answer, a
voicemail, a text message refused) stay listed with their date, so that the next agent sees
what was already tried.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.models import ContactAttempt, Dossier, NationalNotice


class Channel(StrEnum):
    """How the person was (or was to be) reached; the first three are the démarches'
    ``contact.mode`` choices."""

    TELEPHONE = "telephone"  # a call by the agent (or, as a choice, « par SMS »)
    COURRIER = "courrier"
    GUICHET = "guichet"
    SMS = "sms"  # a text message through the national notification endpoint

    @property
    def label(self) -> str:
        """The channel as the agent reads it."""
        return _CHANNELS[self]


class Outcome(StrEnum):
    """What came of an attempt."""

    JOINT = "joint"  # reached, told
    INJOIGNABLE = "injoignable"  # no answer
    MESSAGE = "message"  # a voicemail left
    IMPRIME = "imprime"  # a letter printed for the post
    ENVOYE = "envoye"  # a text message the national service accepted
    ECHEC = "echec"  # a text message the national service refused
    VENU = "venu"  # the person came to the counter
    REMIS = "remis"  # a document handed over at the counter

    @property
    def label(self) -> str:
        """The outcome as the agent reads it."""
        return _OUTCOMES[self]

    @property
    def informs(self) -> bool:
        """Whether the person counts as told of the decision."""
        return self in _INFORMING


_CHANNELS = {
    Channel.TELEPHONE: "téléphone",
    Channel.COURRIER: "courrier",
    Channel.GUICHET: "guichet",
    Channel.SMS: "SMS",
}
_OUTCOMES = {
    Outcome.JOINT: "personne jointe",
    Outcome.INJOIGNABLE: "pas de réponse",
    Outcome.MESSAGE: "message laissé",
    Outcome.IMPRIME: "lettre imprimée",
    Outcome.ENVOYE: "SMS envoyé",
    Outcome.ECHEC: "SMS refusé",
    Outcome.VENU: "venue au guichet",
    Outcome.REMIS: "document remis",
}
_INFORMING = frozenset(
    {Outcome.JOINT, Outcome.IMPRIME, Outcome.ENVOYE, Outcome.VENU, Outcome.REMIS}
)
#: The longest note an agent may add to an attempt.
MAX_NOTE = 500


def record_attempt(
    s: Session,
    dossier_id: str,
    channel: Channel,
    outcome: Outcome,
    *,
    at: datetime,
    agent_id: int | None = None,
    note: str | None = None,
    notice_id: int | None = None,
) -> ContactAttempt:
    """Record an attempt in the open transaction ``s``; one that informs the person marks the
    notice (``notice_id``, or every notice of the dossier not yet passed on) as passed on.

    The note is the agent's free text: kept with the dossier, never in the audit journal.
    """
    text = " ".join((note or "").split())[:MAX_NOTE] or None
    attempt = ContactAttempt(
        dossier_id=dossier_id,
        notice_id=notice_id,
        at=at,
        agent_id=agent_id,
        channel=channel.value,
        outcome=outcome.value,
        note=text,
    )
    s.add(attempt)
    if outcome.informs:
        todo = update(NationalNotice).where(
            NationalNotice.dossier_id == dossier_id, NationalNotice.contacted_at.is_(None)
        )
        if notice_id is not None:
            todo = todo.where(NationalNotice.id == notice_id)
        s.execute(todo.values(contacted_at=at))
    reference = s.scalar(select(Dossier.reference).where(Dossier.id == dossier_id))
    audit(
        s,
        AuditAction.OTHER,
        at=at,
        agent_id=agent_id,
        dossier_ref=reference,
        detail={"evenement": "contact", "canal": channel.value, "resultat": outcome.value},
    )
    s.flush()
    return attempt
