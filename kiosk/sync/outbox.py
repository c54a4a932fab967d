"""The durable outbox: what must reach the national service, written with the state change.

Exactly-once, in three rules (docs/sync.md):

1. The outbox row is added by the « prêt → en file » transition itself (:func:`on_state_change`
   is called inside ``kiosk.dossiers.moves.move``), so a queued dossier always has its row and a
   rolled-back transition never leaves one behind.
2. A worker marks the row ``envoi`` and commits *before* the request (:meth:`Outbox.claim`). A
   crash can leave a row ``envoi``, never ``acquitte``; once its lease expires it is sent again
   with the same idempotency key, and the server replays its first answer. On a site's shared
   store the counters claim rows side by side, each skipping the rows another is claiming
   (``FOR UPDATE SKIP LOCKED``), without the site's writer lock (docs/sites.md).
3. Only the server's acknowledgement ends the row, and it does so in the same transaction as the
   dossier's « en file → transmis » change (again through :func:`on_state_change`).

A row that keeps failing on its own (the service answers its filing with an error, while it
takes the others) waits its own backoff and never holds the rows behind it; after
:data:`ATTENTION_AFTER` such attempts it is listed for the agent (:meth:`Outbox.needing_attention`),
still queued and still retried with the same key.

What is sent is what the dossier *asks* with its answers, evaluated on the démarche version it
was started with: the store keeps every answer given (the agent may switch a branch back), but a
co-heir's answers when « autres héritiers » is « non », an answer to a question hidden by its
condition, to an item past the group's count or to a question the démarche does not have, and a
document no longer required, never leave the kiosk.

No HTTP here: the worker in ``sync/`` drives this module through :class:`Outbox`.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kiosk.demarches import Catalog, Demarche, JSONValue, effective_answers, required_documents
from kiosk.dossiers.reference import RECEIPT_KEY_SETTING, receipt_verifier, verification_code
from kiosk.dossiers.states import ACKNOWLEDGED_STATES, DossierState
from kiosk.followup.reasons import Reason, reasons_to_json
from kiosk.ports.national import LocalPiece, OutgoingDossier
from kiosk.store.documents import DocumentError, DocumentKeyUnavailable
from kiosk.store.engine import Store
from kiosk.store.models import (
    Answer,
    Dossier,
    NationalDocument,
    NationalNotice,
    OutboxItem,
    Piece,
    Setting,
    Usager,
    Vehicule,
)
from kiosk.store.portable import upsert_for
from kiosk.sync.notifications import queue_text_message

PENDING = "en_attente"
SENDING = "envoi"
ACKNOWLEDGED = "acquitte"
REJECTED = "rejete"
_OPEN = (PENDING, SENDING)
#: When a dossier whose démarche definition is not installed is looked at again.
_NO_DEFINITION_RETRY = timedelta(hours=1)
#: When a dossier whose documents cannot be read for want of their key is looked at again.
_KEY_RETRY = timedelta(minutes=10)
#: How ``last_error`` starts for a row this kiosk holds back itself (never charged an attempt).
HELD = "Retenu sur la borne :"

#: Attempts charged to a submission after which the agent is told about it.
ATTENTION_AFTER = 5

#: Decisions of the national service that the agent must pass on to the person.
NATIONAL_DECISIONS = frozenset(
    {
        DossierState.ACCEPTE,
        DossierState.REFUSE,
        DossierState.A_COMPLETER,
        # The person must be told what to pay, and where (the reference on the receipt).
        DossierState.ATTENTE_PAIEMENT,
    }
)


def idempotency_key(dossier_id: str, seq: int) -> str:
    """The dossier UUID for its first filing; ``UUID.n`` for the n-th (after « à compléter »)."""
    return dossier_id if seq == 1 else f"{dossier_id}.{seq}"


def on_state_change(
    s: Session,
    dossier: Dossier,
    change: tuple[DossierState, DossierState],
    *,
    reason: str | None,
    national_number: str | None,
    now: datetime,
    reasons: Sequence[Reason] = (),
    deadline: date | None = None,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Keep the outbox and the notices in step with a state change, in the caller's transaction.

    Called by ``kiosk.dossiers.moves.move`` for every transition. The notice of a decision
    keeps its typed ``reasons`` and ``deadline``, names the documents announced with it (just
    recorded in this transaction, kiosk/sync/issued.py) and, for a person who chose text
    messages, queues the one that tells them (kiosk/sync/notifications.py; ``labels``: the
    démarche's documents, id → label, for what to bring).
    """
    current, target = change
    if target is DossierState.EN_FILE:
        last = s.scalar(select(func.max(OutboxItem.seq)).where(OutboxItem.dossier_id == dossier.id))
        seq = (last or 0) + 1
        s.add(
            OutboxItem(
                dossier_id=dossier.id,
                seq=seq,
                idempotency_key=idempotency_key(dossier.id, seq),
                state=PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                verificateur=_verifier(s, dossier),
            )
        )
        return
    if current is DossierState.EN_FILE:
        # Acknowledged (→ transmis) or refused as invalid (→ à compléter): the row is done.
        acked = target is DossierState.TRANSMIS
        s.execute(
            update(OutboxItem)
            .where(OutboxItem.dossier_id == dossier.id, OutboxItem.state.in_(_OPEN))
            .values(
                state=ACKNOWLEDGED if acked else REJECTED,
                done_at=now,
                national_number=national_number,
                last_error=None if acked else reason,
            )
        )
    if target in NATIONAL_DECISIONS and (
        current is DossierState.EN_FILE or current in ACKNOWLEDGED_STATES
    ):
        notice = NationalNotice(
            dossier_id=dossier.id,
            at=now,
            state=target.value,
            detail=reason,
            reasons=reasons_to_json(reasons) or None,
            deadline=deadline,
        )
        s.add(notice)
        s.flush()
        s.execute(
            update(NationalDocument)
            .where(NationalDocument.dossier_id == dossier.id, NationalDocument.notice_id.is_(None))
            .values(notice_id=notice.id)
        )
        queue_text_message(
            s,
            dossier,
            notice,
            reasons=tuple(reasons),
            deadline=deadline,
            labels=labels,
            now=now,
        )


