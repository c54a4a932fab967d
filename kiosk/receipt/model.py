"""What a printed receipt says, as plain frozen data.

The application service fills a :class:`ReceiptData` once the dossier is filed; the renderer
in :mod:`kiosk.receipt.pdf` only lays it out. The checks below reject data that would print a
misleading receipt (a phone contact without a number, a naive timestamp that would print the
wrong hour): the person has no email, so the paper is their only record and must not be wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The verification code is computed elsewhere with a key; here it is opaque. Uppercase letters and
# digits only, so that it stays in the QR code's compact alphanumeric mode and reads aloud cleanly.
VERIFICATION_CODE_RE = re.compile(r"[A-Z0-9]{4,12}")


class ContactMode(StrEnum):
    """How the préfecture will reach the person about this dossier."""

    TELEPHONE = "telephone"  # text message (SMS) to the number given
    COURRIER = "courrier"  # letter to the postal address given
    GUICHET = "guichet"  # nothing is sent: the person comes back to the counter


@dataclass(frozen=True)
class Contact:
    """The contact channel chosen by the person (never email: they have none)."""

    mode: ContactMode
    telephone: str | None = None
    adresse: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode is ContactMode.TELEPHONE and not (self.telephone or "").strip():
            raise ValueError("Contact par téléphone : le numéro est obligatoire.")
        if self.mode is ContactMode.COURRIER and not any(line.strip() for line in self.adresse):
            raise ValueError("Contact par courrier : l'adresse postale est obligatoire.")


@dataclass(frozen=True)
class Counter:
    """The counter (guichet) where the dossier was filed and where the person can come back."""

    name: str
    address: tuple[str, ...]
    phone: str
    hours: str


@dataclass(frozen=True)
class FeeRow:
    """One fee as printed: its label, its amount (already written, « 420,00 € ») and its basis."""

    label: str
    amount: str
    basis: str = ""


@dataclass(frozen=True)
class ReceiptFees:
    """The « Frais estimés » section: the estimate kept when the dossier was filed.

    ``tariff_day`` is the day the tariff used came into force (« 01/04/2026 »); ``total`` is
    None when a fee could not be computed (``missing`` then says why, one sentence each);
    ``note`` says why a démarche costs nothing or is not estimated; ``amount_due`` is what the
    national service said is due, once it has (printed on a reprint).
    """

    rows: tuple[FeeRow, ...]
    tariff_day: str | None
    total: str | None
    missing: tuple[str, ...] = ()
    note: str | None = None
    amount_due: str | None = None


@dataclass(frozen=True)
class ReceiptPayment:
    """The « Payer sans carte bancaire » block: what the national service asks, its payment
    reference and the address its QR code carries (paid later from anyone's phone, or in cash
    at an approved tobacconist's). Known once the national service has given it: printed on a
    reprint, never invented by the kiosk."""

    amount: str
    amount_cents: int
    reference: str
    url: str


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on one receipt.

    ``filed_at`` must be timezone-aware (UTC in practice); it is printed in Paris local time.
    ``filed`` holds (label, value) lines such as ``("Véhicule", "AB-123-CD")``.
    ``state_label`` is an optional short status shown under the title (e.g. "En attente d'envoi").
    ``fees`` is what the dossier will cost, as estimated at its filing (None: not printed).
    ``payment`` is how to pay what the national service asks (None: nothing asked yet).
    """

    reference: str
    verification_code: str
    demarche_title: str
    filed_at: datetime
    filed: tuple[tuple[str, str], ...]
    missing_documents: tuple[str, ...]
    contact: Contact
    counter: Counter
    training: bool = False
    state_label: str = ""
    fees: ReceiptFees | None = None
    payment: ReceiptPayment | None = None

    def __post_init__(self) -> None:
        if self.filed_at.tzinfo is None or self.filed_at.utcoffset() is None:
            # A naive datetime would silently print as if it were Paris time, one or two hours off.
            raise ValueError("La date de dépôt doit comporter un fuseau horaire (UTC).")
        if VERIFICATION_CODE_RE.fullmatch(self.verification_code) is None:
            raise ValueError(
                "Le code de vérification doit comporter de 4 à 12 lettres majuscules ou chiffres."
            )
