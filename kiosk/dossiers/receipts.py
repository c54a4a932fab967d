"""Assembles the receipt of a dossier from what the store knows, and renders it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.dossiers.errors import DossierError, DossierNotFound, UnknownDemarche
from kiosk.dossiers.fees import FeesView
from kiosk.dossiers.payment import PaymentView
from kiosk.dossiers.reference import check_verification_code, normalise_code, verification_code
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.dossiers.views import DossierSummary, DossierView
from kiosk.fees import format_euros
from kiosk.fees.kept import KeptEstimateError
from kiosk.messages import Euros, Message, format_date, translatable
from kiosk.ports.national import (
    ReceiptApi,
    ReceiptLocked,
    ReceiptStatus,
    ReceiptUnknown,
    ServiceUnavailable,
)
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


class ReceiptNotFollowed(DossierError):
    """A receipt whose dossier is neither here nor (now) known to the national service."""

    def __init__(self, message: Message, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FollowedReceipt:
    """A receipt read at a kiosk that does not hold its dossier: what the national service
    says of it (nothing personal: its state and dates)."""

    status: ReceiptStatus

    def message(self) -> Message:
        """The state, in one sentence for the agent and the person (translatable)."""
        ref, filed = self.status.reference, self.status.filed_on
        match self.status.status:
            case "pieces_attendues":
                return Message(
                    "Dossier {reference}, déposé le {filed} à une autre borne : le service"
                    " national attend encore ses pièces de la borne qui l'a déposé.",
                    reference=ref,
                    filed=filed,
                )
            case "en_attente_paiement":
                return Message(
                    "Dossier {reference}, déposé le {filed} à une autre borne : en attente de"
                    " paiement. La référence de paiement est sur le récépissé réimprimé à la"
                    " borne qui l'a déposé.",
                    reference=ref,
                    filed=filed,
                )
            case "a_completer":
                return Message(
                    "Dossier {reference}, déposé le {filed} à une autre borne : des pièces ou"
                    " des informations sont demandées. La personne les apporte à la borne qui"
                    " l'a déposé.",
                    reference=ref,
                    filed=filed,
                )
            case "accepte":
                return Message(
                    "Dossier {reference}, déposé le {filed} à une autre borne : accepté.",
                    reference=ref,
                    filed=filed,
                )
            case "refuse":
                return Message(
                    "Dossier {reference}, déposé le {filed} à une autre borne : refusé. La"
                    " lettre de décision est envoyée à la personne ; la borne qui l'a déposé"
                    " peut la réimprimer.",
                    reference=ref,
                    filed=filed,
                )
        return Message(
            "Dossier {reference}, déposé le {filed} à une autre borne : en cours d'examen par"
            " le service national.",
            reference=ref,
            filed=filed,
        )

    def details(self) -> tuple[Message, ...]:
        """What else the service said: the day to answer by, what is left to pay."""
        lines: list[Message] = []
        if self.status.deadline is not None:
            lines.append(Message("À fournir avant le {day}.", day=self.status.deadline))
        if self.status.remaining_cents:
            lines.append(
                Message(
                    "Reste à payer : {amount}.",
                    amount=Euros(self.status.remaining_cents),
                )
            )
        return tuple(lines)


class FollowReceipt:
    """A receipt's QR code read at any kiosk: its dossier here, else its state at the national
    service (``POST /v1/suivi``, issue 17)."""

    def __init__(self, receipts: ReceiptService, national: ReceiptApi | None) -> None:
        self._receipts = receipts
        self._national = national

    def follow(self, text: str) -> DossierSummary | FollowedReceipt:
        """The dossier the scanned ``text`` names, here (to open) or at the national service.

        Raises:
            ForgedReceipt: the dossier is here and the code does not match.
            ReceiptNotFollowed: not here, and the national service does not know it, refuses
                for now (too many wrong codes) or cannot be reached (``transient``).
            ValueError: the text is not a receipt QR code.
        """
        reference, code = decode_qr_payload(text)
        try:
            return self._receipts.lookup_qr(text)
        except DossierNotFound:
            if self._national is None:
                raise ReceiptNotFollowed(
                    Message(
                        "Le dossier {reference} n'est pas dans cette borne, et elle n'est"
                        " pas reliée au service national pour le suivre : la personne le"
                        " suit à la borne qui l'a déposé.",
                        reference=reference,
                    )
                ) from None
        try:
            return FollowedReceipt(self._national.follow_receipt(reference, normalise_code(code)))
        except ReceiptUnknown:
            raise ReceiptNotFollowed(
                Message(
                    "Aucun dossier ne correspond à ce récépissé ({reference}), ni dans cette"
                    " borne ni au service national : vérifiez le récépissé. Un dossier déposé"
                    " depuis peu à une autre borne peut ne pas encore être arrivé au service"
                    " national.",
                    reference=reference,
                )
            ) from None
        except ReceiptLocked:
            raise ReceiptNotFollowed(
                Message(
                    "Trop de codes faux pour le récépissé {reference} : son suivi reprendra"
                    " dans une heure au plus. Vérifiez le récépissé.",
                    reference=reference,
                )
            ) from None
        except ServiceUnavailable:
            raise ReceiptNotFollowed(
                Message(
                    "Le dossier {reference} n'est pas dans cette borne et le service national"
                    " ne répond pas pour le moment : réessayez dans un moment.",
                    reference=reference,
                ),
                transient=True,
            ) from None


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