@dataclass(frozen=True)
class Claimed:
    """An outbox row marked ``envoi`` and committed: it may now be sent."""

    item_id: int
    attempts: int
    dossier: OutgoingDossier


@dataclass(frozen=True)
class QueueCounts:
    """How many submissions are in each outbox state."""

    pending: int
    sending: int
    acknowledged: int
    rejected: int
    attention: int = 0  # of the waiting ones: failing on their own (:data:`ATTENTION_AFTER`)

    @property
    def waiting(self) -> int:
        """Submissions not yet acknowledged nor refused (the home-screen badge)."""
        return self.pending + self.sending


@dataclass(frozen=True)
class Stuck:
    """A submission the service keeps failing on its own: still queued, shown to the agent."""

    reference: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, for ``--json`` output."""
        return {
            "reference": self.reference,
            "essais": self.attempts,
            "derniere_erreur": self.last_error,
            "prochain_essai": self.next_attempt_at.isoformat(),
        }


_NEEDS_ATTENTION = (OutboxItem.state.in_(_OPEN), OutboxItem.attempts >= ATTENTION_AFTER)


class Outbox:
    """The queue the sync worker drains. Methods are units of work; call them off the UI thread."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        *,
        clock: Callable[[], datetime],
        lease: timedelta | None = None,
        read_document: Callable[[Path], bytes] = Path.read_bytes,
    ) -> None:
        """``catalog`` has the démarche versions the queued dossiers were started with (what is
        sent is evaluated on them); ``read_document`` gives a stored document's plain bytes (the
        document store's ``read``, which decrypts); the default reads plain files, as tests
        write them."""
        self._read_document = read_document
        self._store = store
        self._catalog = catalog
        self._now = clock
        # Time a claimed row is reserved for its worker; after a crash it becomes due again.
        self._lease = lease or timedelta(seconds=60)

    def claim(self, *, skip: Collection[int] = ()) -> Claimed | None:
        """Mark the next due submission ``envoi`` (committed before any request) and return it.

        ``skip``: rows not to take now (those a one-off pass has given up on).
        """
        now = self._now()
        # Not under the site's writer lock (Store.claiming): the row is locked by this
        # statement, and a row another counter is claiming is skipped, not waited for. Two
        # claims cannot take one row: the second skips it while the first holds it, and finds it
        # « envoi » and leased once the first has committed. What is read of the dossier cannot
        # change meanwhile: a dossier « en file » is not editable, and whatever closes its row
        # (an acknowledgement, a decision) waits for this row's lock.
        with self._store.claiming() as s:
            while True:
                item = s.scalars(
                    select(OutboxItem)
                    .where(
                        OutboxItem.state.in_(_OPEN),
                        OutboxItem.next_attempt_at <= now,
                        OutboxItem.id.not_in(skip),
                    )
                    .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if item is None:
                    return None
                dossier = s.get_one(Dossier, item.dossier_id)
                try:
                    demarche = self._catalog.get(dossier.demarche_id, dossier.demarche_version)
                except KeyError:
                    # Without its definition nothing says which answers the dossier asks: it
                    # waits (the row says why) rather than go with answers it may not ask.
                    item.next_attempt_at = now + _NO_DEFINITION_RETRY
                    item.last_error = (
                        f"{HELD} La définition de la démarche « {dossier.demarche_id} » version"
                        f" {dossier.demarche_version} n'est pas installée sur cette borne : le"
                        " dossier attend qu'elle le soit pour être envoyé."
                    )
                    continue
                try:
                    outgoing = _outgoing(s, item, dossier, demarche, self._read_document)
                except DocumentKeyUnavailable as exc:
                    # The documents key's medium is absent (a token not plugged in): sent now,
                    # the dossier would go with empty documents and come back « à compléter ».
                    # It waits, uncharged, and the dossiers without documents still go.
                    item.next_attempt_at = now + _KEY_RETRY
                    item.last_error = f"{HELD} {exc}"
                    continue
                item.state = SENDING
                item.attempts += 1
                item.last_attempt_at = now
                item.next_attempt_at = now + self._lease
                return Claimed(item_id=item.id, attempts=item.attempts, dossier=outgoing)

    def release(
        self, item_id: int, error: str, *, retry_at: datetime, charged: bool = True
    ) -> None:
        """The attempt failed without an answer: the row waits until ``retry_at``.

        ``charged=False``: the service failed as a whole (down, cut, busy), not this dossier:
        the attempt is given back, so ``attempts`` counts the failures that are the row's own.
        """
        with self._store.write() as s:
            s.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.state == SENDING)
                .values(
                    state=PENDING,
                    next_attempt_at=retry_at,
                    last_error=error,
                    attempts=OutboxItem.attempts - (0 if charged else 1),
                )
            )

    def counts(self) -> QueueCounts:
        """How many rows are in each state."""
        with self._store.read() as s:
            rows = dict(
                s.execute(select(OutboxItem.state, func.count()).group_by(OutboxItem.state)).all()
            )
            attention = s.scalar(select(func.count()).where(*_NEEDS_ATTENTION)) or 0
        return QueueCounts(
            pending=rows.get(PENDING, 0),
            sending=rows.get(SENDING, 0),
            acknowledged=rows.get(ACKNOWLEDGED, 0),
            rejected=rows.get(REJECTED, 0),
            attention=attention,
        )

    def held(self, *, limit: int = 200) -> list[Stuck]:
        """Submissions this kiosk holds back itself (documents key absent, définition not
        installed): not sent, not charged, looked at again on their own."""
        return self._listed(
            [OutboxItem.state == PENDING, OutboxItem.last_error.startswith(HELD)], limit
        )

    def needing_attention(self, *, limit: int = 200) -> list[Stuck]:
        """Submissions still queued that failed :data:`ATTENTION_AFTER` times on their own."""
        return self._listed(list(_NEEDS_ATTENTION), limit)

    def _listed(self, where: list[ColumnElement[bool]], limit: int) -> list[Stuck]:
        with self._store.read() as s:
            rows = s.execute(
                select(
                    Dossier.reference,
                    OutboxItem.attempts,
                    OutboxItem.last_error,
                    OutboxItem.next_attempt_at,
                )
                .join(Dossier, Dossier.id == OutboxItem.dossier_id)
                .where(*where)
                .order_by(OutboxItem.created_at, OutboxItem.id)
                .limit(limit)
            ).all()
        return [Stuck(*row) for row in rows]

    def next_due(self, *, skip: Collection[int] = (), held: bool = True) -> datetime | None:
        """When the earliest open row becomes due (``None``: nothing to send).

        ``held=False`` leaves out the rows this kiosk holds back itself (:meth:`held`): a
        one-off pass does not wait for a documents key to come back.
        """
        where: list[ColumnElement[bool]] = [
            OutboxItem.state.in_(_OPEN),
            OutboxItem.id.not_in(skip),
        ]
        if not held:
            where.append(
                or_(OutboxItem.last_error.is_(None), ~OutboxItem.last_error.startswith(HELD))
            )
        with self._store.read() as s:
            return s.scalar(select(func.min(OutboxItem.next_attempt_at)).where(*where))

    def get_marker(self, key: str) -> Any:
        """A JSON value the sync keeps between runs (cursor, last known state), or ``None``."""
        with self._store.read() as s:
            row = s.get(Setting, key)
            return None if row is None else json.loads(row.value)

    def set_marker(self, key: str, value: Any) -> None:
        """Save a JSON value under ``key`` (one transaction)."""
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        with self._store.write() as s:
            row = s.get(Setting, key)
            if row is None:
                s.add(Setting(key=key, value=text))
            else:
                row.value = text


