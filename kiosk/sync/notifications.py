"""The text messages to the person, queued with the decision and sent once (no HTTP here;
``sync/worker.py`` drives :class:`NotificationQueue`).

Queued by :func:`queue_text_message`, which ``kiosk.sync.outbox.on_state_change`` calls when it
writes the notice of a decision: the notice and its message commit together. One message per
notice, under an idempotency key derived from the dossier and the notice (a second call for the
same notice finds it there). Only for a dossier whose person chose « par SMS » (``contact_mode``
``telephone``) and gave a mobile number, and that the service numbered; a landline, or a
filing refused before it had a number, is the agent's call to make.

Sent exactly once, like the filings (docs/sync.md): the row is ``envoi`` and committed before
the request, and carries the same key on every attempt, so a lost answer is replayed by the
service, never sent twice. The phone number is not copied into the row: it is read from the
person's record when the message goes (a dossier purged meanwhile sends nothing). The service
taking the message records a contact attempt « SMS envoyé » that tells the person of the
decision (kiosk/followup/contact.py); its refusal for good, « SMS refusé », and the notice stays
for the agent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk.demarches import FieldError
from kiosk.demarches.validators import normalise_phone
from kiosk.dossiers.states import DossierState
from kiosk.followup.contact import Channel, Outcome, record_attempt
from kiosk.followup.messages import text_message
from kiosk.followup.reasons import Reason
from kiosk.ports.national import OutgoingNotification
from kiosk.store.engine import Store
from kiosk.store.models import (
    Dossier,
    Estimation,
    NationalDocument,
    NationalNotice,
    Notification,
    Usager,
)

PENDING = "en_attente"
SENDING = "envoi"
ACKNOWLEDGED = "acquitte"
REJECTED = "rejete"
_OPEN = (PENDING, SENDING)
SMS = "sms"
#: The namespace of the messages' idempotency keys (uuid5 of dossier and notice).
_KEYS = uuid.UUID("5b0e6f38-3f1e-4c1a-9d7e-2f6a1c0e9b41")


def notification_key(dossier_id: str, notice_id: int) -> str:
    """The message's idempotency key: the same notice always gives the same key."""
    return str(uuid.uuid5(_KEYS, f"{dossier_id}/avis/{notice_id}"))


def sms_number(telephone: str | None) -> str | None:
    """The person's mobile number in E.164, or ``None`` (none given, or not a mobile)."""
    if not telephone:
        return None
    try:
        return normalise_phone(telephone, mobile_only=True)
    except FieldError:
        return None


