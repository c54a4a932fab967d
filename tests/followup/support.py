"""Dossiers sent back by the national service, for the follow-up tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.reasons import Reason, reasons_to_json
from kiosk.store.models import NationalNotice
from tests.support import file_dossier, fill


def filed_and_numbered(service: DossierService, demarche_id: str, number: str = "N-1") -> str:
    """A complete dossier, filed and acknowledged by the national service; its reference."""
    reference = service.create(demarche_id).reference
    fill(service, reference, service._catalog.latest(demarche_id))
    file_dossier(service, reference)
    service.acknowledge(reference, national_number=number)
    return reference


def decide(
    service: DossierService,
    reference: str,
    state: DossierState,
    reasons: tuple[Reason, ...] = (),
    deadline: date | None = None,
    text: str | None = None,
) -> None:
    """The national service's decision reaches the kiosk, with its typed reasons."""
    service.transition(reference, state, reason=text)
    with service._store.write() as s:
        notice = s.scalars(select(NationalNotice).order_by(NationalNotice.id.desc()).limit(1)).one()
        notice.reasons = reasons_to_json(reasons) if reasons else None
        notice.deadline = deadline
