"""Documents the national service issued with a decision (a provisional registration
certificate, a decision letter): announced by the decisions feed, fetched later, kept encrypted
like the pieces (no HTTP here; ``sync/worker.py`` drives :class:`IssuedDocuments`).

:func:`announce` records what the feed announced in the transaction of the decision itself
(``kiosk.sync.followup``), before the notice is written: the notice then names them
(``kiosk.sync.outbox.on_state_change``), and the text message knows a certificate waits at the
counter. The bytes come later: each is checked against the size and SHA-256 announced before
it is stored, through the same :class:`~kiosk.store.documents.DocumentStore` as the pieces
(encrypted, named by a keyed hash); a document that does not match is not kept, and is asked
again after a growing delay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.ports.national import ReturnedDocument
from kiosk.store.documents import DocumentStore
from kiosk.store.engine import Store
from kiosk.store.models import Dossier, NationalDocument

#: The largest document issued the kiosk keeps (the contract's ``DocumentEmis.taille``).
MAX_ISSUED_BYTES = 8_000_000
#: Attempts after which a document still not fetched is listed for the agent.
ATTENTION_AFTER = 5


def announce(
    s: Session, dossier_id: str, documents: Sequence[ReturnedDocument], *, now: datetime
) -> int:
    """Record the documents a decision announced, in the open transaction ``s`` (a document
    already known, from a page of the feed read twice, is left as it is); returns how many
    were new."""
    known = set(
        s.scalars(
            select(NationalDocument.remote_id).where(NationalDocument.dossier_id == dossier_id)
        )
    )
    added = 0
    for document in documents:
        if document.id in known:
            continue
        known.add(document.id)
        s.add(
            NationalDocument(
                dossier_id=dossier_id,
                remote_id=document.id,
                kind=document.kind,
                label=document.title,
                mime_type=document.mime_type,
                size=document.size,
                sha256=document.sha256,
                announced_at=now,
            )
        )
        added += 1
    s.flush()
    return added


@dataclass(frozen=True)
class ToFetch:
    """A document announced and not received yet."""

    row_id: int
    reference: str
    national_number: str
    remote_id: str
    label: str
    size: int
    sha256: str
    mime_type: str
    attempts: int
    last_error: str | None


class DocumentMismatch(Exception):
    """The bytes received are not the document announced (size or SHA-256): not kept."""


class IssuedDocuments:
    """Documents to fetch and keep. Each method is one unit of work."""

    def __init__(
        self, store: Store, files: DocumentStore, *, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._files = files
        self._now = clock

    def to_fetch(self, *, limit: int = 200) -> list[ToFetch]:
        """Documents announced and not received, of dossiers the service numbered, oldest first."""
        with self._store.read() as s:
            rows = s.execute(
                select(NationalDocument, Dossier.reference, Dossier.national_number)
                .join(Dossier, Dossier.id == NationalDocument.dossier_id)
                .where(
                    NationalDocument.received_at.is_(None),
                    Dossier.national_number.is_not(None),
                    Dossier.purged_at.is_(None),
                )
                .order_by(NationalDocument.announced_at, NationalDocument.id)
                .limit(limit)
            ).all()
            return [
                ToFetch(
                    row_id=doc.id,
                    reference=reference,
                    national_number=str(number),
                    remote_id=doc.remote_id,
                    label=doc.label,
                    size=doc.size,
                    sha256=doc.sha256,
                    mime_type=doc.mime_type,
                    attempts=doc.attempts,
                    last_error=doc.last_error,
                )
                for doc, reference, number in rows
            ]

    def keep(self, item: ToFetch, content: bytes) -> None:
        """Check ``content`` against what was announced, store it encrypted and mark the
        document received.

        Raises:
            DocumentMismatch: wrong size or SHA-256 (nothing kept; the caller retries later).
            DocumentError: the documents folder could not take it (key absent, disk full).
        """
        digest = hashlib.sha256(content).hexdigest()
        if len(content) != item.size or digest != item.sha256:
            raise DocumentMismatch(
                f"Document « {item.label} » reçu différent de celui annoncé (taille ou empreinte"
                " SHA-256) : il n'est pas gardé, il sera redemandé."
            )
        stored = self._files.store_bytes(content, item.mime_type)
        with self._store.write() as s:
            doc = s.get_one(NationalDocument, item.row_id)
            doc.file_path = str(stored.path)
            doc.received_at = self._now()
            doc.last_error = None

    def failed(self, item: ToFetch, error: str) -> int:
        """An attempt failed (not received, or not the document announced); returns the
        attempts so far (the caller's backoff grows with them)."""
        with self._store.write() as s:
            doc = s.get_one(NationalDocument, item.row_id)
            doc.attempts += 1
            doc.last_error = error
            return doc.attempts
