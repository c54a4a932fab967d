"""The copy of a mandate printed for the person, read back from what the signature kept.

The store keeps the version of the text, its SHA-256, the signature image, the dates, the scope
and the duration; the journal entry of the signature keeps the other values the text was filled
with (the agent's name, the counter's, the démarche's title), the person's name aside: it is read
from the dossier (the journal outlives the retention purge, the name does not). The text is filled
again from these and its hash compared with the one stored: the copy prints it as the text signed
only when they match, and says so otherwise (the name changed since, or a version-1 mandate whose
journal did not keep the values and whose counter was renamed since).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.dossiers.base import display_name
from kiosk.dossiers.mandate_text import (
    DEFAULT_DAYS,
    TEXT_VERSION,
    MandateParties,
    duration_words,
    fill,
    scope_words,
)
from kiosk.store.models import Agent, Dossier, Event, Mandat, Usager

#: The journal's kinds for a signature and a revocation.
SIGNED, REVOKED = "mandat_signe", "mandat_revoque"
#: How the consent was given (the signature's journal entry, ``mode``): drawn on the screen, or
#: on the printed mandate, whose scan is kept in place of the drawing.
ON_SCREEN, ON_PAPER = "ecran", "papier"


@dataclass(frozen=True)
class MandateCopy:
    """Everything printed on the person's copy of a mandate and on its revocation attestation.

    ``text`` is the signed text filled again from what was kept; ``text_matches`` says whether
    its SHA-256 is the one stored at the signature (False: the dossier's name changed since, or
    the mandate predates the journal's keeping of the values; the copy then says so).
    """

    reference: str
    demarche: str
    usager: str
    version: str
    sha256: str
    text: str
    text_matches: bool
    signature_png: bytes
    signed_at: datetime
    valid_until: date
    portee: str | None
    scope: str  # in words, French
    duree_jours: int | None
    duration: str  # in words, French ("" for a version-1 mandate)
    agent: str
    guichet: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None  # the agent's name
    revoked_guichet: str | None = None
    #: Signed on the printed mandate: ``signature_png`` is then its scan, not a drawing.
    on_paper: bool = False


def read_copy(
    s: Session, dossier: Dossier, mandat: Mandat, *, title: str, counter: Callable[[], str]
) -> MandateCopy:
    """The copy of ``dossier``'s signed mandate.

    Args:
        s: the read transaction.
        title: the démarche's French title, for a signature whose journal did not keep it.
        counter: the counter's name now, for a signature whose journal did not keep it.
    """
    assert mandat.signed_at is not None  # signed: the caller checked
    assert mandat.valid_until is not None
    signed = _last_event(s, dossier.id, SIGNED)
    detail: dict[str, Any] = dict(signed.detail or {}) if signed is not None else {}
    revoked: dict[str, Any] = {}
    if mandat.revoked_at is not None:
        event = _last_event(s, dossier.id, REVOKED)
        revoked = dict(event.detail or {}) if event is not None else {}
    usager = s.get(Usager, dossier.id)
    name = (display_name(usager.nom, usager.prenoms) if usager else None) or ""
    agent = detail.get("agent")
    if agent is None:  # signed before the values were kept (version 1): the agent signed in
        agent = _agent_name(s, signed.agent_id if signed is not None else None) or ""
    guichet = detail.get("guichet")
    if guichet is None:
        guichet = counter()
    version = mandat.texte_version or TEXT_VERSION
    demarche = str(detail.get("demarche") or title)
    days = mandat.duree_jours or DEFAULT_DAYS
    parties = MandateParties(name, str(agent), str(guichet), demarche, dossier.reference)
    try:
        text = fill(
            version, parties, valid_until=mandat.valid_until, portee=mandat.portee, days=days
        )
    except (OSError, KeyError, ValueError):
        text = ""  # the template of that version is not installed here
    digest = mandat.texte_sha256 or ""
    return MandateCopy(
        reference=dossier.reference,
        demarche=demarche,
        usager=name,
        version=version,
        sha256=digest,
        text=text,
        text_matches=bool(text) and hashlib.sha256(text.encode("utf-8")).hexdigest() == digest,
        signature_png=mandat.signature_png or b"",
        signed_at=mandat.signed_at,
        valid_until=mandat.valid_until,
        portee=mandat.portee,
        scope=scope_words(mandat.portee, version) or "cette seule démarche",
        duree_jours=mandat.duree_jours,
        duration=duration_words(days, version) if mandat.duree_jours else "",
        agent=str(agent),
        guichet=str(guichet),
        revoked_at=mandat.revoked_at,
        revoked_by=_agent_name(s, mandat.revoked_by),
        revoked_guichet=revoked.get("guichet"),
        on_paper=detail.get("mode") == ON_PAPER,
    )


def _last_event(s: Session, dossier_id: str, kind: str) -> Event | None:
    return s.scalars(
        select(Event)
        .where(Event.dossier_id == dossier_id, Event.kind == kind)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()


def _agent_name(s: Session, agent_id: int | None) -> str | None:
    if agent_id is None:
        return None
    agent = s.get(Agent, agent_id)
    return agent.nom if agent is not None else None
