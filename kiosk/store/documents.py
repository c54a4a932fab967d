"""Supporting-document files kept beside the database, encrypted, de-duplicated, written atomically.

Each file holds ``nonce (12 bytes) || AES-256-GCM ciphertext and tag`` under the documents key
(``keys/documents.key``, see ``kiosk/store/keys.py``), with the file's name as associated
data: a modified byte, a truncated file or two files swapped on disk fail to decrypt. The name is an
HMAC-SHA256 of the plain content under a key derived from the documents key: the same scan stored
twice lands in the same file (so the retention rule "a file shared by two dossiers is kept until
both are purged" still holds), but the name does not reveal the SHA-256 of the plain file, which
anyone holding a copy of a scan could otherwise look for.

The sync uploads a document through :meth:`DocumentStore.read` (the outbox hands it that
reader), so the national service receives the plain document it was announced.

A file is written through a temporary file, fsync'd, then renamed: a power cut leaves either the
whole file or nothing. Plain files written by an earlier version (named by their SHA-256) are
still read, after checking that hash, and :func:`encrypt_plain_documents` re-stores them
encrypted at start.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.store.keys import documents_key_file, fsync_dir, load_or_create_key

if TYPE_CHECKING:
    from kiosk.store.engine import Store

#: The types a supporting document may have.
ACCEPTED_TYPES = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/webp",
}

#: Whether new document files are encrypted. ``False`` until the sync uploads through
#: ``DocumentStore.read`` (docs/security.md, "Known gap: uploads"); flip it then, and call
#: :func:`encrypt_plain_documents` at start (``app/container.py:build``).
ENCRYPT_DOCUMENTS = True

_SUFFIX = ".enc"
_NONCE_BYTES = 12
_AAD_PREFIX = b"pn-kiosk document v1:"


class DocumentError(Exception):
    """A stored document cannot be read back (modified, truncated, wrong key); in French."""


@dataclass(frozen=True)
class StoredDocument:
    """Where a document landed and what it is (``sha256`` and ``size`` of the plain content)."""

    path: Path
    sha256: str
    mime_type: str
    size: int


class DocumentStore:
    """The folder of supporting documents of one kiosk."""

    def __init__(
        self, root: Path, *, key_file: Path | None = None, encrypt: bool | None = None
    ) -> None:
        self._root = root
        self._key_file = key_file or documents_key_file(root)
        self._encrypt = ENCRYPT_DOCUMENTS if encrypt is None else encrypt
        self._keys: tuple[AESGCM, bytes] | None = None

    @property
    def root(self) -> Path:
        """The documents folder."""
        return self._root

    @property
    def encrypts(self) -> bool:
        """Whether new files are encrypted."""
        return self._encrypt

    def _cipher(self) -> tuple[AESGCM, bytes]:
        """The AEAD and the naming key, loading (or at the very first file, creating) the key."""
        if self._keys is None:
            # A new key only while no file is encrypted yet: creating one beside encrypted files
            # (key medium absent) would make them unreadable for good.
            has_files = self._root.is_dir() and any(self._root.glob(f"*{_SUFFIX}"))
            key = load_or_create_key(self._key_file, may_create=not has_files)
            naming = hmac.new(key, b"pn-kiosk document names", hashlib.sha256).digest()
            self._keys = (AESGCM(key), naming)
        return self._keys

    def import_file(self, source: Path) -> StoredDocument:
        """Copy ``source`` into the store.

        Raises:
            ValueError: the file type is not accepted (message in French).
            OSError: the file cannot be read or the store cannot be written.
        """
        mime_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        if mime_type not in ACCEPTED_TYPES:
            raise ValueError(
                f"Le fichier {source.name} n'est pas accepté : seuls les PDF et les images"
                " (JPEG, PNG, TIFF, WebP) peuvent être joints."
            )
        return self.store_bytes(source.read_bytes(), mime_type)

    def store_bytes(self, data: bytes, mime_type: str) -> StoredDocument:
        """Encrypt and write ``data`` atomically; storing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        if self._encrypt:
            aead, naming = self._cipher()
            name = hmac.new(naming, data, hashlib.sha256).hexdigest() + _SUFFIX
        else:
            name = digest + (mimetypes.guess_extension(mime_type) or ".bin")
        self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self._root / name
        if not target.exists():
            if self._encrypt:
                nonce = secrets.token_bytes(_NONCE_BYTES)
                sealed = nonce + aead.encrypt(nonce, data, _AAD_PREFIX + name.encode())
            else:
                sealed = data
            tmp = self._root / f".{name}.{secrets.token_hex(4)}.part"
            with tmp.open("wb") as handle:
                handle.write(sealed)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(target)
            fsync_dir(self._root)
        return StoredDocument(path=target, sha256=digest, mime_type=mime_type, size=len(data))

    def read(self, path: Path) -> bytes:
        """The plain bytes of a stored document.

        Raises:
            DocumentError: the file was modified, truncated or swapped, or is not the kiosk's.
            OSError: the file cannot be read (missing…).
        """
        raw = path.read_bytes()
        if path.suffix != _SUFFIX:
            # An earlier version's plain file, named by its SHA-256: readable only if intact.
            if hashlib.sha256(raw).hexdigest() != path.stem:
                raise DocumentError(f"Le document {path.name} a été modifié : il n'est pas lu.")
            return raw
        aead, _naming = self._cipher()
        try:
            return aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD_PREFIX + path.name.encode()
            )
        except (InvalidTag, ValueError) as exc:
            raise DocumentError(
                f"Le document {path.name} a été modifié ou abîmé (ou la clé des documents n'est"
                " pas la bonne) : il ne peut pas être lu."
            ) from exc


def encrypt_plain_documents(files: DocumentStore, store: Store) -> int:
    """Re-store, encrypted, every plain document an earlier version left; returns how many.

    Each file: the encrypted copy is written, every ``piece`` row naming the plain file is pointed
    at it (one transaction), then the plain file is overwritten and deleted. A crash in between
    leaves a plain file no row names, and the next start finds nothing to do for it: it is then
    only removed by hand (the same limit as orphan files after a purge, docs/security.md).
    """
    from sqlalchemy import select, update

    from kiosk.store.models import Piece

    if not files.encrypts:
        return 0
    root = files.root.resolve()
    with store.read() as s:
        paths = set(s.scalars(select(Piece.file_path).where(Piece.file_path.is_not(None))))
    count = 0
    for name in sorted(p for p in paths if p and not p.endswith(_SUFFIX)):
        plain = Path(name)
        if not plain.resolve().is_relative_to(root) or not plain.exists():
            continue  # a path in the database is not trusted; a missing file is left as it is
        mime = mimetypes.guess_type(plain.name)[0] or "application/octet-stream"
        stored = files.store_bytes(files.read(plain), mime)
        with store.write() as s:
            s.execute(
                update(Piece).where(Piece.file_path == name).values(file_path=str(stored.path))
            )
        _wipe(plain)
        count += 1
    return count


def _wipe(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write(b"\x00" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
