"""SQLCipher connections, and the one-time encryption of a plain database from an earlier version.

SQLCipher 4 defaults throughout (AES-256 in CBC mode per page, HMAC-SHA512 per page, so a
modified page is detected). The key is a raw 32-byte key, not a passphrase: no key derivation at
each connection (a passphrase costs 256,000 PBKDF2 rounds per connection, and the kiosk's key is
random already).

Encrypting in place keeps nothing plain behind, as far as a program can: the plain database's WAL
is checkpointed and removed first, the encrypted copy is fsync'd and renamed over the original,
and the original's blocks are then overwritten through a hard link kept for that purpose. (On an
SSD or a copy-on-write file system the old blocks may survive in the flash translation layer: full
disk encryption is the answer there, see docs/security.md.)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlcipher3

from kiosk.store.keys import fsync_dir

#: The first 16 bytes of every plain SQLite database; an encrypted one starts with random salt.
PLAIN_HEADER = b"SQLite format 3\x00"

#: SQLCipher 4's page size (its default, kept).
PAGE_SIZE = 4096


def _key_pragma(key: bytes) -> str:
    # x'…' is SQLCipher's syntax for a raw key: used as is, no PBKDF2.
    return f"\"x'{key.hex()}'\""


def connect(path: Path, key: bytes, *, read_only: bool = False, **kwargs: Any) -> Any:
    """A ``sqlcipher3`` connection to ``path`` with the key applied before anything else.

    Nothing may touch the file before ``PRAGMA key``: SQLCipher would read the header as plain.
    ``read_only`` opens it so that SQLite itself refuses any write; in a folder where even
    WAL's shared-memory file cannot be created, with nothing left in a WAL, the file is opened
    as immutable (no locking: nobody can write there).
    """
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        if needs_immutable(path):
            uri += "&immutable=1"
        conn = sqlcipher3.connect(uri, uri=True, **kwargs)
    else:
        conn = sqlcipher3.connect(str(path), **kwargs)
    conn.execute(f"PRAGMA key = {_key_pragma(key)}")
    # SQLCipher writes its own diagnostics to stderr (« hmac check failed… »): the kiosk names
    # the problem itself, in French.
    conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def needs_immutable(path: Path) -> bool:
    """Whether a read-only open of ``path`` must be immutable: its folder is read-only and no
    shared-memory file exists (the caller makes sure no WAL holds commits then)."""
    shm = path.with_name(path.name + "-shm")
    return not os.access(path.parent, os.W_OK) and not shm.exists()


def is_plain(path: Path) -> bool:
    """Whether ``path`` is an unencrypted SQLite database (an earlier kiosk version wrote it)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(PLAIN_HEADER)) == PLAIN_HEADER
    except FileNotFoundError:
        return False


def plain_revision(path: Path) -> str | None:
    """The Alembic revision recorded in a plain database, read without changing the file."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_table:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _wipe(path: Path) -> None:
    """Overwrite a file's bytes with zeros, fsync, then delete it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with path.open("r+b") as handle:
        block = b"\x00" * (1 << 20)
        for _ in range(0, size, len(block)):
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


def clean_leftovers(path: Path) -> None:
    """Remove what an encryption interrupted by a power cut left (the original is intact)."""
    old = path.with_name(path.name + ".plain-old")
    if old.exists() and path.exists() and old.samefile(path):
        # Cut before the swap: the second name is the plain database itself, still the only
        # copy. Drop the name, never the bytes; the encryption starts over.
        old.unlink()
    else:
        _wipe(old)
    for leftover in (path.with_name(path.name + ".encrypting"), *_sidecars(_tmp(path))):
        leftover.unlink(missing_ok=True)


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".encrypting")


def encrypt_in_place(path: Path, key: bytes) -> None:
    """Replace the plain database at ``path`` by an encrypted copy holding the same data.

    Raises:
        sqlite3.DatabaseError: the plain file is not a readable database (it is left as it was).
    """
    # 1. Everything into the main file, and no WAL left: the copy must see every commit, and a
    #    plain -wal must not outlive the plain database.
    plain = sqlite3.connect(path, isolation_level=None, timeout=1.0)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = plain.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            # Another process (an old kiosk still running) holds the database: its WAL must
            # not be touched under it.
            raise sqlite3.OperationalError("base ouverte par un autre programme")
        user_version = int(plain.execute("PRAGMA user_version").fetchone()[0])
    finally:
        plain.close()
    for sidecar in _sidecars(path):
        _wipe(sidecar)
    # 2. The encrypted copy, complete and on disk before it replaces anything.
    tmp = _tmp(path)
    tmp.unlink(missing_ok=True)
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        conn.execute(f"ATTACH DATABASE ? AS encrypted KEY {_key_pragma(key)}", (str(tmp),))
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute(f"PRAGMA encrypted.user_version = {user_version}")
        conn.execute("DETACH DATABASE encrypted")
    finally:
        conn.close()
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())
    # 3. Swap atomically, then overwrite the plain bytes through a second name kept for that.
    old = path.with_name(path.name + ".plain-old")
    old.unlink(missing_ok=True)
    os.link(path, old)
    tmp.replace(path)
    fsync_dir(path.parent)
    _wipe(old)
    fsync_dir(path.parent)
