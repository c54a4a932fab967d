"""The French wording of the receipt, kept out of the drawing code.

Readers may be in difficulty with written French: short sentences, everyday words, no
administrative abbreviations. Each variant is a whole sentence (never assembled from fragments) so
that a translation, if one comes, can be done sentence by sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.receipt.model import Contact, ContactMode, ReceiptData
from kiosk.receipt.text import NNBSP, mask_phone, normalise_space

TRAINING_BANNER = (
    f"FORMATION — reçu d'exercice{NNBSP}: dossier fictif, jamais transmis à l'administration"
)
REFERENCE_HELP = (
    "Donnez ce numéro au guichet ou au téléphone pour toute question sur votre dossier."
)
NOTHING_FILED = "Aucune information saisie."
NOTHING_MISSING = f"Aucun document ne manque{NNBSP}: votre dossier est complet."
NEXT_STEPS_HEADING = f"Et maintenant{NNBSP}?"
FEES_HEADING = "Frais estimés"
FEES_TOTAL = "Total"
FEES_MISSING = f"Manque pour calculer{NNBSP}:"
FEES_NO_TOTAL = "Total pas encore calculable."
FEES_AUTHORITATIVE = (
    f"C'est une estimation{NNBSP}: le montant à payer est celui que donnera le service national."
)


PAYMENT_HEADING = "Payer sans carte bancaire"
#: The DGFiP « paiement de proximité » limit for cash at an approved tobacconist's.
CASH_LIMIT_CENTS = 30_000


def payment_lines(amount: str, reference: str, amount_cents: int) -> list[str]:
    """What the payment block says, beside its QR code: the amount, the reference, and where
    anyone can pay it (a relative's phone, a social worker, an approved tobacconist's)."""
    where = (
        f"Chez un buraliste agréé « paiement de proximité »{NNBSP}: présentez ce reçu, paiement"
        " en espèces (jusqu'à 300 €) ou par carte."
        if amount_cents <= CASH_LIMIT_CENTS
        else f"Chez un buraliste agréé « paiement de proximité »{NNBSP}: par carte (plus de 300 €,"
        " pas en espèces)."
    )
    return [
        f"Montant à payer{NNBSP}: {amount}",
        f"Référence de paiement{NNBSP}: {reference}",
        "Avec un téléphone (le vôtre, celui d'un proche ou d'un travailleur social)"
        f"{NNBSP}: scannez le code ci-contre, sans créer de compte.",
        where,
    ]


def fees_tariff(day: str) -> str:
    """Which tariff the estimate used."""
    return f"Estimation faite au dépôt avec le tarif en vigueur du {day}."


def fees_amount_due(amount: str) -> str:
    """What the national service said is due (printed once it has said it)."""
    return f"Montant dû selon le service national{NNBSP}: {amount}."


@dataclass(frozen=True)
class ContactText:
    """How the contact block reads: one bold line, then details."""

    lead: str
    details: tuple[str, ...]


def contact_lines(contact: Contact) -> ContactText:
    """Describe the chosen channel; the phone number is masked (see :func:`mask_phone`)."""
    if contact.mode is ContactMode.TELEPHONE:
        number = mask_phone(contact.telephone or "")
        return ContactText(
            f"Par SMS (message sur votre téléphone) au {number}",
            ("Numéro en partie masqué, pour le cas où ce reçu serait perdu.",),
        )
    if contact.mode is ContactMode.COURRIER:
        address = tuple(normalise_space(a) for a in contact.adresse if a.strip())
        # Five lines is the longest French postal address (norme AFNOR XPZ 10-011 allows six
        # with the name, which is printed with what was filed).
        return ContactText(f"Par courrier, à cette adresse{NNBSP}:", address[:5])
    return ContactText(
        f"À récupérer au guichet{NNBSP}: nous ne vous enverrons rien.",
        ("Revenez avec ce reçu et une pièce d'identité.",),
    )


def missing_heading(count: int) -> str:
    if count == 0:
        return "Documents à apporter"
    return f"Documents à apporter au guichet ({count})"


def more_filed(count: int) -> str:
    if count == 1:
        return "… et 1 autre information, enregistrée dans votre dossier."
    return f"… et {count} autres informations, enregistrées dans votre dossier."


def more_missing(count: int) -> str:
    if count == 1:
        return f"… et 1 autre document{NNBSP}: demandez la liste complète au guichet."
    return f"… et {count} autres documents{NNBSP}: demandez la liste complète au guichet."


def next_steps(data: ReceiptData) -> str:
    """The "what happens next" paragraph, chosen from the dossier's situation."""
    if data.training:
        # A practice receipt must not promise anything, even if someone takes it home.
        return (
            f"Ceci est un reçu d'exercice{NNBSP}: ce dossier fictif ne sera jamais envoyé à "
            "l'administration et personne ne vous contactera."
        )
    sentences = [
        "Votre dossier est enregistré. Il sera envoyé à l'administration automatiquement, même "
        "si le service national est en panne aujourd'hui : vous n'avez rien à refaire."
    ]
    if data.missing_documents:
        sentences.append(
            "Il ne pourra être traité que lorsqu'il sera complet : apportez les documents "
            "manquants au guichet, avec ce reçu."
        )
    else:
        sentences.append("Un agent l'examinera ensuite.")
    mode = data.contact.mode
    if mode is ContactMode.TELEPHONE:
        sentences.append(
            "Nous vous enverrons un SMS quand votre dossier avancera ou s'il manque quelque chose."
        )
    elif mode is ContactMode.COURRIER:
        sentences.append(
            "Vous recevrez une lettre quand votre dossier avancera ou s'il manque quelque chose."
        )
    else:
        sentences.append(
            "Pour savoir où en est votre dossier, venez au guichet ou appelez-le en donnant votre "
            "numéro de dossier."
        )
    # Typographic French: a narrow no-break space before the colon keeps it off the next line.
    return " ".join(sentences).replace(" :", f"{NNBSP}:")


def closing_line(reference: str) -> str:
    return f"Conservez ce reçu{NNBSP}: c'est la preuve de votre dépôt. Dossier {reference}."
