"""The agent's worklist: who needs someone after the counter, how to reach them, and what was
tried."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.contact import Channel, Outcome
from kiosk.followup.reasons import Reason, ReasonKind
from kiosk.followup.worklist import FollowUpService, Need, NotFiled, NotReceived
from kiosk.security.retention import RetentionService
from kiosk.store.models import Dossier, NationalDocument
from tests.followup.support import decide, filed_and_numbered
from tests.support import Clock

# Run on the embedded SQLite store and on a site's PostgreSQL store (issue 17).
pytestmark = pytest.mark.both_stores


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def followup(service: DossierService, clock: Clock) -> FollowUpService:
    service._now = clock
    return FollowUpService(service._store, service._catalog, clock=clock)


def test_each_need_is_listed_and_counted(
    service: DossierService, followup: FollowUpService
) -> None:
    to_complete = filed_and_numbered(service, "changement_adresse", "N-1")
    decide(
        service,
        to_complete,
        DossierState.A_COMPLETER,
        (Reason(ReasonKind.PIECE_MANQUANTE, "Il manque le cerfa.", piece="cerfa_13750"),),
        deadline=date(2026, 4, 1),
    )
    to_pay = filed_and_numbered(service, "changement_adresse", "N-2")
    decide(service, to_pay, DossierState.ATTENTE_PAIEMENT, text="13,76 € à payer")
    accepted = filed_and_numbered(service, "changement_adresse", "N-3")
    decide(service, accepted, DossierState.ACCEPTE)
    refused = filed_and_numbered(service, "changement_adresse", "N-4")
    decide(service, refused, DossierState.REFUSE, text="Le véhicule est gagé.")
    waiting = filed_and_numbered(service, "changement_adresse", "N-5")  # nothing to do yet

    worklist = followup.worklist()

    by_ref = {item.reference: item for item in worklist.items}
    assert set(by_ref) == {to_complete, to_pay, accepted, refused}
    assert waiting not in by_ref
    assert worklist.counts == {
        Need.A_COMPLETER: 1,
        Need.PAIEMENT: 1,
        Need.ACCEPTE: 1,
        Need.REFUSE: 1,
    }
    item = by_ref[to_complete]
    assert item.need is Need.A_COMPLETER
    assert item.reasons[0].piece == "cerfa_13750"
    assert item.deadline == date(2026, 4, 1)
    assert item.contact_mode is not None
    assert by_ref[refused].reason_text == "Le véhicule est gagé."
    assert [i.reference for i in followup.worklist(need=Need.REFUSE).items] == [refused]


def test_the_nearest_deadline_comes_first(
    service: DossierService, followup: FollowUpService
) -> None:
    later = filed_and_numbered(service, "changement_adresse", "N-1")
    decide(service, later, DossierState.A_COMPLETER, deadline=date(2026, 5, 1), text="x")
    sooner = filed_and_numbered(service, "changement_adresse", "N-2")
    decide(service, sooner, DossierState.A_COMPLETER, deadline=date(2026, 4, 1), text="y")
    assert [i.reference for i in followup.worklist().items] == [sooner, later]
    assert [i.reference for i in followup.worklist(limit=1).items] == [sooner]
    assert followup.worklist(limit=1).total == 2


def test_a_decision_leaves_the_list_once_the_person_is_told(
    service: DossierService, followup: FollowUpService, clock: Clock
) -> None:
    refused = filed_and_numbered(service, "changement_adresse")
    decide(service, refused, DossierState.REFUSE, text="Le véhicule est gagé.")

    clock.advance(hours=1)
    item = followup.record_contact(
        refused, Channel.TELEPHONE, Outcome.INJOIGNABLE, note="  messagerie   pleine "
    )
    # No answer: still to tell, and the attempt is kept with its date and note.
    assert item.told_at is None
    assert [(a.outcome, a.note) for a in item.attempts] == [
        (Outcome.INJOIGNABLE, "messagerie pleine")
    ]

    clock.advance(days=1)
    item = followup.record_contact(refused, Channel.TELEPHONE, Outcome.JOINT)
    assert item.told_at == clock.now
    assert refused not in {i.reference for i in followup.worklist().items}
    assert followup.item(refused).need is None  # still shown on its own, with its history
    assert len(followup.item(refused).attempts) == 2


def test_a_dossier_never_filed_has_nothing_to_follow(
    service: DossierService, followup: FollowUpService
) -> None:
    reference = service.create("changement_adresse").reference
    with pytest.raises(NotFiled, match="n'a pas été déposé"):
        followup.record_contact(reference, Channel.TELEPHONE, Outcome.JOINT)


def test_a_dossier_to_complete_stays_listed_after_a_call(
    service: DossierService, followup: FollowUpService
) -> None:
    reference = filed_and_numbered(service, "changement_adresse")
    decide(service, reference, DossierState.A_COMPLETER, text="À fournir : le cerfa")
    followup.record_contact(reference, Channel.TELEPHONE, Outcome.JOINT)
    item = followup.item(reference)
    assert item.told_at is not None
    assert item.need is Need.A_COMPLETER  # until the person brings what is asked


def test_an_issued_document_keeps_an_accepted_dossier_listed_until_handed_over(
    service: DossierService, followup: FollowUpService, clock: Clock
) -> None:
    reference = filed_and_numbered(service, "changement_adresse")
    decide(service, reference, DossierState.ACCEPTE)
    with service._store.write() as s:
        dossier_id = s.scalar(select(Dossier.id).where(Dossier.reference == reference))
        document = NationalDocument(
            dossier_id=dossier_id,
            remote_id="cpi-1",
            kind="certificat_provisoire",
            label="Certificat provisoire d'immatriculation",
            mime_type="application/pdf",
            size=10,
            sha256="0" * 64,
            announced_at=clock.now,
        )
        s.add(document)
        s.flush()
        document_id = document.id
    followup.record_contact(reference, Channel.TELEPHONE, Outcome.JOINT)
    item = followup.item(reference)  # told, but the certificate is still here
    assert [d.id for d in item.to_hand_over] == [document_id]

    with pytest.raises(NotReceived, match="pas encore arrivé"):
        followup.hand_over(reference, document_id)  # announced, not fetched yet
    with service._store.write() as s:
        fetched = s.get(NationalDocument, document_id)
        assert fetched is not None
        fetched.file_path = "/documents/cpi.enc"
    followup.hand_over(reference, document_id)
    assert reference not in {i.reference for i in followup.worklist().items}


def test_purged_dossiers_are_never_listed(
    service: DossierService, followup: FollowUpService, clock: Clock, tmp_path: Path
) -> None:
    reference = filed_and_numbered(service, "changement_adresse")
    decide(service, reference, DossierState.REFUSE, text="Le véhicule est gagé.")
    followup.record_contact(reference, Channel.TELEPHONE, Outcome.MESSAGE, note="Mme Martin")
    assert followup.worklist().total == 1
    clock.advance(days=800)  # past every retention time
    purged = RetentionService(service._store, tmp_path, clock=clock).purge()
    assert reference in {p.reference for p in purged.dossiers}
    assert followup.worklist().total == 0
    item = followup.item(reference)
    assert item.reason_text is None  # the service's words may name the person: erased
    assert [a.note for a in item.attempts] == [None]  # and so may the agent's