def _verifier(s: Session, dossier: Dossier) -> str:
    """The receipt's verifier for the national service (``Dossier.verificateur``), from the
    secret behind receipts' codes (created here if no receipt was ever printed: the receipt
    printed next reads it)."""
    key = s.get(Setting, RECEIPT_KEY_SETTING)
    if key is None:
        # Made once per store. On a site store two counters filing their first dossiers at
        # once both get here (a filing is a narrow write, kiosk/store/site.py): the second's
        # insert waits for the first's and does nothing, then both read the one secret.
        dialect = s.get_bind().dialect.name
        s.execute(
            upsert_for(dialect, Setting)
            .values(key=RECEIPT_KEY_SETTING, value=secrets.token_hex(32))
            .on_conflict_do_nothing(index_elements=["key"])
        )
        key = s.get(Setting, RECEIPT_KEY_SETTING)
        assert key is not None  # written by this statement or the one it waited for
    code = verification_code(bytes.fromhex(key.value), dossier.id, dossier.reference)
    return receipt_verifier(dossier.reference, code)


def _outgoing(
    s: Session,
    item: OutboxItem,
    dossier: Dossier,
    demarche: Demarche,
    read_document: Callable[[Path], bytes],
) -> OutgoingDossier:
    """The request body for one submission: everything the national service needs, in order,
    and nothing the dossier does not ask (see the module's docstring)."""
    stored: dict[str, JSONValue] = dict(
        s.execute(select(Answer.path, Answer.value).where(Answer.dossier_id == dossier.id)).all()
    )
    answers = dict(sorted(effective_answers(demarche, stored).items()))
    asked = {(r.kind, r.item_path) for r in required_documents(demarche, stored)}
    usager = s.get(Usager, dossier.id)
    vehicule = s.get(Vehicule, dossier.id)
    pieces: list[LocalPiece] = []
    described: list[dict[str, Any]] = []
    for piece in s.scalars(
        select(Piece)
        .where(Piece.dossier_id == dossier.id, Piece.status == "fournie")
        .order_by(Piece.id)
    ):
        if not piece.file_path or not piece.sha256 or (piece.kind, piece.item_path) not in asked:
            continue
        path = Path(piece.file_path)
        try:
            size = len(read_document(path))  # the plain size: stored files are encrypted
        except DocumentKeyUnavailable:
            raise  # the kiosk's own problem, not the dossier's: the caller holds the row
        except (OSError, ValueError, DocumentError):
            size = 0  # gone or unreadable: the upload says so to the agent
        mime = piece.mime_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        pieces.append(
            LocalPiece(
                sha256=piece.sha256, path=path, size=size, mime_type=mime, read=read_document
            )
        )
        described.append(
            {
                "type": piece.kind,
                "pour": piece.item_path,
                "sha256": piece.sha256,
                "taille": size,
                "type_mime": mime,
            }
        )
    body: dict[str, Any] = {
        "id": dossier.id,
        "reference": dossier.reference,
        "demarche": {"id": dossier.demarche_id, "version": dossier.demarche_version},
        "routage": dossier.routage,
        "formation": dossier.training,
        "depot": item.seq,
        "reponses": answers,
        "usager": None
        if usager is None
        else {
            "nom": usager.nom,
            "prenoms": usager.prenoms,
            "date_naissance": usager.date_naissance.isoformat() if usager.date_naissance else None,
            "telephone": usager.telephone,
            "adresse": usager.adresse,
        },
        "vehicule": None
        if vehicule is None
        else {"immatriculation": vehicule.immatriculation, "vin": vehicule.vin},
        "contact": dossier.contact_mode,
        "pieces": described,
    }
    if item.verificateur is not None:
        body["verificateur"] = item.verificateur
    return OutgoingDossier(
        idempotency_key=item.idempotency_key,
        dossier_id=dossier.id,
        reference=dossier.reference,
        body=body,
        pieces=tuple(pieces),
    )
