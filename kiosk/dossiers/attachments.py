"""Attaching a captured or imported document to a dossier: the file first, then the record.

The record is refused, before anything is written, when the dossier can no longer change (a
document added to a queued dossier would change what is sent under the same idempotency key) or
when its démarche does not know the document's kind.

A scan taken from the scanner's folder is deleted from it once its encrypted copy is stored and
recorded (:meth:`Attachments.attach_scan`): the folder holds people's papers in plain text. If the
deletion fails, the scan stays attached and the caller is told, to say so to the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche, required_documents
from kiosk.dossiers.base import Clock, DossierBase, utc_now
from kiosk.dossiers.errors import DossierError
from kiosk.followup.correction import correction_scope, piece_locked
from kiosk.messages import Message
from kiosk.ports.devices import ScannedFile, ScanSource
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.documents import (
    ACCEPTED_TYPES,
    DocumentStore,
    StoredDocument,
    check_piece_size,
)
from kiosk.store.models import Dossier, Piece

if TYPE_CHECKING:
    from kiosk.demarches import Catalog
    from kiosk.store.engine import Store


class UnknownDocumentKind(DossierError):
    """The démarche asks for no document of this kind."""


class DocumentReader(Protocol):
    """Where the UI reads a stored document back (for its thumbnail)."""

    def read(self, path: Path) -> bytes:
        """The document's bytes."""
        ...


@dataclass(frozen=True)
class Attached:
    """A document provided for a dossier, as the documents screen lists it."""

    kind: str
    item_path: str | None
    path: Path
    mime_type: str


@dataclass(frozen=True)
class ScanAttached:
    """A scan attached to a dossier, and whether it left the scanner's folder."""

    stored: StoredDocument
    #: Why the scan is still in the scanner's folder (its deletion failed), or None: deleted.
    left_in_folder: str | None = None


def remove_scan(scans: ScanSource, scanned: ScannedFile) -> str | None:
    """Delete an attached scan from the scanner's folder; the reason it stayed, or None.

    A failure (read-only folder, not allowed) does not undo the attachment: the document is
    stored and recorded; the agent is told the plain scan is still in the folder.
    """
    try:
        scans.remove(scanned)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


class DossierPieces(DossierBase):
    """The record of the documents provided for a dossier."""

    def add_piece(
        self,
        reference: str,
        kind: str,
        *,
        file_path: str,
        sha256: str,
        mime_type: str,
        item_path: str | None = None,
        agent_id: int | None = None,
    ) -> None:
        """Record a supporting document provided (the file is already stored).

        ``item_path`` names the group item a per-item document is for (``coheritiers[1]``).

        Raises:
            NotEditable: the dossier has left the counter.
            UnknownDocumentKind: the démarche asks for no such document.
        """
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier, demarche = self._accepting(s, ref, kind)
            required = required_documents(demarche, self._answers(s, dossier.id))
            labels = {(r.kind, r.item_path): r.label for r in required}
            now = self._now()
            s.add(
                Piece(
                    dossier_id=dossier.id,
                    kind=kind,
                    item_path=item_path,
                    label=labels.get((kind, item_path), kind),
                    status="fournie",
                    file_path=file_path,
                    sha256=sha256,
                    mime_type=mime_type,
                    created_at=now,
                )
            )
            dossier.updated_at = now
            audit(
                s,
                AuditAction.DOSSIER_CHANGED,
                at=now,
                agent_id=agent_id,
                dossier_ref=ref,
                detail={"piece": kind},
            )

    def check_can_attach(self, reference: str, kind: str) -> None:
        """Raise what :meth:`add_piece` would, before a file is written for nothing."""
        with self._store.read() as s:
            self._accepting(s, self._parse_ref(reference), kind)

    def _accepting(self, s: Session, ref: str, kind: str) -> tuple[Dossier, Demarche]:
        dossier = self._load_editable(s, ref)
        demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
        rules = {rule.kind: rule for rule in demarche.documents}
        if kind not in rules:
            raise UnknownDocumentKind(
                Message(
                    "La démarche « {demarche} » ne demande pas de pièce « {kind} ».",
                    demarche=demarche.title,
                    kind=kind,
                )
            )
        scope = correction_scope(s, dossier, demarche)
        if scope is not None and not scope.allows_piece(kind):
            raise piece_locked(ref, rules[kind].label)
        return dossier, demarche


