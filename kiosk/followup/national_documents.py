"""Documents the national service issued for a dossier (a provisional registration certificate,
a decision letter): read back decrypted to print or hand over, and marked printed.

The sync fetches them and stores them encrypted like the pieces (kiosk/store/documents.py);
here they are only read. A document announced but not fetched yet says so, in French, rather
than printing nothing. What is read is checked against the SHA-256 the service announced: a file
that is not the one announced is never printed for the person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from kiosk.dossiers.base import utc_now
from kiosk.dossiers.errors import DossierError, DossierNotFound
from kiosk.dossiers.reference import InvalidReference, parse_reference
from kiosk.messages import format_date
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.documents import DocumentError, DocumentStore
from kiosk.store.engine import Store
from kiosk.store.models import Dossier, NationalDocument


class NationalDocumentError(DossierError):
    """The document cannot be given now; ``str()`` says why, in French, for the agent."""


@dataclass(frozen=True)
class NationalDocumentView:
    """A document the national service issued, as the agent sees it."""

    id: int
    reference: str
    kind: str
    label: str
    mime_type: str
    size: int
    announced_at: datetime
    received_at: datetime | None
    printed_at: datetime | None
    handed_at: datetime | None

    @property
    def received(self) -> bool:
        """Whether its bytes are here (fetched from the service and stored)."""
        return self.received_at is not None

    @property
    def is_pdf(self) -> bool:
        """Whether a printer takes it as it is."""
        return self.mime_type == "application/pdf"

    @property
    def status_text(self) -> str:
        """Where it stands, in French for the agent."""
        if not self.received:
            return "pas encore reçu du service national"
        if self.handed_at is not None:
            return "remis à la personne"
        if self.printed_at is not None:
            return "imprimé"
        return "reçu, pas encore imprimé"


class NationalDocuments:
    """Lists, reads and marks printed the documents the national service issued."""

    def __init__(
        self, store: Store, files: DocumentStore, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._store = store
        self._files = files
        self._now = clock

    def list(self, reference: str) -> list[NationalDocumentView]:
        """The dossier's documents, in the order they were announced.

        Raises:
            DossierNotFound: no such dossier here.
        """
        ref = _parse(reference)
        with self._store.read() as s:
            dossier_id = s.scalar(select(Dossier.id).where(Dossier.reference == ref))
            if dossier_id is None:
                raise DossierNotFound(ref)
            rows = s.scalars(
                select(NationalDocument)
                .where(NationalDocument.dossier_id == dossier_id)
                .order_by(NationalDocument.id)
            ).all()
            return [_view(ref, row) for row in rows]

    def read(
        self, reference: str, document_id: int | None = None
    ) -> tuple[NationalDocumentView, bytes]:
        """One document of the dossier and its plain bytes; ``document_id`` may be left out when
        the dossier has only one.

        Raises:
            DossierNotFound: no such dossier here.
            NationalDocumentError: none issued, several and none chosen, not received yet, its
                file missing or not the one announced.
        """
        documents = self.list(reference)
        ref = _parse(reference)
        if not documents:
            raise NationalDocumentError(
                f"Le service national n'a envoyé aucun document pour le dossier {ref}."
            )
        if document_id is None:
            if len(documents) > 1:
                listed = "\n".join(f"  {d.id} : {d.label} ({d.status_text})" for d in documents)
                raise NationalDocumentError(
                    f"Le dossier {ref} a {len(documents)} documents du service national :"
                    f" choisissez-en un avec --document NUMERO.\n{listed}"
                )
            chosen = documents[0]
        else:
            found = [d for d in documents if d.id == document_id]
            if not found:
                raise NationalDocumentError(
                    f"Le dossier {ref} n'a pas de document du service national numéro"
                    f" {document_id}."
                )
            chosen = found[0]
        with self._store.read() as s:
            row = s.get(NationalDocument, chosen.id)
            file_path = row.file_path if row is not None else None
            expected = row.sha256 if row is not None else ""
        if file_path is None or not chosen.received:
            raise NationalDocumentError(
                f"Le document « {chosen.label} » du dossier {ref} n'est pas encore arrivé du"
                f" service national (annoncé le {format_date(chosen.announced_at, 'fr')}) : il"
                " sera récupéré à la prochaine synchronisation. Réessayez plus tard."
            )
        try:
            data = self._files.read(Path(file_path))
        except OSError as exc:
            raise NationalDocumentError(
                f"Le fichier du document « {chosen.label} » du dossier {ref} est introuvable"
                f" dans le dossier des documents de la borne ({exc.strerror or exc}) :"
                " prévenez le support."
            ) from exc
        except DocumentError as exc:
            raise NationalDocumentError(str(exc)) from exc
        if hashlib.sha256(data).hexdigest() != expected:
            raise NationalDocumentError(
                f"Le document « {chosen.label} » du dossier {ref} n'est pas celui que le service"
                " national a annoncé : il n'est pas donné. Prévenez le support."
            )
        return chosen, data

    def mark_printed(self, document_id: int, *, agent_id: int | None = None) -> None:
        """Record that the document was printed (or written out) for the person."""
        now = self._now()
        with self._store.write() as s:
            row = s.get(NationalDocument, document_id)
            if row is None:
                return
            row.printed_at = now
            reference = s.scalar(select(Dossier.reference).where(Dossier.id == row.dossier_id))
            audit(
                s,
                AuditAction.OTHER,
                at=now,
                agent_id=agent_id,
                dossier_ref=reference,
                detail={"evenement": "document_national_imprime", "piece": row.kind[:32]},
            )


def _parse(reference: str) -> str:
    try:
        return parse_reference(reference)
    except InvalidReference as exc:
        raise DossierNotFound(reference.strip()) from exc


def _view(reference: str, row: NationalDocument) -> NationalDocumentView:
    return NationalDocumentView(
        id=row.id,
        reference=reference,
        kind=row.kind,
        label=row.label,
        mime_type=row.mime_type,
        size=row.size,
        announced_at=row.announced_at,
        received_at=row.received_at if row.file_path else None,
        printed_at=row.printed_at,
        handed_at=row.handed_at,
    )
