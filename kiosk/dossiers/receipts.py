"""Assembles the receipt of a dossier from what the store knows, and renders it."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from kiosk.dossiers.errors import DossierError, UnknownDemarche
from kiosk.dossiers.fees import FeesView
from kiosk.dossiers.payment import PaymentView
from kiosk.dossiers.reference import check_verification_code, verification_code
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.dossiers.views import DossierSummary, DossierView
from kiosk.fees import format_euros
from kiosk.fees.kept import KeptEstimateError
from kiosk.messages import Message, format_date, translatable
from kiosk.receipt import (
    Contact,
    ContactMode,
    Counter,
    FeeRow,
    ReceiptData,
    ReceiptFees,
    ReceiptPayment,
    decode_qr_payload,
    render_receipt,
)
from kiosk.site.counter import CounterSettings

log = logging.getLogger(__name__)

# Printed in French; the receipt screen shows them in the person's language (translate()).
_STATE_LINES = {
    DossierState.BROUILLON: translatable("Dossier en cours : à terminer au guichet"),
    DossierState.PRET: translatable("Dossier complet, en attente de dépôt"),
    DossierState.EN_FILE: translatable("Déposé : en attente d'envoi au service national"),
    DossierState.TRANSMIS: translatable("Transmis au service national"),
    DossierState.ACCEPTE: translatable("Accepté"),
    DossierState.REFUSE: translatable("Refusé"),
    DossierState.A_COMPLETER: translatable("À compléter : revenez au guichet"),
    DossierState.ABANDONNE: translatable("Abandonné"),
    DossierState.ATTENTE_PAIEMENT: translatable("Transmis : en attente de paiement"),
    DossierState.PAYE: translatable("Payé : en cours d'examen au service national"),
}


class NotSubmitted(DossierError):
    """A receipt was asked for a dossier that has not been filed."""


class ForgedReceipt(DossierError):
    """A scanned receipt's verification code does not match its dossier."""


def receipt_fees(fees: FeesView) -> ReceiptFees:
    """The « Frais estimés » section of the receipt, in French (the receipt's language)."""
    result = fees.estimate
    tariff_day = None
    if result.tariff_version is not None and result.estimated:
        try:
            tariff_day = format_date(date.fromisoformat(result.tariff_version), "fr")
        except ValueError:
            tariff_day = result.tariff_version
    return ReceiptFees(
        rows=tuple(
            FeeRow(str(line.label), format_euros(line.amount), line.basis_text())
            for line in result.lines
        ),
        tariff_day=tariff_day,
        total=None if result.total is None else format_euros(result.total),
        missing=tuple(str(item.reason) for item in result.missing),
        note=None if result.note is None else str(result.note),
        amount_due=None if fees.amount_due is None else format_euros(fees.amount_due),
    )


def receipt_payment(payment: PaymentView) -> ReceiptPayment | None:
    """The « Payer sans carte bancaire » block of a dossier's payment, once the national service
    has given its reference (None before); the letter prints the same one."""
    if (
        payment.payment_reference is None
        or payment.payment_amount_cents is None
        or payment.payment_url is None
    ):
        return None
    return ReceiptPayment(
        amount=format_euros(payment.payment_amount_cents),
        amount_cents=payment.payment_amount_cents,
        reference=payment.payment_reference,
        url=payment.payment_url,
    )


def address_lines(address: Any) -> tuple[str, ...]:
    """Postal address lines from a stored address answer (a mapping or a list of lines)."""
    if isinstance(address, dict):
        street = [
            str(address[k]) for k in ("ligne1", "ligne2", "ligne", "complement") if address.get(k)
        ]
        town = " ".join(str(address[k]) for k in ("code_postal", "commune") if address.get(k))
        return tuple([*street, town] if town else street)
    if isinstance(address, list):
        return tuple(str(line) for line in address if line)
    if isinstance(address, str) and address:
        return (address,)
    return ()


