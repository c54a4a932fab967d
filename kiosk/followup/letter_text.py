"""The French wording of the letters, kept out of the drawing code.

Readers may be in difficulty with written French: short sentences, everyday words, one idea per
sentence, no administrative abbreviation, the date to keep in bold. Each variant is a whole
sentence (never assembled from fragments). The words about paying without a bank card are the
receipt's (kiosk/receipt/sections.py), said of « ce courrier » instead of « ce reçu ».
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kiosk.fees import format_euros
from kiosk.followup.letter_model import Block, Checklist, Paragraph, PaymentPanel
from kiosk.followup.reasons import Reason, ReasonKind
from kiosk.receipt.model import ReceiptPayment
from kiosk.receipt.sections import CASH_LIMIT_CENTS
from kiosk.receipt.text import NNBSP, format_day

SALUTATION = "Madame, Monsieur,"
SIGN_OFF = "Avec nos salutations,"
QR_CAPTION = "À montrer au guichet"
REFERENCE_LABEL = "Votre numéro de dossier"
COUNTER_HEADING = "Où venir"
TRAINING_BANNER = f"FORMATION — courrier d'exercice{NNBSP}: dossier fictif, à ne pas envoyer"
NO_HOURS = "Horaires : appelez le guichet pour les connaître."
IDENTITY = "Une pièce d'identité (carte d'identité, passeport ou titre de séjour)."
THIS_LETTER = "Ce courrier."

_SUBJECTS = {
    "a_completer": "Objet{sp}: votre dossier {ref} est à compléter",
    "attente_paiement": "Objet{sp}: votre dossier {ref} attend votre paiement",
    "accepte": "Objet{sp}: votre dossier {ref} est accepté",
    "refuse": "Objet{sp}: votre dossier {ref} est refusé",
}


@dataclass(frozen=True)
class Situation:
    """What the letter is about, as the use case gathered it (kiosk/followup/letters.py)."""

    kind: str  # a LetterKind value
    reference: str
    title: str
    theme: str  # "carte_grise", "permis", "autre"
    reasons: tuple[Reason, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)  # démarche document id → its label
    deadline: date | None = None
    payment: ReceiptPayment | None = None
    amount_due: int | None = None  # cents, when no payment reference is known yet
    issued: tuple[str, ...] = ()  # labels of the documents the national service issued
    phone: str = ""


def subject(kind: str, reference: str) -> str:
    """The « Objet » line."""
    return _SUBJECTS[kind].format(sp=NNBSP, ref=reference)


def hours_line(hours: str) -> str:
    """The counter's opening hours, or where to ask for them when none are set."""
    return f"Horaires{NNBSP}: {hours}" if hours.strip() else NO_HOURS.replace(" :", f"{NNBSP}:")


def footer(reference: str, dated: date) -> str:
    """The line at the foot of every page: the page stands alone in a batch."""
    return (
        f"Courrier du {format_day(dated)} — dossier {reference}. Gardez ce courrier{NNBSP}: il"
        " vous servira au guichet."
    )


def body(situation: Situation) -> tuple[Block, ...]:
    """The body of the letter, in order, chosen from the decision announced."""
    writer = {
        "a_completer": _to_complete,
        "attente_paiement": _to_pay,
        "accepte": _accepted,
        "refuse": _refused,
    }[situation.kind]
    blocks = [*writer(situation), _questions(situation)]
    return tuple(_typeset(b) for b in blocks)


def _to_complete(sit: Situation) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(
            f"Le service national a examiné votre demande « {sit.title} ». Pour la traiter, il"
            " lui manque des éléments."
        )
    ]
    asked = tuple(_asked(reason, sit.labels) for reason in sit.reasons)
    if asked:
        blocks.append(Checklist("Ce que le service national demande", asked))
    else:
        blocks.append(
            Paragraph("Le service national n'a pas précisé ce qui manque : un agent vous le dira.")
        )
    documents: list[str] = []
    for reason in sit.reasons:
        if reason.kind.about_document:
            label = _document_label(reason, sit.labels)
            if label not in documents:
                documents.append(label)
    if sit.deadline is not None:
        blocks.append(
            Paragraph(f"Venez au guichet avant le {format_day(sit.deadline)}, avec :", strong=True)
        )
    else:
        blocks.append(Paragraph("Venez au guichet dès que possible, avec :", strong=True))
    bring = (*(f"{label}." for label in documents), THIS_LETTER, IDENTITY)
    blocks.append(Checklist("À apporter", bring, boxes=True))
    if sit.deadline is not None:
        blocks.append(
            Paragraph(
                "Sans réponse de votre part à cette date, le service national peut classer votre"
                " demande sans suite."
            )
        )
    blocks.append(
        Paragraph(
            "Au guichet, un agent ajoutera ces éléments à votre dossier et le renverra pour vous."
            " Vous n'avez rien à envoyer par la poste."
        )
    )
    return blocks


