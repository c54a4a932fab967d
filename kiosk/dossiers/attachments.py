"""Attaching a captured or imported document to a dossier: the file first, then the record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.store.documents import ACCEPTED_TYPES, DocumentStore, StoredDocument

if TYPE_CHECKING:
    from kiosk.dossiers.service import DossierService
    from kiosk.store.engine import Store


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


class Attachments:
    """Attaches captured or imported documents to dossiers (file first, then the record)."""

    def __init__(self, dossiers: DossierService, files: DocumentStore, store: Store) -> None:
        self._dossiers = dossiers
        self._files = files
        self._store = store

    def list(self, reference: str) -> list[Attached]:
        """The documents provided for a dossier, oldest first."""
        from sqlalchemy import select

        from kiosk.store.models import Dossier, Piece

        with self._store.read() as s:
            rows = s.execute(
                select(Piece.kind, Piece.item_path, Piece.file_path, Piece.mime_type)
                .join(Dossier, Dossier.id == Piece.dossier_id)
                .where(Dossier.reference == reference, Piece.status == "fournie")
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
    ) -> StoredDocument:
        """Store ``data`` and record it as the document ``kind`` of the dossier.

        The file is written (atomically) before the record: a crash in between leaves an
        orphan file, never a record pointing at nothing.
        """
        if mime_type not in ACCEPTED_TYPES:
            raise ValueError("Seuls les PDF et les images peuvent être joints.")
        stored = self._files.store_bytes(data, mime_type)
        self._dossiers.add_piece(
            reference,
            kind,
            file_path=str(stored.path),
            sha256=stored.sha256,
            mime_type=mime_type,
            item_path=item_path,
        )
        return stored

    def read(self, path: Path) -> bytes:
        """The plain bytes of a stored document (decrypted; see :meth:`DocumentStore.read`)."""
        return self._files.read(path)