class Attachments(DossierPieces):
    """Attaches captured or imported documents to dossiers (file first, then the record)."""

    def __init__(
        self, store: Store, catalog: Catalog, files: DocumentStore, *, clock: Clock = utc_now
    ) -> None:
        super().__init__(store, catalog, clock=clock)
        self._files = files

    def list(self, reference: str) -> list[Attached]:
        """The documents provided for a dossier, oldest first."""
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            rows = s.execute(
                select(Piece.kind, Piece.item_path, Piece.file_path, Piece.mime_type)
                .join(Dossier, Dossier.id == Piece.dossier_id)
                .where(Dossier.reference == ref, Piece.status == "fournie")
                .order_by(Piece.id)
            ).all()
        return [
            Attached(kind, item_path, Path(file_path), mime or "application/octet-stream")
            for kind, item_path, file_path, mime in rows
            if file_path
        ]

    def attach(
        self,
        reference: str,
        kind: str,
        data: bytes,
        mime_type: str,
        *,
        item_path: str | None = None,
        agent_id: int | None = None,
    ) -> StoredDocument:
        """Store ``data`` and record it as the document ``kind`` of the dossier.

        The file is written (atomically) before the record: a crash in between leaves an
        orphan file, never a record pointing at nothing.

        Raises:
            DocumentRefused: empty, or larger than the national service accepts.
            DocumentNotWritten: the documents folder could not take it (disk full…).
        """
        if mime_type not in ACCEPTED_TYPES:
            raise ValueError("Seuls les PDF et les images peuvent être joints.")
        self.check_can_attach(reference, kind)
        check_piece_size(len(data), kind)
        stored = self._files.store_bytes(data, mime_type)
        self._record(reference, kind, stored, item_path=item_path, agent_id=agent_id)
        return stored

    def attach_scan(
        self,
        reference: str,
        kind: str,
        scans: ScanSource,
        scanned: ScannedFile,
        *,
        item_path: str | None = None,
        agent_id: int | None = None,
    ) -> ScanAttached:
        """Attach a scan from the scanner's folder, then delete it there.

        The scan is deleted only after its encrypted copy is written (fsync'd) and recorded, so
        a failure at any step before leaves it where it was, to try again.

        Raises:
            DocumentRefused: the file is no longer one the kiosk takes, or changed since listed.
            DocumentNotWritten: the documents folder could not take it (disk full…).
            OSError: the scan cannot be read (removed since it was listed…).
        """
        self.check_can_attach(reference, kind)
        data = scans.read(scanned)
        stored = self.attach(
            reference, kind, data, scanned.mime_type, item_path=item_path, agent_id=agent_id
        )
        return ScanAttached(stored, remove_scan(scans, scanned))

    def import_file(
        self,
        reference: str,
        kind: str,
        source: Path,
        *,
        item_path: str | None = None,
        agent_id: int | None = None,
    ) -> StoredDocument:
        """Copy the file ``source`` into the store and record it (the command line's path).

        The dossier is checked first: a refused dossier reads no file.

        Raises:
            DocumentRefused: not a regular file, a link, empty, too large, neither a PDF nor an
                image, or changed while read (``kiosk.store.documents.read_piece_file``).
            DocumentNotWritten: the documents folder could not take it (disk full…).
            OSError: the source file cannot be opened or read.
        """
        self.check_can_attach(reference, kind)
        stored = self._files.import_file(source)
        self._record(reference, kind, stored, item_path=item_path, agent_id=agent_id)
        return stored

    def read(self, path: Path) -> bytes:
        """The plain bytes of a stored document (decrypted; see :meth:`DocumentStore.read`)."""
        return self._files.read(path)

    def _record(
        self,
        reference: str,
        kind: str,
        stored: StoredDocument,
        *,
        item_path: str | None,
        agent_id: int | None,
    ) -> None:
        self.add_piece(
            reference,
            kind,
            file_path=str(stored.path),
            sha256=stored.sha256,
            mime_type=stored.mime_type,
            item_path=item_path,
            agent_id=agent_id,
        )
