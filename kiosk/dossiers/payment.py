"""Paying a filed dossier without a bank card: a timbre fiscal électronique given at the counter,
and what the dossier's payment stands at (docs/fees.md, « Payer »).

:meth:`DossierPayments.add_timbre` is the use case of the screens and of ``kiosk paiement REF
--timbre NUMBER``: one transaction records the timbre to send (with its own idempotency key),
the journal entry and the audit entry. The national service checks it when the sync worker
reaches it (kiosk/sync/payments.py): offline, or before the filing is acknowledged, it waits.

The timbre's 2D code (« flashcode ») is not read: its content is not published, so the kiosk
takes the 16 digits printed under it (or sent by SMS), the way the counters' agents type them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kiosk.digits import ascii_digits
from kiosk.dossiers.base import DossierBase
from kiosk.dossiers.errors import DossierError
from kiosk.dossiers.states import DossierState
from kiosk.messages import Message
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.models import Dossier, Event, Payment, PaymentReference

TIMBRE_DIGITS = 16
#: States in which a dossier takes a timbre: filed, not yet paid nor decided.
PAYABLE = frozenset({DossierState.EN_FILE, DossierState.TRANSMIS, DossierState.ATTENTE_PAIEMENT})
# What a person types between groups of digits: spaces (any kind), dashes, dots.
_SEPARATORS = frozenset(" \u00a0\u202f\t-\u2010\u2011\u2012\u2013\u2014\u2212.")

# Row states of ``paiement`` (kiosk/store/models.py, Payment).
PENDING = "en_attente"
SENDING = "envoi"
ACCEPTED = "accepte"
REFUSED = "refuse"


class InvalidTimbre(DossierError):
    """What was typed is not a timbre number; the message says what one looks like."""


class TimbreNotAccepted(DossierError):
    """The dossier cannot take a timbre now (not filed, already paid, decided), or this
    timbre is already given."""


def parse_timbre(text: str) -> str:
    """The 16 ASCII digits of a timbre fiscal électronique as typed or pasted.

    Spaces, dashes and dots between the digits are dropped; digits of any script are read as
    ASCII ones (kiosk/digits.py). The timbre's 2D code (« flashcode »), read by the counter's
    handheld scanner, arrives as typed text whose format is not published: a text that carries
    exactly one run of 16 digits gives those (the national service says whether the timbre
    exists when it is checked).

    Raises:
        InvalidTimbre: anything else, or not exactly 16 digits.
    """
    digits = ascii_digits(text.strip())
    kept = "".join(c for c in digits if c not in _SEPARATORS)
    if not kept.isascii() or not kept.isdigit():
        scanned = re.findall(r"(?<![0-9])[0-9]{16}(?![0-9])", digits)
        if len(scanned) == 1:
            return str(scanned[0])
        raise InvalidTimbre(
            Message(
                "Numéro de timbre fiscal invalide : seuls des chiffres sont attendus (16"
                " chiffres, imprimés sous le code du timbre ou reçus par SMS)."
            )
        )
    if len(kept) != TIMBRE_DIGITS:
        raise InvalidTimbre(
            Message(
                "Numéro de timbre fiscal invalide : 16 chiffres attendus, {count} saisis.",
                count=len(kept),
            )
        )
    return kept


def grouped(timbre: str) -> str:
    """« 1234 5678 9012 3456 », as the agent reads it back to the person."""
    return " ".join(timbre[i : i + 4] for i in range(0, len(timbre), 4))


@dataclass(frozen=True)
class TimbreView:
    """A timbre given for a dossier and where it stands."""

    timbre: str
    state: str  # en_attente, envoi, accepte, refuse
    given_at: datetime
    amount_cents: int | None
    remaining_cents: int | None
    message: str | None

    @property
    def status_text(self) -> str:
        """Where it stands, in French for the agent."""
        if self.state == ACCEPTED:
            return "accepté"
        if self.state == REFUSED:
            return "refusé"
        return "en attente de vérification par le service national"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, for ``--json`` output."""
        return {
            "timbre": self.timbre,
            "etat": self.state,
            "donne_le": self.given_at.isoformat(),
            "montant_centimes": self.amount_cents,
            "reste_du_centimes": self.remaining_cents,
            "message": self.message,
        }


