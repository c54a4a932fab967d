"""The timbres waiting for the national service, and the payment references to fetch: what the
sync worker drains after the filings (no HTTP here; ``sync/worker.py`` drives it).

Exactly once, as for the filings (docs/sync.md): a timbre row is marked ``envoi`` and committed
before its request, and carries the same idempotency key on every attempt, so a lost answer is
replayed by the service, never answered « déjà utilisé ». A timbre goes only for a dossier whose
filing this kiosk saw acknowledged (it names the national number of that acknowledgement);
before that, and while the service is unreachable, it waits. The service's answer is kept with
the row; a timbre that pays the whole amount moves the dossier to « payé », through
:func:`~kiosk.dossiers.moves.move`, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import aliased

from kiosk.dossiers.moves import move
from kiosk.dossiers.payment import ACCEPTED, PENDING, REFUSED, SENDING
from kiosk.dossiers.states import ACKNOWLEDGED_STATES, DossierState
from kiosk.followup.contact import Outcome
from kiosk.ports.national import OutgoingTimbre, PaymentInfo, TimbreVerdict
from kiosk.store.engine import Store
from kiosk.store.models import ContactAttempt, Dossier, Estimation, Payment, PaymentReference

log = logging.getLogger(__name__)

_ACKNOWLEDGED = tuple(s.value for s in ACKNOWLEDGED_STATES)
#: States whose payment reference is worth fetching (the dossier still owes something).
_OWING = (DossierState.TRANSMIS.value, DossierState.ATTENTE_PAIEMENT.value)


@dataclass(frozen=True)
class ClaimedTimbre:
    """A timbre row marked ``envoi`` and committed: it may now be sent."""

    item_id: int
    attempts: int
    timbre: OutgoingTimbre


@dataclass(frozen=True)
class TimbreProblem:
    """A timbre the service refused, or still waiting: what the agent reads in ``sync status``."""

    reference: str
    timbre: str
    state: str
    message: str | None


class PaymentQueue:
    """Timbres to send and references to fetch. Each method is one unit of work."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        lease: timedelta | None = None,
    ) -> None:
        self._store = store
        self._now = clock
        self._lease = lease or timedelta(seconds=60)

    def claim(self) -> ClaimedTimbre | None:
        """Mark the next due timbre of an acknowledged dossier ``envoi`` and return it."""
        now = self._now()
        with self._store.write() as s:
            row = s.execute(
                select(Payment, Dossier.reference, Dossier.national_number)
                .join(Dossier, Dossier.id == Payment.dossier_id)
                .where(
                    Payment.state.in_((PENDING, SENDING)),
                    Payment.next_attempt_at <= now,
                    Dossier.state.in_(_ACKNOWLEDGED),
                    Dossier.national_number.is_not(None),
                )
                .order_by(Payment.next_attempt_at, Payment.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            item, reference, number = row
            item.state = SENDING
            item.attempts += 1
            item.last_attempt_at = now
            item.next_attempt_at = now + self._lease
            return ClaimedTimbre(
                item_id=item.id,
                attempts=item.attempts,
                timbre=OutgoingTimbre(
                    idempotency_key=item.idempotency_key,
                    timbre=item.timbre,
                    dossier_id=item.dossier_id,
                    national_number=str(number),
                    reference=reference,
                ),
            )

    def next_due(self) -> datetime | None:
        """When the earliest sendable timbre becomes due (``None``: none can go now)."""
        with self._store.read() as s:
            return s.scalar(
                select(func.min(Payment.next_attempt_at))
                .join(Dossier, Dossier.id == Payment.dossier_id)
                .where(
                    Payment.state.in_((PENDING, SENDING)),
                    Dossier.state.in_(_ACKNOWLEDGED),
                    Dossier.national_number.is_not(None),
                )
            )

    def release(self, item_id: int, error: str, *, retry_at: datetime) -> None:
        """No answer (service down, cut): the row waits, with the same key, until ``retry_at``."""
        with self._store.write() as s:
            s.execute(
                update(Payment)
                .where(Payment.id == item_id, Payment.state == SENDING)
                .values(state=PENDING, next_attempt_at=retry_at, message=error)
            )

    def record(self, item_id: int, verdict: TimbreVerdict) -> bool:
        """Keep the service's answer; a timbre paying everything makes the dossier « payé ».

        Returns whether the dossier was moved to « payé ».
        """
        now = self._now()
        with self._store.write() as s:
            item = s.get_one(Payment, item_id)
            if item.state != SENDING:
                return False  # recorded already (a second worker's answer)
            item.state = ACCEPTED if verdict.accepted else REFUSED
            item.done_at = now
            item.amount_cents = verdict.amount_cents
            item.remaining_cents = verdict.remaining_cents
            item.message = verdict.message
            if not verdict.accepted or verdict.remaining_cents != 0:
                return False
            dossier = s.get_one(Dossier, item.dossier_id)
            if DossierState(dossier.state) not in (
                DossierState.TRANSMIS,
                DossierState.ATTENTE_PAIEMENT,
            ):
                return False
            move(s, dossier, DossierState.PAYE, now=now, note="timbre fiscal accepté")
            return True

    def problems(self, *, limit: int = 200) -> list[TimbreProblem]:
        """Timbres refused by the service, and those still waiting, for ``kiosk sync status``.

        A refusal is listed while the dossier still waits for its payment and nobody has acted
        on it yet: it leaves the list once another timbre was given for the dossier, or the
        person was told after it (a call answered, a letter, a text message, a visit: the
        follow-up's attempts that inform, kiosk/followup/contact.py).
        """
        later = aliased(Payment)
        dealt_with = or_(
            exists().where(
                later.dossier_id == Payment.dossier_id, later.created_at > Payment.created_at
            ),
            exists().where(
                ContactAttempt.dossier_id == Payment.dossier_id,
                ContactAttempt.at >= Payment.done_at,
                ContactAttempt.outcome.in_([o.value for o in Outcome if o.informs]),
            ),
        )
        with self._store.read() as s:
            rows = s.execute(
                select(Dossier.reference, Payment.timbre, Payment.state, Payment.message)
                .join(Dossier, Dossier.id == Payment.dossier_id)
                .where(
                    or_(
                        Payment.state.in_((PENDING, SENDING)),
                        # A refusal matters while the dossier still waits for its payment.
                        (Payment.state == REFUSED) & Dossier.state.in_(_OWING) & ~dealt_with,
                    )
                )
                .order_by(Payment.created_at, Payment.id)
                .limit(limit)
            ).all()
        return [TimbreProblem(*row) for row in rows]

    def references_to_fetch(self, *, limit: int = 50) -> list[tuple[str, str]]:
        """(dossier id, national number) of the dossiers that owe an amount and have no
        payment reference yet."""
        with self._store.read() as s:
            rows = s.execute(
                select(Dossier.id, Dossier.national_number)
                .outerjoin(Estimation, Estimation.dossier_id == Dossier.id)
                .outerjoin(PaymentReference, PaymentReference.dossier_id == Dossier.id)
                .where(
                    Dossier.state.in_(_OWING),
                    Dossier.national_number.is_not(None),
                    or_(
                        Estimation.amount_due_cents > 0,
                        Dossier.state == DossierState.ATTENTE_PAIEMENT.value,
                    ),
                    PaymentReference.dossier_id.is_(None),
                )
                .limit(limit)
            ).all()
        return [(str(i), str(n)) for i, n in rows]

    def keep_reference(self, dossier_id: str, info: PaymentInfo) -> None:
        """Keep the reference the service gave (printed on the next receipt)."""
        with self._store.write() as s:
            if s.get(PaymentReference, dossier_id) is not None:
                return
            s.add(
                PaymentReference(
                    dossier_id=dossier_id,
                    reference=info.reference,
                    amount_cents=info.amount_cents,
                    url=info.url,
                    obtained_at=self._now(),
                )
            )
