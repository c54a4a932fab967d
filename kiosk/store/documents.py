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

A file to import (the command line's ``kiosk dossier piece``, the scanner's folder) is read by
:func:`read_piece_file`: a regular file only, opened once without following a link, its type
told by its first bytes (not its name), its size within the national contract's (1 byte to
20 MiB), and refused if it changes while it is read. A file is written through a temporary file,
fsync'd, then renamed: a power cut leaves either the whole file or nothing, and a failed write
(disk full) removes the temporary file and says so, naming the documents folder.

On a site's shared store (PostgreSQL, docs/sites.md) the same sealed bytes go into the store's
``document_site`` table instead of a folder, so that every counter of the site reads them; the
record names the document by its name alone. The site's counters share one documents key: its
fingerprint is kept in the store, so that a counter with another key (or none) is told so
instead of sealing documents the others could not read (:class:`SiteDocuments`).

Plain files written by an earlier version (named by their SHA-256) are
still read, after checking that hash, and :func:`encrypt_plain_documents` re-stores them
encrypted at start.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import mimetypes
import os
import re
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.messages import LocalizedError, Message
from kiosk.store.keys import KeyFileError, documents_key_file, fsync_dir, load_or_create_key

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

#: How an accepted type's content starts (a file's name says nothing of what it holds).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)

#: A supporting document's size in bytes, as the national service accepts it
#: (``docs/national-api.json``, ``Dossier.pieces[].taille``: ``minimum`` and ``maximum``).
#: Checked at the counter, while the person is still there to bring another copy.
PIECE_MIN_BYTES = 1
PIECE_MAX_BYTES = 20 * 1024 * 1024

#: Whether new document files are encrypted. ``False`` until the sync uploads through
#: ``DocumentStore.read`` (docs/security.md, "Known gap: uploads"); flip it then, and call
#: :func:`encrypt_plain_documents` at start (``app/container.py:build``).
ENCRYPT_DOCUMENTS = True

_SUFFIX = ".enc"
_NONCE_BYTES = 12
_AAD_PREFIX = b"pn-kiosk document v1:"


class DocumentError(LocalizedError):
    """A document cannot be imported, written or read back; ``str()`` is French for the agent,
    translatable (:meth:`localized`) where the person may read it."""


class DocumentRefused(DocumentError):
    """The file offered is not one the kiosk takes: a link, not a regular file, empty, too
    large, neither a PDF nor an image, or changed while it was read."""


class DocumentNotWritten(DocumentError):
    """The documents folder could not take the file (disk full, read-only…); nothing is left
    of the attempt."""


class DocumentKeyUnavailable(DocumentError):
    """The documents key is missing or damaged while encrypted documents exist (its medium not
    mounted, the file deleted): nothing can be stored nor read until it is back."""


def content_type(data: bytes) -> str | None:
    """The accepted type ``data`` starts like (PDF, JPEG, PNG, TIFF, WebP), or ``None``."""
    for magic, mime_type in _SIGNATURES:
        if data.startswith(magic):
            return mime_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_piece_size(size: int, name: str) -> None:
    """Refuse a size the national service would refuse (outside :data:`PIECE_MIN_BYTES` to
    :data:`PIECE_MAX_BYTES`).

    Raises:
        DocumentRefused: empty, or larger than the limit.
    """
    if size < PIECE_MIN_BYTES:
        raise DocumentRefused(
            Message("Le fichier « {name} » est vide : il ne peut pas être joint.", name=name)
        )
    if size > PIECE_MAX_BYTES:
        raise DocumentRefused(
            Message(
                "Le fichier « {name} » dépasse {limit} Mo : le service national ne"
                " l'accepterait pas.",
                name=name,
                limit=PIECE_MAX_BYTES // (1024 * 1024),
            )
        )


def read_piece_file(path: Path) -> tuple[bytes, str]:
    """The bytes and the type (by content) of the file at ``path``, offered as a document.

    The file is opened once, without following a link (``O_NOFOLLOW``) and without waiting
    (``O_NONBLOCK``: a FIFO cannot hang the open); what the descriptor is decides, so a file
    swapped after a check is not read in its place. At most one byte more than the limit is
    read, and the length read must be the size the descriptor gave: a file still being written
    by a scanner, or cut short, is refused rather than stored truncated.

    Raises:
        DocumentRefused: a link, not a regular file, empty, too large, neither a PDF nor an
            image, or changed while read (message in French, translatable).
        OSError: the file cannot be opened or read (missing, not allowed).
    """
    name = path.name
    fd, before = _open_regular(path)
    try:
        check_piece_size(before.st_size, name)
        chunks: list[bytes] = []
        left = PIECE_MAX_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) != before.st_size or (after.st_size, after.st_mtime_ns) != (
        before.st_size,
        before.st_mtime_ns,
    ):
        raise changed_while_read(name)
    mime_type = content_type(data)
    if mime_type is None or mime_type not in ACCEPTED_TYPES:
        raise DocumentRefused(
            Message(
                "Le fichier « {name} » n'est ni un PDF ni une image (JPEG, PNG, TIFF, WebP) :"
                " il ne peut pas être joint.",
                name=name,
            )
        )
    return data, mime_type


