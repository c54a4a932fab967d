"""Dossiers whose person chose the post, taken through the counter and the national service's
decisions by the domain's own paths (filing, acknowledgement, transition); what the sync will
add to the notice (typed reasons, the day to answer by, the payment reference, the documents
issued) is written into the store as the sync would leave it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.reasons import Reason, ReasonKind, reasons_to_json
from kiosk.site.counter import CounterDetails, CounterSettings
from kiosk.store import Store
from kiosk.store.models import Dossier, NationalNotice, PaymentReference
from tests.support import file_dossier, fill

COUNTER = CounterDetails(
    name="Préfecture du Morbihan — Point numérique",
    address=("24 place de la République", "56000 Vannes"),
    phone="02 97 54 84 00",
    hours="Du lundi au vendredi, de 8 h 45 à 12 h et de 13 h 30 à 16 h",
)
HOME = "12 rue de l'Œuvray | 56000 | Vannes"
PROOF = "Justificatif de la nouvelle adresse, de moins de 6 mois"  # the démarche's label
REASONS = (
    Reason(
        ReasonKind.PIECE_PERIMEE,
        "Le justificatif fourni date de plus de 6 mois.",
        piece="justificatif_domicile",
    ),
    Reason(
        ReasonKind.CHAMP_INCORRECT,
        "Le code postal ne correspond pas à la commune.",
        field="adresse.code_postal",
    ),
)
DEADLINE = date(2026, 12, 31)
PAY_URL = "https://paiement.service-national.example/p/PAY-2026-0001"


def set_counter(store: Store) -> CounterSettings:
    """The counter's details, as a supervisor enters them."""
    counter = CounterSettings(store)
    counter.set(COUNTER)
    return counter


def filed_dossier(
    service: DossierService,
    *,
    mode: str = "courrier",
    nom: str = "Martin",
    prenoms: str = "Maëlys",
    number: str = "NAT-0001",
) -> str:
    """A changement d'adresse answered at the counter with ``mode`` as the contact, filed and
    acknowledged by the national service (« transmis »)."""
    ref = service.create("changement_adresse").reference
    for path, value in (("nom", nom), ("prenoms", prenoms), ("adresse", HOME)):
        service.answer(ref, path, value)
    service.answer(ref, "mode_contact", mode)
    if mode == "telephone":
        service.answer(ref, "telephone_portable", "06 12 34 56 78")
    demarche = service._catalog.latest("changement_adresse")
    fill(service, ref, demarche)
    file_dossier(service, ref)
    service.acknowledge(ref, national_number=number)
    return ref


def decide(
    service: DossierService,
    store: Store,
    ref: str,
    state: DossierState,
    *,
    reason: str | None = None,
    reasons: tuple[Reason, ...] = (),
    deadline: date | None = None,
    amount_cents: int = 43376,
) -> int:
    """The national service's decision on ``ref`` through the one state-change path, then what
    the sync keeps beside it; returns the notice's id."""
    service.transition(ref, state, reason=reason)
    with store.write() as s:
        dossier_id = s.scalar(select(Dossier.id).where(Dossier.reference == ref))
        notice = s.scalars(
            select(NationalNotice)
            .where(NationalNotice.dossier_id == dossier_id)
            .order_by(NationalNotice.id.desc())
        ).first()
        assert notice is not None
        notice.reasons = reasons_to_json(reasons) if reasons else None
        notice.deadline = deadline
        if state is DossierState.ATTENTE_PAIEMENT:
            s.add(
                PaymentReference(
                    dossier_id=dossier_id,
                    reference="PAY-2026-0001",
                    amount_cents=amount_cents,
                    url=PAY_URL,
                    obtained_at=datetime.now(UTC),
                )
            )
        return notice.id
