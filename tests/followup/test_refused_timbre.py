"""A timbre the national service refused is listed for the agent (``kiosk sync status``) until
someone acted on it: another timbre given, or the person told."""

from __future__ import annotations

from sqlalchemy import select

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.contact import Channel, Outcome
from kiosk.followup.worklist import FollowUpService
from kiosk.ports.national import TIMBRE_REFUSALS, TimbreVerdict
from kiosk.store.models import Dossier
from kiosk.sync.payments import PaymentQueue
from tests.followup.support import filed_and_numbered
from tests.support import Clock

USED = TimbreVerdict(False, message=TIMBRE_REFUSALS["timbre_utilise"])


def _refused(service: DossierService, queue: PaymentQueue, reference: str, timbre: str) -> None:
    service.add_timbre(reference, timbre)
    claimed = queue.claim()
    assert claimed is not None
    queue.record(claimed.item_id, USED)


def _listed(queue: PaymentQueue) -> list[tuple[str, str]]:
    return [(p.reference, p.timbre) for p in queue.problems()]


def test_a_refused_timbre_leaves_the_list_once_the_person_is_told(
    service: DossierService,
) -> None:
    clock = Clock()
    service._now = clock
    reference = filed_and_numbered(service, "changement_titulaire")
    service.transition(reference, DossierState.ATTENTE_PAIEMENT)
    queue = PaymentQueue(service._store, clock=clock)
    _refused(service, queue, reference, "9999000000000001")
    assert _listed(queue) == [(reference, "9999000000000001")]

    followup = FollowUpService(service._store, service._catalog, clock=clock)
    clock.advance(minutes=5)
    followup.record_contact(reference, Channel.TELEPHONE, Outcome.INJOIGNABLE)
    assert _listed(queue) == [(reference, "9999000000000001")]  # not told yet
    clock.advance(minutes=5)
    followup.record_contact(reference, Channel.TELEPHONE, Outcome.JOINT)
    assert _listed(queue) == []


def test_a_refused_timbre_leaves_the_list_once_another_is_given(service: DossierService) -> None:
    clock = Clock()
    service._now = clock
    reference = filed_and_numbered(service, "changement_titulaire")
    service.transition(reference, DossierState.ATTENTE_PAIEMENT)
    queue = PaymentQueue(service._store, clock=clock)
    _refused(service, queue, reference, "9999000000000001")
    clock.advance(minutes=1)
    service.add_timbre(reference, "1000000000000001")
    # The new one is listed as waiting; the refused one, dealt with, is not.
    assert _listed(queue) == [(reference, "1000000000000001")]
    with service._store.read() as s:
        assert s.scalar(select(Dossier.state).where(Dossier.reference == reference)) == (
            DossierState.ATTENTE_PAIEMENT.value
        )
