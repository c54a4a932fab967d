"""Importing a file as a supporting document: only a regular file, opened once without following a
link, of an accepted type by its content, within the national contract's size, never stored
half read; a failed write leaves nothing behind and says the disk is full, not the file is bad.

Real files in ``tmp_path``: symlinks, a FIFO, ``/dev/zero``, a sparse file just over the limit.
What cannot be staged on a real disk (a file cut between ``fstat`` and ``read``, a full disk, a
link swapped in after the first look) goes through the ``os`` calls the store makes.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from kiosk.demarches import Catalog
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.service import DossierService
from kiosk.store import Store
from kiosk.store.documents import (
    ACCEPTED_TYPES,
    PIECE_MAX_BYTES,
    PIECE_MIN_BYTES,
    DocumentNotWritten,
    DocumentRefused,
    DocumentStore,
    content_type,
    read_piece_file,
)

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n% a scanned page\n" + b"0" * 200


@pytest.fixture
def files(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "data" / "documents")


def _png(path: Path) -> bytes:
    Image.new("RGB", (20, 10), "white").save(path, "PNG")
    return path.read_bytes()


def _stored(files: DocumentStore) -> list[str]:
    return sorted(p.name for p in files.root.iterdir()) if files.root.exists() else []


def test_the_size_limits_are_the_national_contracts() -> None:
    schema = json.loads((ROOT / "docs" / "national-api.json").read_text(encoding="utf-8"))
    taille = schema["components"]["schemas"]["Dossier"]["properties"]["pieces"]["items"][
        "properties"
    ]["taille"]
    assert (taille["minimum"], taille["maximum"]) == (PIECE_MIN_BYTES, PIECE_MAX_BYTES)


def test_a_png_named_pdf_is_stored_as_the_image_it_is(files: DocumentStore, tmp_path: Path) -> None:
    source = tmp_path / "scan.pdf"
    data = _png(source)
    stored = files.import_file(source)
    assert stored.mime_type == "image/png"
    assert files.read(stored.path) == data


def test_a_text_file_named_pdf_is_refused(files: DocumentStore, tmp_path: Path) -> None:
    source = tmp_path / "facture.pdf"
    source.write_text("Ceci n'est pas un PDF.\n", encoding="utf-8")
    with pytest.raises(DocumentRefused, match="n'est ni un PDF ni une image"):
        files.import_file(source)
    assert _stored(files) == []


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"PK\x03\x04", None),
        (b"%PDF", None),
        (b"", None),
    ],
)
def test_the_type_is_told_by_the_content(head: bytes, expected: str | None) -> None:
    assert content_type(head) == expected


def test_every_accepted_type_has_a_signature() -> None:
    heads = [b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"RIFF....WEBP"]
    assert {content_type(h) for h in heads} == ACCEPTED_TYPES


@pytest.mark.parametrize("target", ["/etc/passwd", "key"])
def test_a_pdf_symlink_to_a_system_file_or_the_kiosks_key_is_refused(
    files: DocumentStore, tmp_path: Path, target: str
) -> None:
    files.store_bytes(PDF, "application/pdf")  # the documents key now exists
    key = tmp_path / "data" / "keys" / "documents.key"
    assert key.is_file()
    link = tmp_path / "scan.pdf"
    link.symlink_to(key if target == "key" else Path(target))
    before = _stored(files)
    with pytest.raises(DocumentRefused, match="lien symbolique refusé"):
        files.import_file(link)
    assert _stored(files) == before


def test_a_link_swapped_in_after_the_first_look_is_not_followed(
    files: DocumentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is looked at, then opened: between the two it may have become a link."""
    files.store_bytes(PDF, "application/pdf")
    key = tmp_path / "data" / "keys" / "documents.key"
    link = tmp_path / "scan.pdf"
    link.symlink_to(key)
    regular = tmp_path / "innocent.pdf"
    regular.write_bytes(PDF)
    real_lstat = os.lstat
    monkeypatch.setattr(
        os, "lstat", lambda p, *a, **k: real_lstat(regular if Path(p) == link else p, *a, **k)
    )
    with pytest.raises(DocumentRefused, match="lien symbolique refusé"):
        read_piece_file(link)


def test_dev_zero_is_refused_without_reading_it(files: DocumentStore) -> None:
    with pytest.raises(DocumentRefused, match="n'est pas un fichier ordinaire"):
        files.import_file(Path("/dev/zero"))


def test_a_device_passed_off_as_regular_at_first_look_is_refused_by_its_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regular = tmp_path / "innocent.pdf"
    regular.write_bytes(PDF)
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: real_lstat(regular, *a, **k))
    with pytest.raises(DocumentRefused, match="n'est pas un fichier ordinaire"):
        read_piece_file(Path("/dev/zero"))


@pytest.mark.timeout(30)  # without O_NONBLOCK the open waits for a writer forever
def test_a_fifo_named_pdf_is_refused_at_once(
    files: DocumentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "scan.pdf"
    os.mkfifo(fifo)
    with pytest.raises(DocumentRefused, match="n'est pas un fichier ordinaire"):
        files.import_file(fifo)
    # Even when it was a regular file at the first look: the open itself does not wait.
    regular = tmp_path / "innocent.pdf"
    regular.write_bytes(PDF)
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: real_lstat(regular, *a, **k))
    with pytest.raises(DocumentRefused, match="n'est pas un fichier ordinaire"):
        files.import_file(fifo)


