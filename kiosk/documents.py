"""Supporting-document files kept beside the database, content-addressed and written atomically.

A file is copied under its SHA-256 name through a temporary file, fsync'd, then renamed: a power
cut leaves either the whole file or nothing, never a truncated scan. (Encryption of these files
at rest is added by the security work, in this module only.)
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kiosk.dossiers.service import DossierService
    from kiosk.store.engine import Store

_ACCEPTED = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/webp",
}


@dataclass(frozen=True)
class StoredDocument:
    """Where a document landed and what it is."""

    path: Path
    sha256: str
    mime_type: str
    size: int


class DocumentStore:
    """The folder of supporting documents of one kiosk."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def import_file(self, source: Path) -> StoredDocument:
        """Copy ``source`` into the store.

        Raises:
            ValueError: the file type is not accepted (message in French).
            OSError: the file cannot be read or the store cannot be written.
        """
        mime_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        if mime_type not in _ACCEPTED:
            raise ValueError(
                f"Le fichier {source.name} n'est pas accepté : seuls les PDF et les images"
                " (JPEG, PNG, TIFF, WebP) peuvent être joints."
            )
        return self.store_bytes(source.read_bytes(), mime_type)

    def store_bytes(self, data: bytes, mime_type: str) -> StoredDocument:
        """Write ``data`` atomically under its hash; storing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        extension = mimetypes.guess_extension(mime_type) or ".bin"
        self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self._root / f"{digest}{extension}"
        if not target.exists():
            tmp = target.with_suffix(target.suffix + ".part")
            with tmp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(target)
            directory = os.open(self._root, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return StoredDocument(path=target, sha256=digest, mime_type=mime_type, size=len(data))


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
        if mime_type not in _ACCEPTED:
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
        """The bytes of a stored document."""
        return path.read_bytes()
