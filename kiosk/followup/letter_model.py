"""What a letter says, as plain frozen data: the use case (kiosk/followup/letters.py) fills a
:class:`Letter`, the wording comes from kiosk/followup/letter_text.py and the renderer
(kiosk/followup/letter_pdf.py) only lays it out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeAlias

from kiosk.dossiers.states import DossierState
from kiosk.receipt.model import Counter, ReceiptPayment
from kiosk.receipt.qr import encode_qr_payload


class LetterKind(StrEnum):
    """What the letter announces: the national decisions a person is told of."""

    A_COMPLETER = DossierState.A_COMPLETER.value
    ATTENTE_PAIEMENT = DossierState.ATTENTE_PAIEMENT.value
    ACCEPTE = DossierState.ACCEPTE.value
    REFUSE = DossierState.REFUSE.value


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the body; ``strong`` ones are printed in bold (a date to keep)."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Checklist:
    """A titled list: boxes to tick (what to bring) or bullets (what is asked, what to do).

    A list too long for the page is cut by the renderer, which says how many items are left
    and where to find them (the counter).
    """

    heading: str
    items: tuple[str, ...]
    boxes: bool = False


@dataclass(frozen=True)
class PaymentPanel:
    """How to pay without a bank card: the receipt's « Payer sans carte bancaire » block, in
    the letter's words, with the QR code of the payment address."""

    payment: ReceiptPayment
    lines: tuple[str, ...]


Block: TypeAlias = Paragraph | Checklist | PaymentPanel


@dataclass(frozen=True)
class Letter:
    """Everything one letter says, ready to lay out (kiosk/followup/letter_pdf.py).

    Attributes:
        dossier_id: the dossier's UUID (the attempt is recorded against it).
        notice_id: the national notice the letter passes on.
        recipient: the address block, name first, at most six lines (NF Z 10-011).
        sender: the counter, printed top left and in the « Où venir » box.
        dated: the counter's day the letter is printed.
        subject: the « Objet » line.
        blocks: the body, in order.
    """

    dossier_id: str
    notice_id: int
    reference: str
    verification_code: str
    demarche_title: str
    kind: LetterKind
    recipient: tuple[str, ...]
    sender: Counter
    dated: date
    subject: str
    blocks: tuple[Block, ...]
    deadline: date | None = None
    training: bool = False

    @property
    def qr_payload(self) -> str:
        """What the QR code holds: the receipt's payload (kiosk/receipt/qr.py)."""
        return encode_qr_payload(self.reference, self.verification_code)