def queue_text_message(
    s: Session,
    dossier: Dossier,
    notice: NationalNotice,
    *,
    reasons: tuple[Reason, ...] = (),
    deadline: date | None = None,
    labels: Mapping[str, str] | None = None,
    now: datetime,
) -> Notification | None:
    """Queue the message telling the person of ``notice``, in the open transaction ``s``
    (``None``: the person did not choose text messages, has no mobile number, or the state
    has no message). ``notice`` must be flushed (its id makes the key)."""
    if dossier.contact_mode != "telephone" or not dossier.national_number:
        # No national number (a filing refused as invalid): the service would not know which
        # dossier the message is about; the agent tells the person.
        return None
    usager = s.get(Usager, dossier.id)
    if usager is None or sms_number(usager.telephone) is None:
        return None
    state = DossierState(notice.state)
    amount = None
    if state is DossierState.ATTENTE_PAIEMENT:
        kept = s.get(Estimation, dossier.id)
        if kept is not None:
            amount = kept.amount_due_cents if kept.amount_due_cents is not None else None
    certificate = bool(
        s.scalar(
            select(func.count()).where(
                NationalDocument.notice_id == notice.id,
                NationalDocument.kind == "certificat_provisoire",
            )
        )
    )
    message = text_message(
        state,
        dossier.reference,
        reasons=reasons,
        deadline=deadline,
        labels=labels,
        amount_cents=amount,
        certificate=certificate,
    )
    if message is None:
        return None
    key = notification_key(dossier.id, notice.id)
    if s.scalar(select(Notification.id).where(Notification.idempotency_key == key)) is not None:
        return None
    row = Notification(
        dossier_id=dossier.id,
        notice_id=notice.id,
        channel=SMS,
        template=message.template,
        text=message.text,
        idempotency_key=key,
        state=PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    s.add(row)
    return row


@dataclass(frozen=True)
class ClaimedNotification:
    """A message marked ``envoi`` and committed: it may now be sent."""

    item_id: int
    attempts: int
    notification: OutgoingNotification


@dataclass(frozen=True)
class PendingMessage:
    """A message not sent yet, or refused: what ``kiosk sync status`` lists."""

    reference: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime


class NotificationQueue:
    """Text messages to send. Each method is one unit of work; call them off the UI thread."""

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

    def claim(self) -> ClaimedNotification | None:
        """Mark the next due message ``envoi`` (committed before any request) and return it.

        A message whose dossier has lost its number (purged) or its national number is closed
        here, never sent.
        """
        now = self._now()
        with self._store.write() as s:
            while True:
                row = s.execute(
                    select(Notification, Dossier)
                    .join(Dossier, Dossier.id == Notification.dossier_id)
                    .where(Notification.state.in_(_OPEN), Notification.next_attempt_at <= now)
                    .order_by(Notification.next_attempt_at, Notification.id)
                    .limit(1)
                ).first()
                if row is None:
                    return None
                item, dossier = row
                usager = s.get(Usager, dossier.id)
                phone = sms_number(usager.telephone if usager else None)
                if phone is None or not dossier.national_number:
                    item.state = REJECTED
                    item.done_at = now
                    item.last_error = "Plus de numéro de portable pour ce dossier : SMS non envoyé."
                    continue
                item.state = SENDING
                item.attempts += 1
                item.last_attempt_at = now
                item.next_attempt_at = now + self._lease
                return ClaimedNotification(
                    item_id=item.id,
                    attempts=item.attempts,
                    notification=OutgoingNotification(
                        idempotency_key=item.idempotency_key,
                        national_number=dossier.national_number,
                        reference=dossier.reference,
                        phone=phone,
                        text=item.text,
                    ),
                )

    def release(self, item_id: int, error: str, *, retry_at: datetime) -> None:
        """No answer (service down, cut): the row waits, with the same key, until ``retry_at``."""
        with self._store.write() as s:
            s.execute(
                update(Notification)
                .where(Notification.id == item_id, Notification.state == SENDING)
                .values(state=PENDING, next_attempt_at=retry_at, last_error=error)
            )

    def record(self, item_id: int, *, remote_id: str | None, error: str | None = None) -> bool:
        """The service's answer: accepted (``remote_id``) or refused for good (``error``); the
        contact attempt is recorded in the same transaction. ``False``: already recorded."""
        now = self._now()
        with self._store.write() as s:
            item = s.get_one(Notification, item_id)
            if item.state != SENDING:
                return False
            sent = remote_id is not None
            item.state = ACKNOWLEDGED if sent else REJECTED
            item.done_at = now
            item.remote_id = remote_id
            item.last_error = None if sent else error
            record_attempt(
                s,
                item.dossier_id,
                Channel.SMS,
                Outcome.ENVOYE if sent else Outcome.ECHEC,
                at=now,
                notice_id=item.notice_id,
                note=None if sent else error,
            )
            return True

    def next_due(self) -> datetime | None:
        """When the earliest open message becomes due (``None``: nothing to send)."""
        with self._store.read() as s:
            return s.scalar(
                select(func.min(Notification.next_attempt_at)).where(Notification.state.in_(_OPEN))
            )

    def problems(self, *, limit: int = 200) -> list[PendingMessage]:
        """Messages still queued, and those the service refused, oldest first."""
        with self._store.read() as s:
            rows = s.execute(
                select(
                    Dossier.reference,
                    Notification.state,
                    Notification.attempts,
                    Notification.last_error,
                    Notification.next_attempt_at,
                )
                .join(Dossier, Dossier.id == Notification.dossier_id)
                .where(Notification.state.in_((*_OPEN, REJECTED)))
                .order_by(Notification.created_at, Notification.id)
                .limit(limit)
            ).all()
        return [PendingMessage(*row) for row in rows]
