"""National decisions coming back: move dossiers through their states, and tell the agent whom
to call.

Every change goes through :meth:`DossierService.transition` (so the journal, the outbox and the
notice are written together). Applying a change twice is harmless: a crash between applying a
page of changes and saving the cursor makes the worker read that page again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.ports.national import StatusChange
from kiosk.store.engine import Store
from kiosk.store.models import Dossier, NationalNotice, Usager

_STATUS_TO_STATE = {
    "accepte": DossierState.ACCEPTE,
    "refuse": DossierState.REFUSE,
    "a_completer": DossierState.A_COMPLETER,
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
        with self._store.read() as s:
            row = s.execute(
                select(Dossier.reference, Dossier.state).where(Dossier.id == change.dossier_id)
            ).one_or_none()
        if row is None:
            return False  # filed from another kiosk, or purged here
        reference, state_value = row
        state = DossierState(state_value)
        if state is DossierState.EN_FILE:
            # The acknowledgement was lost but the service has decided: it did receive it.
            self._dossiers.transition(
                reference, DossierState.TRANSMIS, national_number=change.national_number
            )
            state = DossierState.TRANSMIS
        if state is not DossierState.TRANSMIS:
            return False  # already applied (a page read twice), or resubmitted since
        self._dossiers.transition(reference, target, reason=change_reason(change))
        return True

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


def _name(usager: Usager | None) -> str | None:
    if usager is None or not (usager.nom or usager.prenoms):
        return None
    return " ".join(p for p in ((usager.nom or "").upper(), usager.prenoms or "") if p)
