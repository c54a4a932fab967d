"""Encryption at rest: whoever copies the database, its WAL or the documents folder reads nothing.

Each "nothing to read" test first writes the same data to a plain store and finds it there, so a
search that could never match (a wrong needle, a wrong file) would fail the test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from app.settings import resolve
from kiosk.demarches import Catalog
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.service import DossierService
from kiosk.store import NewerDatabaseError, Store, StoreError, open_store
from kiosk.store.documents import (
    DocumentError,
    DocumentStore,
    encrypt_plain_documents,
)
from kiosk.store.keys import KEY_BYTES
from kiosk.store.models import Piece, Setting

SURNAME = "QUATREBARBES"
GIVEN = "Zéphirine Aldegonde"
DOC_NUMBER = "X4RTBPFW4"
# A distinctive "photo": the needle is a slice from its middle, not the PNG signature.
PHOTO = b"\x89PNG\r\n\x1a\n" + hashlib.sha512(b"identity photo").digest() * 64


def _fill(store: Store, catalog: Catalog, documents: DocumentStore) -> str:
    """A dossier for a known person, with an identity number and a photo, through the services."""
    service = DossierService(store, catalog)
    ref = service.create("succession").reference
    service.answer(ref, "nom", SURNAME)
    service.answer(ref, "prenoms", GIVEN)
    service.answer(ref, "piece_identite", {"nature": "cni", "numero": DOC_NUMBER})
    Attachments(store, catalog, documents).attach(
        ref, "preuve_qualite_heritier", PHOTO, "image/png"
    )
    return ref


def _raw_bytes(db: Path, documents: Path) -> bytes:
    docs = sorted(documents.iterdir()) if documents.is_dir() else []
    files = [db, db.with_name(db.name + "-wal"), *docs]
    return b"".join(f.read_bytes() for f in files if f.exists())


def _found(haystack: bytes) -> list[str]:
    needles = {
        "nom": SURNAME.encode(),
        "prénom": GIVEN.encode(),
        "numéro de pièce": DOC_NUMBER.encode(),
        "photo": PHOTO[200:264],
    }
    return [label for label, needle in needles.items() if needle in haystack]


def test_the_person_cannot_be_read_from_the_raw_files(tmp_path: Path, catalog: Catalog) -> None:
    # The control: the same dossier in a plain store is there for anyone to read.
    plain_db, plain_docs = tmp_path / "plain" / "kiosk.sqlite3", tmp_path / "plain" / "documents"
    plain = open_store(plain_db, encrypted=False)
    plain_files = DocumentStore(plain_docs, encrypt=False)
    _fill(plain, catalog, plain_files)
    assert _found(_raw_bytes(plain_db, plain_docs)) == ["nom", "prénom", "numéro de pièce", "photo"]
    plain.close()

    db, docs = tmp_path / "kiosk.sqlite3", tmp_path / "documents"
    store = open_store(db)
    files = DocumentStore(docs, encrypt=True)
    ref = _fill(store, catalog, files)
    # Checked while the store is open, so that the -wal holds the latest pages too.
    assert db.with_name(db.name + "-wal").stat().st_size > 0
    assert _found(_raw_bytes(db, docs)) == []
    (stored,) = docs.iterdir()
    assert stored.name != hashlib.sha256(PHOTO).hexdigest() + ".png"
    assert hashlib.sha256(PHOTO).hexdigest() not in stored.name
    # …and the kiosk itself still reads all of it.
    service = DossierService(store, catalog)
    assert service.show(ref).answers["piece_identite"] == {"nature": "cni", "numero": DOC_NUMBER}
    (attached,) = Attachments(store, catalog, files).list(ref)
    assert Attachments(store, catalog, files).read(attached.path) == PHOTO
    store.close()
    assert _found(_raw_bytes(db, docs)) == []


def test_the_keys_are_private_files_created_at_first_start(tmp_path: Path) -> None:
    open_store(tmp_path / "kiosk.sqlite3").close()
    DocumentStore(tmp_path / "documents", encrypt=True).store_bytes(PHOTO, "image/png")
    keys = tmp_path / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    db_key, doc_key = keys / "db.key", keys / "documents.key"
    for key in (db_key, doc_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert len(bytes.fromhex(key.read_text())) == KEY_BYTES
    assert db_key.read_text() != doc_key.read_text()
    assert (tmp_path / "kiosk.sqlite3").read_bytes()[:16] != b"SQLite format 3\x00"


def test_the_key_file_can_live_elsewhere(tmp_path: Path) -> None:
    token = tmp_path / "token" / "kiosk-db.key"
    db = tmp_path / "data" / "kiosk.sqlite3"

    def open_configured(**env: str) -> Store:
        environ = {"PN_KIOSK_DB": str(db), **env}
        paths = resolve(environ=environ, default_file=tmp_path / "absent.toml").settings.paths
        return open_store(paths.database, key_file=paths.db_key_file)

    open_configured(PN_KIOSK_DB_KEY_FILE=str(token)).close()
    assert token.exists() and not (db.parent / "keys").exists()
    # Token removed (or not inserted): the kiosk refuses, and makes no new key beside the data.
    with pytest.raises(StoreError, match="Clé de chiffrement introuvable"):
        open_configured()
    assert not (db.parent / "keys").exists()
    open_store(db, key_file=token).close()


def test_a_wrong_key_is_refused_and_the_file_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    open_store(db).close()
    (tmp_path / "keys" / "db.key").write_text(os.urandom(KEY_BYTES).hex())
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="Clé de chiffrement incorrecte"):
        open_store(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_plain_database_from_an_earlier_version_is_encrypted_in_place(
    tmp_path: Path, catalog: Catalog
) -> None:
    old = tmp_path / "old" / "kiosk.sqlite3"
    plain = open_store(old, encrypted=False)
    service = DossierService(plain, catalog)
    refs = []
    for n in range(30):
        ref = service.create("succession").reference
        service.answer(ref, "nom", f"{SURNAME}{n:02d}")
        refs.append(ref)
    # Copied while open, WAL included: what a kiosk switched off before the upgrade leaves.
    db = tmp_path / "new" / "kiosk.sqlite3"
    db.parent.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(old.with_name(old.name + suffix), db.with_name(db.name + suffix))
    plain.close()
    assert db.with_name(db.name + "-wal").stat().st_size > 0
    assert SURNAME.encode() in _raw_bytes(db, tmp_path / "nothing")

    store = open_store(db)
    try:
        service = DossierService(store, catalog)
        assert {d.reference for d in service.list(limit=100)} == set(refs)
        assert service.show(refs[7]).answers["nom"] == f"{SURNAME}07"
    finally:
        store.close()
    assert db.read_bytes()[:16] != b"SQLite format 3\x00"
    assert SURNAME.encode() not in _raw_bytes(db, tmp_path / "nothing")
    assert sorted(p.name for p in db.parent.iterdir()) == [
        "keys",
        "kiosk.sqlite3",
        "kiosk.sqlite3.existe",
    ]


def test_a_plain_database_in_use_by_another_program_is_not_encrypted_under_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "kiosk.sqlite3"
    old_kiosk = open_store(db, encrypted=False)
    try:
        with old_kiosk.read() as s:  # holds a connection (and its WAL) open
            s.execute(select(Piece.id)).all()
            with pytest.raises(StoreError, match="n'a pas pu être chiffrée"):
                open_store(db)
            assert s.execute(select(Piece.id)).all() == []  # the old kiosk goes on working
        assert db.read_bytes()[:16] == b"SQLite format 3\x00"
        with old_kiosk.write() as s:
            s.add(Setting(key="written-after", value="1"))
    finally:
        old_kiosk.close()
    # Once the other program is gone, the next start encrypts it, the late write included.
    store = open_store(db)
    with store.read() as s:
        assert s.get(Setting, "written-after") is not None
    store.close()
    assert db.read_bytes()[:16] != b"SQLite format 3\x00"


def test_a_plain_database_from_a_newer_version_is_still_refused_untouched(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "kiosk.sqlite3"
    open_store(db, encrypted=False).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(NewerDatabaseError, match="version plus récente"):
        open_store(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not (tmp_path / "keys").exists()


def test_a_tampered_document_is_refused(tmp_path: Path) -> None:
    files = DocumentStore(tmp_path / "documents", encrypt=True)
    first = files.store_bytes(PHOTO, "image/png")
    assert files.store_bytes(PHOTO, "image/png").path == first.path  # still de-duplicated
    assert first.sha256 == hashlib.sha256(PHOTO).hexdigest() and first.size == len(PHOTO)
    other = files.store_bytes(b"%PDF-1.4 another scan", "application/pdf")
    sealed = bytearray(first.path.read_bytes())
    sealed[100] ^= 1
    first.path.write_bytes(bytes(sealed))
    with pytest.raises(DocumentError, match="modifié ou abîmé"):
        files.read(first.path)
    # Swapping two intact files is caught too: each is bound to its own name.
    first.path.write_bytes(other.path.read_bytes())
    with pytest.raises(DocumentError, match="modifié ou abîmé"):
        files.read(first.path)
    assert files.read(other.path) == b"%PDF-1.4 another scan"


def test_plain_documents_from_an_earlier_version_are_encrypted(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    service = DossierService(store, catalog)
    docs = tmp_path / "documents"
    docs.mkdir()
    digest = hashlib.sha256(PHOTO).hexdigest()
    legacy = docs / f"{digest}.png"  # how earlier versions named and wrote a file
    legacy.write_bytes(PHOTO)
    refs = [service.create("succession").reference for _ in range(2)]
    for ref in refs:  # one file shared by two dossiers
        service.add_piece(
            ref,
            "preuve_qualite_heritier",
            file_path=str(legacy),
            sha256=digest,
            mime_type="image/png",
        )
    files = DocumentStore(docs, encrypt=True)
    assert files.read(legacy) == PHOTO  # still readable before the migration
    assert encrypt_plain_documents(files, store) == 1
    assert not legacy.exists() and PHOTO[200:264] not in _raw_bytes(tmp_path / "x", docs)
    with store.read() as s:
        (path,) = set(s.scalars(select(Piece.file_path)))
    assert path is not None and path.endswith(".enc")
    attachments = Attachments(store, catalog, files)
    for ref in refs:
        (attached,) = attachments.list(ref)
        assert attachments.read(attached.path) == PHOTO
    assert encrypt_plain_documents(files, store) == 0


def test_a_queued_document_is_offered_to_the_sync_as_its_plain_bytes(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    from datetime import UTC, datetime

    from kiosk.sync.outbox import Outbox
    from tests.support import file_dossier, fill

    service = DossierService(store, catalog)
    demarche = catalog.latest("changement_adresse")
    ref = service.create(demarche.id).reference
    fill(service, ref, demarche)
    files = DocumentStore(tmp_path / "documents", encrypt=True)
    Attachments(store, catalog, files).attach(ref, "justificatif_domicile", PHOTO, "image/png")
    file_dossier(service, ref)
    outbox = Outbox(store, catalog, clock=lambda: datetime.now(UTC), read_document=files.read)
    claimed = outbox.claim()
    assert claimed is not None
    (piece,) = claimed.dossier.pieces
    # What sync/client.py sends: piece.size bytes from piece.read(piece.path), the plain scan,
    # while the file on disk holds only ciphertext.
    assert piece.size == len(PHOTO) and piece.read(piece.path) == PHOTO
    assert PHOTO not in piece.path.read_bytes()


def test_an_encryption_cut_before_the_swap_loses_nothing(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "kiosk.sqlite3"
    plain = open_store(db, encrypted=False)
    ref = DossierService(plain, catalog).create("succession").reference
    plain.close()
    # What a power cut right after the hard link (before the rename) leaves behind.
    os.link(db, tmp_path / "kiosk.sqlite3.plain-old")
    (tmp_path / "kiosk.sqlite3.encrypting").write_bytes(b"half an encrypted copy")
    store = open_store(db)
    try:
        assert DossierService(store, catalog).show(ref).summary.reference == ref
    finally:
        store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "keys",
        "kiosk.sqlite3",
        "kiosk.sqlite3.existe",
    ]