def _to_pay(sit: Situation) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(
            f"Le service national a enregistré votre demande « {sit.title} ». Pour qu'elle"
            " continue, il reste à la payer."
        )
    ]
    if sit.payment is not None:
        blocks.append(PaymentPanel(sit.payment, payment_lines(sit.payment)))
    else:
        if sit.amount_due is not None:
            blocks.append(
                Paragraph(f"Montant à payer : {format_euros(sit.amount_due)}.", strong=True)
            )
        blocks.append(
            Paragraph(
                "Venez au guichet avec ce courrier : un agent vous dira comment payer sans carte"
                " bancaire."
            )
        )
    if sit.deadline is not None:
        blocks.append(Paragraph(f"À payer avant le {format_day(sit.deadline)}.", strong=True))
    blocks.append(
        Paragraph(
            "Une fois le paiement reçu, le service national examine votre demande. Nous vous"
            " écrirons quand il aura répondu."
        )
    )
    return blocks


def payment_lines(payment: ReceiptPayment) -> tuple[str, ...]:
    """What the payment panel says beside its QR code (the receipt's block, for a letter)."""
    where = (
        "Chez un buraliste agréé « paiement de proximité » : montrez ce courrier, paiement en"
        " espèces (jusqu'à 300 €) ou par carte."
        if payment.amount_cents <= CASH_LIMIT_CENTS
        else "Chez un buraliste agréé « paiement de proximité » : par carte (plus de 300 €, pas"
        " en espèces)."
    )
    return tuple(
        _nb(line)
        for line in (
            f"Montant à payer : {payment.amount}",
            f"Référence de paiement : {payment.reference}",
            "Avec un téléphone (le vôtre, celui d'un proche ou d'un travailleur social) : scannez"
            " le code ci-contre, sans créer de compte.",
            where,
        )
    )


def _accepted(sit: Situation) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(
            f"Bonne nouvelle : le service national a accepté votre demande « {sit.title} ».",
            strong=True,
        )
    ]
    if sit.issued:
        blocks.append(Checklist("À retirer au guichet", tuple(f"{d}." for d in sit.issued), True))
        blocks.append(Paragraph("Venez le chercher avec ce courrier et une pièce d'identité."))
        return blocks
    if sit.theme == "carte_grise":
        blocks.append(
            Paragraph(
                "Votre carte grise (certificat d'immatriculation) vous sera envoyée à votre"
                " adresse par courrier suivi."
            )
        )
    elif sit.theme == "permis":
        blocks.append(
            Paragraph(
                "Votre permis de conduire vous sera envoyé à votre adresse par courrier suivi."
            )
        )
    else:
        blocks.append(Paragraph("Venez au guichet avec ce courrier : un agent vous dira la suite."))
        return blocks
    blocks.append(
        Paragraph(
            "Si vous n'avez rien reçu dans un mois, venez au guichet avec ce courrier et une pièce"
            " d'identité."
        )
    )
    return blocks


def _refused(sit: Situation) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(f"Le service national a refusé votre demande « {sit.title} ».", strong=True)
    ]
    if sit.reasons:
        blocks.append(
            Checklist("Le motif donné", tuple(_asked(r, sit.labels) for r in sit.reasons))
        )
    else:
        blocks.append(
            Paragraph(
                "Le service national n'a pas donné de motif : un agent peut vous l'expliquer au"
                " guichet."
            )
        )
    blocks.append(
        Checklist(
            "Ce que vous pouvez faire",
            (
                "Venir au guichet avec ce courrier : un agent vous expliquera ce refus et vous"
                " aidera à refaire une demande si c'est possible.",
                "Contester cette décision dans les deux mois qui suivent la réception de ce"
                " courrier : par une lettre au service qui l'a prise (recours gracieux), ou"
                " devant le tribunal administratif. Un agent peut vous aider à l'écrire.",
            ),
        )
    )
    return blocks


def _questions(sit: Situation) -> Block:
    if sit.phone.strip():
        return Paragraph(
            f"Pour toute question, venez au guichet ou appelez le {sit.phone.strip()}, en donnant"
            f" votre numéro de dossier {sit.reference}."
        )
    return Paragraph(
        f"Pour toute question, venez au guichet en donnant votre numéro de dossier {sit.reference}."
    )


def _document_label(reason: Reason, labels: dict[str, str]) -> str:
    """The démarche's name for the document a reason is about, or the reason's own words."""
    if reason.piece and reason.piece in labels:
        return labels[reason.piece]
    return reason.message.rstrip(" .")


def _asked(reason: Reason, labels: dict[str, str]) -> str:
    """One thing the service asks, as a line of the letter: the document's name, then the
    service's words (once, when they are the same)."""
    message = reason.message.strip()
    if reason.piece and reason.piece in labels:
        label = labels[reason.piece]
        if message.rstrip(" .").casefold() == label.casefold():
            return f"{label}."
        return f"{label} : {message}"
    if reason.kind is ReasonKind.CHAMP_INCORRECT:
        return f"Une information à corriger : {message}"
    return message


def _nb(text: str) -> str:
    """French typography: a narrow no-break space before « : », so it never starts a line."""
    return text.replace(" :", f"{NNBSP}:")


def _typeset(block: Block) -> Block:
    if isinstance(block, Paragraph):
        return Paragraph(_nb(block.text), block.strong)
    if isinstance(block, Checklist):
        return Checklist(_nb(block.heading), tuple(_nb(i) for i in block.items), block.boxes)
    return block