@dataclass(frozen=True)
class PaymentView:
    """What a dossier's payment stands at: its state, the timbres given, its reference."""

    reference: str
    state: DossierState
    timbres: tuple[TimbreView, ...]
    payment_reference: str | None
    payment_amount_cents: int | None
    payment_url: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, for ``--json`` output."""
        return {
            "reference": self.reference,
            "etat": self.state.value,
            "timbres": [t.to_json() for t in self.timbres],
            "reference_paiement": self.payment_reference,
            "montant_a_payer_centimes": self.payment_amount_cents,
            "url_paiement": self.payment_url,
        }


class DossierPayments(DossierBase):
    """Timbres given at the counter, and a dossier's payment as the agent sees it."""

    def add_timbre(
        self, reference: str, number: str, *, agent_id: int | None = None
    ) -> PaymentView:
        """Record a timbre fiscal électronique for a filed dossier, to be checked and used by
        the national service (sent as soon as it is reachable and the filing acknowledged).

        Raises:
            InvalidTimbre: not a timbre number.
            TimbreNotAccepted: the dossier is not waiting for a payment, or the timbre is
                already given (for this dossier or another one on this kiosk).
            DossierNotFound: no such dossier.
        """
        timbre = parse_timbre(number)
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            state = DossierState(dossier.state)
            if state not in PAYABLE:
                raise TimbreNotAccepted(
                    Message(
                        "Le dossier {reference} est « {state} » : il ne prend pas de timbre"
                        " (un timbre se donne pour un dossier déposé, pas encore payé).",
                        reference=ref,
                        state=state.label,
                    )
                )
            given = s.execute(
                select(Dossier.reference)
                .join(Payment, Payment.dossier_id == Dossier.id)
                .where(Payment.timbre == timbre, Payment.state != REFUSED)
                .limit(1)
            ).scalar_one_or_none()
            if given is not None:
                raise TimbreNotAccepted(
                    Message(
                        "Le timbre {timbre} est déjà enregistré pour le dossier {reference}.",
                        timbre=grouped(timbre),
                        reference=given,
                    )
                )
            now = self._now()
            s.add(
                Payment(
                    dossier_id=dossier.id,
                    timbre=timbre,
                    idempotency_key=str(uuid.uuid4()),
                    state=PENDING,
                    attempts=0,
                    agent_id=agent_id,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            # The journal keeps the last four digits only: the number is a bearer value
            # until the service has consumed it.
            s.add(
                Event(
                    dossier_id=dossier.id,
                    at=now,
                    kind="timbre",
                    agent_id=agent_id,
                    detail={"timbre": f"…{timbre[-4:]}"},
                )
            )
            audit(
                s,
                AuditAction.OTHER,
                at=now,
                agent_id=agent_id,
                dossier_ref=ref,
                detail={"evenement": "timbre_enregistre"},
            )
            s.flush()
            return self._payment_view(s, dossier)

    def payment(self, reference: str) -> PaymentView:
        """Where the dossier's payment stands (read only)."""
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            return self._payment_view(s, self._load(s, ref))

    def waiting_for_payment(self, *, limit: int = 200) -> list[str]:
        """References of the dossiers « en attente de paiement », oldest change first."""
        with self._store.read() as s:
            return list(
                s.scalars(
                    select(Dossier.reference)
                    .where(Dossier.state == DossierState.ATTENTE_PAIEMENT.value)
                    .order_by(Dossier.updated_at)
                    .limit(limit)
                )
            )

    @staticmethod
    def _payment_view(s: Any, dossier: Dossier) -> PaymentView:
        rows = s.scalars(
            select(Payment).where(Payment.dossier_id == dossier.id).order_by(Payment.id)
        ).all()
        known = s.get(PaymentReference, dossier.id)
        return PaymentView(
            reference=dossier.reference,
            state=DossierState(dossier.state),
            timbres=tuple(
                TimbreView(
                    timbre=r.timbre,
                    state=r.state,
                    given_at=r.created_at,
                    amount_cents=r.amount_cents,
                    remaining_cents=r.remaining_cents,
                    message=r.message,
                )
                for r in rows
            ),
            payment_reference=known.reference if known else None,
            payment_amount_cents=known.amount_cents if known else None,
            payment_url=known.url if known else None,
        )
