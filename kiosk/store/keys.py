"""The kiosk's encryption keys: 32 random bytes each, kept as hex in a file of their own.

Two keys, two files, so that a deployment can keep them on different media and rotate one without
the other: ``db.key`` (SQLCipher, the database) and ``documents.key`` (AES-GCM, the document
files). By default they live in ``keys/`` beside the database (the data directory), created at the
first start with mode ``0600`` in a ``0700`` folder, so that a kiosk starts unattended (the
background sync must run after a power cut with nobody at the counter). The settings
``stockage.cle_base`` and ``stockage.cle_documents`` (``PN_KIOSK_DB_KEY_FILE``,
``PN_KIOSK_DOCUMENTS_KEY_FILE``) point elsewhere: a removable token, a file the OS keyring or a
TPM unseals at boot into a RAM-backed folder; the composition root passes them as ``key_file``.
docs/security.md says what each choice protects.

A key is created only when there is nothing yet to decrypt: a missing key beside existing
encrypted data is an error, never a reason to make a new key (the data would be lost for good).
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

# Where the key files are by default (kiosk/settings/paths.py); re-exported for the store.
from kiosk.settings.paths import db_key_file, documents_key_file

__all__ = [
    "KEY_BYTES",
    "KeyFileError",
    "db_key_file",
    "documents_key_file",
    "fsync_dir",
    "load_or_create_key",
    "read_key",
]

KEY_BYTES = 32


class KeyFileError(Exception):
    """A key file is missing, unreadable or malformed; the message is in French."""


def read_key(path: Path) -> bytes:
    """The key in ``path``.

    Raises:
        KeyFileError: the file is missing, unreadable or not 64 hexadecimal digits.
    """
    try:
        raw = path.read_text(encoding="ascii").strip()
    except FileNotFoundError as exc:
        raise KeyFileError(f"Clé de chiffrement introuvable : {path}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"Clé de chiffrement illisible : {path} ({exc}).") from exc
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"Le fichier {path} ne contient pas une clé de chiffrement valide"
            f" ({KEY_BYTES * 2} chiffres hexadécimaux attendus)."
        )
    return key


def load_or_create_key(path: Path, *, may_create: bool) -> bytes:
    """The key in ``path``, created first if it does not exist and ``may_create`` says so.

    Args:
        path: the key file.
        may_create: ``True`` only when no data encrypted under an earlier key exists.

    Raises:
        KeyFileError: the file is missing and may not be created, or is malformed.
    """
    if path.exists() or not may_create:
        return read_key(path)
    try:
        return _create_key(path)
    except FileExistsError:
        return read_key(path)
    except OSError as exc:
        cause = "disque plein" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
        raise KeyFileError(f"Clé de chiffrement impossible à créer : {path} ({cause}).") from exc


def install_key(path: Path, key: bytes) -> None:
    """Keep ``key`` in ``path`` unless a key is there already (never replaced: what it sealed
    would become unreadable); the site's documents key brought by an enrolment.

    Raises:
        KeyFileError: the file could not be written (in French).
    """
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"Clé de {KEY_BYTES} octets attendue pour {path}.")
    if path.exists():
        return
    try:
        _write_key(path, key)
    except FileExistsError:
        return  # another process got there first: its key is the one
    except OSError as exc:
        cause = "disque plein" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
        raise KeyFileError(f"Clé de chiffrement impossible à écrire : {path} ({cause}).") from exc


def _create_key(path: Path) -> bytes:
    key = secrets.token_bytes(KEY_BYTES)
    _write_key(path, key)
    return key


def _write_key(path: Path, key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole to a private temporary name, then linked in: a power cut never leaves a
    # half-written key, and link() fails if another process (UI and a console command started
    # together) got there first, in which case its key is the one.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if os.write(fd, key.hex().encode("ascii") + b"\n") != 2 * KEY_BYTES + 1:
                raise OSError(errno.ENOSPC, "short write")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename, link or unlink in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