def changed_while_read(name: str) -> DocumentRefused:
    """The refusal of a file that is not the one it was a moment ago (a scan still being
    written, a file cut or replaced): it is never stored as it was half read."""
    return DocumentRefused(
        Message(
            "Le fichier « {name} » a changé pendant la lecture : attendez la fin de la"
            " numérisation, puis réessayez.",
            name=name,
        )
    )


def piece_type(path: Path) -> str | None:
    """The accepted type the file at ``path`` starts like, from its first bytes only (opened as
    :func:`read_piece_file` opens it); ``None`` when it is not one the kiosk would take."""
    try:
        fd, info = _open_regular(path)
    except (DocumentRefused, OSError):
        return None
    try:
        head = os.read(fd, 16)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not PIECE_MIN_BYTES <= info.st_size <= PIECE_MAX_BYTES:
        return None
    return content_type(head)


def _open_regular(path: Path) -> tuple[int, os.stat_result]:
    """A read-only descriptor on the regular file ``path`` and what it is, never through a link.

    Raises:
        DocumentRefused: a link, or not a regular file.
        OSError: it cannot be opened.
    """
    name = path.name
    # A first look without opening: a device is never opened (opening some has effects).
    _check_regular(os.lstat(path).st_mode, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link since the look above
            raise _link_refused(name) from exc
        raise
    try:
        info = os.fstat(fd)  # what the descriptor is decides, not what the name was
        _check_regular(info.st_mode, name)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _check_regular(mode: int, name: str) -> None:
    if stat.S_ISLNK(mode):
        raise _link_refused(name)
    if not stat.S_ISREG(mode):
        raise DocumentRefused(
            Message(
                "« {name} » n'est pas un fichier ordinaire (dossier, périphérique ou tube) :"
                " il ne peut pas être joint.",
                name=name,
            )
        )


def _link_refused(name: str) -> DocumentRefused:
    return DocumentRefused(
        Message(
            "« {name} » est un lien symbolique : lien symbolique refusé, choisissez le fichier"
            " lui-même.",
            name=name,
        )
    )


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
            key = self._load_key()
            naming = hmac.new(key, b"pn-kiosk document names", hashlib.sha256).digest()
            self._keys = (AESGCM(key), naming)
        return self._keys

    def _load_key(self) -> bytes:
        # A new key only while no file is encrypted yet: creating one beside encrypted files
        # (key medium absent) would make them unreadable for good.
        has_files = self._root.is_dir() and any(self._root.glob(f"*{_SUFFIX}"))
        try:
            return load_or_create_key(self._key_file, may_create=not has_files)
        except KeyFileError as exc:
            raise self._key_unavailable() from exc

    def _key_unavailable(self) -> DocumentKeyUnavailable:
        return DocumentKeyUnavailable(
            Message(
                "La clé de chiffrement des pièces ({path}) est absente ou illisible :"
                " aucune pièce ne peut être jointe ni lue. Remettez-la depuis sa"
                " sauvegarde, ou prévenez le support.",
                path=str(self._key_file),
            )
        )

    def import_file(self, source: Path) -> StoredDocument:
        """Copy ``source`` into the store (read by :func:`read_piece_file`, typed by content).

        Raises:
            DocumentRefused: the file is not one the kiosk takes (message in French).
            DocumentNotWritten: the documents folder could not take it (disk full…).
            DocumentKeyUnavailable: the documents key is missing or damaged.
            OSError: the source file cannot be opened or read.
        """
        data, mime_type = read_piece_file(source)
        return self.store_bytes(data, mime_type)

    def store_bytes(self, data: bytes, mime_type: str) -> StoredDocument:
        """Encrypt and write ``data`` atomically; storing the same bytes twice is a no-op.

        Raises:
            DocumentNotWritten: the write failed (disk full…); no temporary file is left.
            DocumentKeyUnavailable: the documents key is missing or damaged.
        """
        digest = hashlib.sha256(data).hexdigest()
        if self._encrypt:
            aead, naming = self._cipher()
            name = hmac.new(naming, data, hashlib.sha256).hexdigest() + _SUFFIX
        else:
            name = digest + (mimetypes.guess_extension(mime_type) or ".bin")
        if not self._has(name):
            if self._encrypt:
                nonce = secrets.token_bytes(_NONCE_BYTES)
                sealed = nonce + aead.encrypt(nonce, data, _AAD_PREFIX + name.encode())
            else:
                sealed = data
            self._put(name, sealed)
        return StoredDocument(
            path=self._where(name), sha256=digest, mime_type=mime_type, size=len(data)
        )

    def _where(self, name: str) -> Path:
        """What the database records for the document ``name``."""
        return self._root / name

    def _has(self, name: str) -> bool:
        return (self._root / name).exists()

    def _put(self, name: str, sealed: bytes) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._write_atomically(self._root / name, sealed)
        except OSError as exc:
            raise self._not_written(exc) from exc

    def _get(self, path: Path) -> bytes:
        return self.locate(path).read_bytes()

    def delete(self, names: Iterable[str]) -> int:
        """Delete the stored documents the database named (the retention purge); how many
        were. Only files inside the documents folder: a path in the database is not trusted."""
        root = self._root.resolve()
        count = 0
        for name in sorted(names):
            path = Path(name).resolve()
            if not path.is_relative_to(root):
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            count += 1
        return count

    def _write_atomically(self, target: Path, sealed: bytes) -> None:
        """Write through a temporary file renamed over ``target``; the temporary file is gone
        whatever happens (a failed write, an interruption)."""
        tmp = self._root / f".{target.name}.{secrets.token_hex(4)}.part"
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            try:
                view = memoryview(sealed)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self._root)

    def _not_written(self, exc: OSError) -> DocumentNotWritten:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DocumentNotWritten(
                Message(
                    "Disque plein : le document n'a pas pu être enregistré dans le dossier des"
                    " documents de la borne ({folder}). Libérez de la place, puis réessayez.",
                    folder=str(self._root),
                )
            )
        return DocumentNotWritten(
            Message(
                "Le document n'a pas pu être enregistré dans le dossier des documents de la"
                " borne ({folder}) : {reason}.",
                folder=str(self._root),
                reason=exc.strerror or type(exc).__name__,
            )
        )

    def locate(self, path: Path) -> Path:
        """Where a stored document is now: the path recorded, or the file of that name in this
        documents folder when the data folder was moved or restored elsewhere (every release
        records absolute paths). The name is safe to follow: it is the content's digest or its
        keyed name, and what is read is authenticated against it."""
        if path.exists():
            return path
        here = self._root / path.name
        return here if path.name and here.is_file() else path

    def read(self, path: Path) -> bytes:
        """The plain bytes of a stored document.

        Raises:
            DocumentError: the file was modified, truncated or swapped, or is not the kiosk's.
            OSError: the file cannot be read (missing…).
        """
        raw = self._get(path)
        path = Path(path.name)
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