class ReceiptService:
    """Builds :class:`ReceiptData` for a dossier and renders the PDF."""

    def __init__(
        self, dossiers: DossierService, counter: CounterSettings, *, training: bool = False
    ) -> None:
        self._dossiers = dossiers
        self._counter = counter
        self._training = training

    def data(self, reference: str) -> ReceiptData:
        """What the receipt of ``reference`` says.

        Raises:
            NotSubmitted: the dossier has not been filed yet (a receipt is proof of filing).
        """
        view = self._dossiers.show(reference)
        summary = view.summary
        filed_at = next((e.at for e in view.journal if e.to_state is DossierState.EN_FILE), None)
        if filed_at is None:
            raise NotSubmitted(
                Message(
                    "Le dossier {reference} n'est pas encore déposé : le reçu est remis au"
                    " dépôt, quand le dossier est complet et validé.",
                    reference=summary.reference,
                )
            )
        key = self._dossiers.receipt_key()
        details = self._counter.get()
        filed: list[tuple[str, str]] = [("Démarche", summary.demarche_title)]
        if summary.usager:
            filed.append(("Demandeur", summary.usager))
        if summary.immatriculation:
            filed.append(("Véhicule", summary.immatriculation))
        provided = sum(1 for d in view.documents if d.provided)
        filed.append(("Pièces fournies", f"{provided} sur {len(view.documents)}"))
        if view.routage == "instruction_manuelle":
            filed.append(("Traitement", "instruction manuelle par un agent de la préfecture"))
        if view.national_number:
            filed.append(("Numéro national", view.national_number))
        try:
            fees: ReceiptFees | None = receipt_fees(self._dossiers.fees(summary.reference))
        except (KeptEstimateError, UnknownDemarche) as exc:
            # The receipt is the proof of filing: printed without the fees rather than not at all.
            log.warning("reçu %s sans les frais : %s", summary.reference, exc)
            fees = None
        return ReceiptData(
            reference=summary.reference,
            verification_code=verification_code(key, summary.id, summary.reference),
            demarche_title=summary.demarche_title,
            filed_at=filed_at,
            filed=tuple(filed),
            missing_documents=tuple(d.label for d in view.missing_documents),
            contact=self._contact(view),
            counter=Counter(
                name=details.name,
                address=details.address,
                phone=details.phone,
                hours=details.hours,
            ),
            training=self._training or view.training,
            state_label=_STATE_LINES[summary.state],
            fees=fees,
            payment=self._payment(summary.reference, summary.state),
        )

    def _payment(self, reference: str, state: DossierState) -> ReceiptPayment | None:
        """How to pay what the national service asks, once it has given its reference (a
        reprint): never for a dossier already paid or decided."""
        if state is not DossierState.ATTENTE_PAIEMENT:
            return None
        return receipt_payment(self._dossiers.payment(reference))

    def lookup_qr(self, text: str) -> DossierSummary:
        """The dossier a scanned receipt QR code names, after checking its verification code.

        Raises:
            ForgedReceipt: the code does not match (a receipt altered, or not from this kiosk).
            DossierNotFound: no such dossier here.
            ValueError: the text is not a receipt QR code.
        """
        reference, code = decode_qr_payload(text)
        view = self._dossiers.show(reference)
        key = self._dossiers.receipt_key()
        if not check_verification_code(key, view.summary.id, view.summary.reference, code):
            raise ForgedReceipt(
                Message(
                    "Le code de vérification du reçu {reference} ne correspond pas : ce reçu a été"
                    " modifié ou n'a pas été émis par cette borne. Vérifiez l'identité de la"
                    " personne.",
                    reference=reference,
                )
            )
        return view.summary

    def render(self, reference: str) -> bytes:
        """The receipt as a one-page A4 PDF; the printing is recorded in the journal."""
        data = self.data(reference)
        pdf = render_receipt(data)
        self._dossiers.record_event(data.reference, "recepisse", {"pages": 1})
        return pdf

    def _contact(self, view: DossierView) -> Contact:
        mode = view.contact_mode
        phone = view.telephone
        address = address_lines(view.adresse)
        if mode == ContactMode.TELEPHONE and phone:
            return Contact(mode=ContactMode.TELEPHONE, telephone=phone)
        if mode == ContactMode.COURRIER and address:
            return Contact(mode=ContactMode.COURRIER, adresse=address)
        # No usable channel recorded: the person comes back to the counter.
        return Contact(mode=ContactMode.GUICHET)
