"""The correction loop: a dossier sent back « à compléter » changes only where the national
service asked, and is filed again exactly once under the same national number."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from kiosk.demarches import JSONValue
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.correction import LockedForCorrection
from kiosk.followup.reasons import Reason, ReasonKind
from kiosk.store.models import ContactAttempt, Dossier, OutboxItem
from tests.followup.support import decide, filed_and_numbered

ADDRESS: JSONValue = {"ligne": "3 rue des Lilas", "code_postal": "69003", "commune": "LYON"}


@pytest.fixture
def sent_back(service: DossierService) -> str:
    reference = filed_and_numbered(service, "changement_adresse", number="AB-123")
    decide(
        service,
        reference,
        DossierState.A_COMPLETER,
        (
            Reason(
                ReasonKind.PIECE_PERIMEE,
                "Le justificatif de domicile a plus de 6 mois.",
                piece="justificatif_domicile",
            ),
            Reason(
                ReasonKind.CHAMP_INCORRECT,
                "Le code postal ne correspond pas.",
                field="usager.adresse",
            ),
        ),
        deadline=date(2026, 4, 1),
    )
    return reference


def test_only_what_the_service_asked_can_change(service: DossierService, sent_back: str) -> None:
    opened = service.open(sent_back)
    assert opened.editable
    assert opened.correction is not None
    assert [r.kind for r in opened.correction.reasons] == [
        ReasonKind.PIECE_PERIMEE,
        ReasonKind.CHAMP_INCORRECT,
    ]
    assert opened.correction.deadline == date(2026, 4, 1)

    # The address was asked (named by its bind target): it changes.
    service.answer(sent_back, "adresse", ADDRESS)
    assert service.show(sent_back).answers["adresse"] == ADDRESS
    # The name was not: refused in plain French, nothing changes.
    before = service.show(sent_back).answers["nom"]
    with pytest.raises(LockedForCorrection, match="seules les réponses et les pièces demandées"):
        service.answer(sent_back, "nom", "AUTRE")
    assert service.show(sent_back).answers["nom"] == before

    service.check_can_attach(sent_back, "justificatif_domicile")
    with pytest.raises(LockedForCorrection, match="n'a pas demandé la pièce"):
        service.check_can_attach(sent_back, "piece_identite")


def test_filing_again_is_a_new_filing_under_the_same_national_number(
    service: DossierService, sent_back: str
) -> None:
    service.answer(sent_back, "adresse", ADDRESS)
    service.file(sent_back)
    with service._store.read() as s:
        dossier = s.scalars(select(Dossier).where(Dossier.reference == sent_back)).one()
        rows = s.scalars(
            select(OutboxItem).where(OutboxItem.dossier_id == dossier.id).order_by(OutboxItem.seq)
        ).all()
        came = s.scalars(
            select(ContactAttempt).where(ContactAttempt.dossier_id == dossier.id)
        ).all()
        assert dossier.state == DossierState.EN_FILE.value
        assert dossier.national_number == "AB-123"
        assert [r.seq for r in rows] == [1, 2]
        # A new key: a replay of the first filing's key would return its first answer.
        assert rows[0].idempotency_key != rows[1].idempotency_key
        assert [(a.channel, a.outcome) for a in came] == [("guichet", "venu")]
    # Filing twice is still refused.
    with pytest.raises(Exception, match="déjà déposé"):
        service.file(sent_back)


def test_an_untyped_document_request_opens_every_document_and_no_answer(
    service: DossierService,
) -> None:
    reference = filed_and_numbered(service, "changement_adresse")
    decide(
        service,
        reference,
        DossierState.A_COMPLETER,
        (Reason(ReasonKind.PIECE_MANQUANTE, "Un justificatif de domicile récent"),),
    )
    service.check_can_attach(reference, "piece_identite")
    service.check_can_attach(reference, "justificatif_domicile")
    with pytest.raises(LockedForCorrection):
        service.answer(reference, "adresse", ADDRESS)


@pytest.mark.parametrize(
    "reason",
    [
        Reason(ReasonKind.AUTRE, "Le code postal ne correspond pas à la commune."),
        Reason(ReasonKind.CHAMP_INCORRECT, "Réponses illisibles.", field="reponses"),
        Reason(ReasonKind.PIECE_INCORRECTE, "Pièce inconnue.", piece="formulaire_x"),
    ],
    ids=["autre", "champ inconnu", "piece inconnue"],
)
def test_a_reason_that_cannot_be_pinned_opens_everything_never_a_dead_end(
    service: DossierService, reason: Reason
) -> None:
    reference = filed_and_numbered(service, "changement_adresse")
    decide(service, reference, DossierState.A_COMPLETER, (reason,))
    service.answer(reference, "adresse", ADDRESS)  # whatever was meant, it can be done
    service.check_can_attach(reference, "piece_identite")
    assert service.open(reference).correction is not None  # still shown as what was asked


def test_a_dossier_refused_as_invalid_before_any_number_stays_open(
    service: DossierService,
) -> None:
    from tests.support import file_dossier, fill

    reference = service.create("changement_adresse").reference
    fill(service, reference, service._catalog.latest("changement_adresse"))
    file_dossier(service, reference)
    service.transition(reference, DossierState.A_COMPLETER, reason="Dossier invalide")
    assert service.open(reference).correction is None
    service.answer(reference, "nom", "AUTRE")
    assert service.show(reference).answers["nom"] == "AUTRE"


def test_filing_records_the_consent_to_be_contacted_by_the_chosen_channel(
    service: DossierService,
) -> None:
    reference = filed_and_numbered(service, "changement_adresse")
    view = service.show(reference)
    with service._store.read() as s:
        consent_at = s.scalar(
            select(Dossier.contact_consent_at).where(Dossier.reference == reference)
        )
    assert consent_at is not None
    consents = [e for e in view.journal if e.kind == "consentement_contact"]
    assert [e.detail for e in consents] == [{"canal": view.contact_mode}]