#: The name of a sealed document: the keyed HMAC of its content, hexadecimal, and the suffix.
_SEALED_NAME = re.compile(r"[0-9a-f]{64}" + re.escape(_SUFFIX))
#: Where a site's store keeps its documents key's fingerprint (the ``setting`` table).
SITE_KEY_FINGERPRINT = "documents.empreinte_cle"


class SiteDocuments(DocumentStore):
    """The supporting documents of a site's shared store, in its ``document_site`` table.

    Sealed as the files are (the same key file setting, the same names and associated data),
    so the database server holds ciphertext only. Every counter of the site must hold the same
    key: the first counter to seal a document creates it and records its fingerprint (an HMAC
    of a fixed text under the key) in the store, under the site's writer lock; a counter whose
    key is another one, or that has none while the site has one, is told so and seals nothing
    the others could not read. The site's key is copied to each counter (enrolment,
    docs/sites.md), never stored on the server.
    """

    def __init__(self, store: Store, root: Path, *, key_file: Path | None = None) -> None:
        super().__init__(root, key_file=key_file, encrypt=True)
        self._store = store

    def _load_key(self) -> bytes:
        from sqlalchemy import select

        from kiosk.store.models import Setting

        asked = select(Setting.value).where(Setting.key == SITE_KEY_FINGERPRINT)
        # Read first, without the writer lock: a document is often read inside another unit of
        # work that holds it (the outbox's claim), and the key is recorded once for good.
        with self._store.read() as s:
            recorded = s.scalar(asked)
        if recorded is not None:
            return self._site_key(recorded)
        with self._store.write() as s:  # the site's writer lock: one counter creates the key
            recorded = s.scalar(asked)
            if recorded is not None:  # another counter was first
                return self._site_key(recorded)
            try:
                key = load_or_create_key(self._key_file, may_create=True)
            except KeyFileError as exc:
                raise self._key_unavailable() from exc
            s.add(Setting(key=SITE_KEY_FINGERPRINT, value=_fingerprint(key)))
        return key

    def _site_key(self, recorded: str) -> bytes:
        """This counter's key, if it is the site's (whose fingerprint is ``recorded``)."""
        try:
            key = load_or_create_key(self._key_file, may_create=False)
        except KeyFileError as exc:
            raise DocumentKeyUnavailable(
                Message(
                    "La clé des pièces du site manque sur ce poste ({path}) : les pièces"
                    " du site ne peuvent être ni jointes ni lues ici. Copiez-la depuis une"
                    " autre borne du site (ou enrôlez cette borne), puis recommencez.",
                    path=str(self._key_file),
                )
            ) from exc
        if not hmac.compare_digest(recorded, _fingerprint(key)):
            raise DocumentKeyUnavailable(
                Message(
                    "La clé des pièces de ce poste ({path}) n'est pas celle du site : les"
                    " pièces du site ne peuvent être ni jointes ni lues ici. Remplacez-la"
                    " par celle des autres bornes du site, puis recommencez.",
                    path=str(self._key_file),
                )
            )
        return key

    def _where(self, name: str) -> Path:
        return Path(name)  # a name, not a place: every counter finds it in the store

    def _has(self, name: str) -> bool:
        from kiosk.store.models import SiteDocument

        with self._store.read() as s:
            return s.get(SiteDocument, name) is not None

    def _put(self, name: str, sealed: bytes) -> None:
        from datetime import UTC, datetime

        from kiosk.store.models import SiteDocument

        with self._store.write() as s:
            if s.get(SiteDocument, name) is None:  # the same scan from two counters: once
                s.add(SiteDocument(nom=name, contenu=sealed, cree_le=datetime.now(UTC)))

    def _get(self, path: Path) -> bytes:
        from kiosk.store.models import SiteDocument

        name = path.name
        if not _SEALED_NAME.fullmatch(name):
            raise FileNotFoundError(f"{name} : pas une pièce du site")
        with self._store.read() as s:
            row = s.get(SiteDocument, name)
            if row is None:
                raise FileNotFoundError(f"{name} : absente du serveur du site")
            return bytes(row.contenu)

    def locate(self, path: Path) -> Path:
        return Path(path.name)

    def delete(self, names: Iterable[str]) -> int:
        from sqlalchemy import delete

        from kiosk.store.models import SiteDocument

        wanted = sorted({Path(n).name for n in names if _SEALED_NAME.fullmatch(Path(n).name)})
        if not wanted:
            return 0
        with self._store.write() as s:
            gone = s.execute(delete(SiteDocument).where(SiteDocument.nom.in_(wanted)))
            return int(getattr(gone, "rowcount", 0) or 0)


def _fingerprint(key: bytes) -> str:
    """What the site's store records of its documents key: an HMAC of a fixed text under it."""
    return hmac.new(key, b"pn-kiosk site documents key", hashlib.sha256).hexdigest()


def encrypt_plain_documents(files: DocumentStore, store: Store) -> int:
    """Re-store, encrypted, every plain document an earlier version left; returns how many.

    Each file: the encrypted copy is written, every ``piece`` row naming the plain file is pointed
    at it (one transaction), then the plain file is overwritten and deleted. A crash in between
    leaves a plain file no row names, and the next start finds nothing to do for it: it is then
    only removed by hand (the same limit as orphan files after a purge, docs/security.md).
    """
    from sqlalchemy import select, update

    from kiosk.store.models import Piece

    if not files.encrypts or isinstance(files, SiteDocuments):
        return 0  # a site's store never held plain documents (it came after encryption)
    root = files.root.resolve()
    with store.read() as s:
        paths = set(s.scalars(select(Piece.file_path).where(Piece.file_path.is_not(None))))
    count = 0
    for name in sorted(p for p in paths if p and not p.endswith(_SUFFIX)):
        plain = files.locate(Path(name))
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