def test_a_directory_named_pdf_is_refused(files: DocumentStore, tmp_path: Path) -> None:
    folder = tmp_path / "scans.pdf"
    folder.mkdir()
    with pytest.raises(DocumentRefused, match="n'est pas un fichier ordinaire"):
        files.import_file(folder)


def test_an_empty_file_is_refused(files: DocumentStore, tmp_path: Path) -> None:
    empty = tmp_path / "scan.pdf"
    empty.touch()
    with pytest.raises(DocumentRefused, match="est vide"):
        files.import_file(empty)


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.write(PDF[:16])
        handle.seek(size - 1)
        handle.write(b"\n")


def test_one_byte_over_20_mb_is_refused_before_reading(
    files: DocumentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "scan.pdf"
    _sparse(big, PIECE_MAX_BYTES + 1)
    reads: list[int] = []
    real_read = os.read

    def read(fd: int, n: int) -> bytes:
        reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    with pytest.raises(DocumentRefused, match="dépasse 20 Mo"):
        files.import_file(big)
    assert reads == []
    assert _stored(files) == []


def test_exactly_20_mb_is_accepted(files: DocumentStore, tmp_path: Path) -> None:
    big = tmp_path / "scan.pdf"
    _sparse(big, PIECE_MAX_BYTES)
    stored = files.import_file(big)
    assert (stored.size, stored.mime_type) == (PIECE_MAX_BYTES, "application/pdf")


def _changing_while_read(
    path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None]
) -> None:
    """The first ``os.read`` finds the file already changed since ``fstat`` gave its size."""
    real_read = os.read
    done: list[bool] = []

    def read(fd: int, n: int) -> bytes:
        if not done:
            done.append(True)
            change(path)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)


def _append(path: Path) -> None:
    with path.open("ab") as handle:
        handle.write(b"more of the page")


@pytest.mark.parametrize(
    "change", [lambda p: os.truncate(p, 50), _append], ids=["shrinks", "grows"]
)
def test_a_file_changing_while_read_is_refused_not_stored_truncated(
    files: DocumentStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Path], None],
) -> None:
    source = tmp_path / "scan.pdf"
    source.write_bytes(PDF)
    _changing_while_read(source, monkeypatch, change)
    with pytest.raises(DocumentRefused, match="a changé pendant la lecture"):
        files.import_file(source)
    assert _stored(files) == []


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_a_full_disk_leaves_no_part_file_and_says_so(
    files: DocumentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    source = tmp_path / "scan.pdf"
    source.write_bytes(PDF)
    files.store_bytes(b"%PDF-1.4 an earlier scan", "application/pdf")  # the key is there
    before = _stored(files)

    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, call, full)
    with pytest.raises(DocumentNotWritten) as refused:
        files.import_file(source)
    message = str(refused.value)
    assert "Disque plein" in message and str(files.root) in message
    assert "scan.pdf" not in message  # the source file is fine: it is not blamed
    assert "Disk full" in refused.value.localized("en")
    monkeypatch.undo()
    assert _stored(files) == before  # no .part, no half-written document


def test_any_failed_write_leaves_no_part_file(
    files: DocumentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    files.store_bytes(b"%PDF-1.4 an earlier scan", "application/pdf")  # the key is there
    before = _stored(files)

    def refused(*_args: object) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "replace", refused)
    with pytest.raises(DocumentNotWritten, match="n'a pas pu être enregistré"):
        files.store_bytes(PDF, "application/pdf")
    monkeypatch.undo()
    assert _stored(files) == before


# -- through the use case: a refused file records nothing ------------------------------------------


def _dossier(store: Store, catalog: Catalog) -> str:
    return DossierService(store, catalog).create("changement_adresse").reference


def test_a_refused_import_records_no_piece(
    store: Store, catalog: Catalog, files: DocumentStore, tmp_path: Path
) -> None:
    attachments = Attachments(store, catalog, files)
    ref = _dossier(store, catalog)
    empty = tmp_path / "justificatif.pdf"
    empty.touch()
    with pytest.raises(DocumentRefused, match="est vide"):
        attachments.import_file(ref, "justificatif_domicile", empty)
    assert attachments.list(ref) == []
    source = tmp_path / "justificatif.pdf"
    data = _png(source)
    stored = attachments.import_file(ref, "justificatif_domicile", source)
    (attached,) = attachments.list(ref)
    assert attached.mime_type == "image/png" and attachments.read(stored.path) == data


def test_attached_bytes_are_held_to_the_same_size_limits(
    store: Store, catalog: Catalog, files: DocumentStore
) -> None:
    attachments = Attachments(store, catalog, files)
    ref = _dossier(store, catalog)
    with pytest.raises(DocumentRefused, match="est vide"):
        attachments.attach(ref, "justificatif_domicile", b"", "application/pdf")
    with pytest.raises(DocumentRefused, match="dépasse 20 Mo"):
        attachments.attach(
            ref, "justificatif_domicile", PDF + bytes(PIECE_MAX_BYTES), "application/pdf"
        )
    assert attachments.list(ref) == [] and _stored(files) == []
