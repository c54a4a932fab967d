"""The scanner's folder is written by others: the kiosk lists and reads only regular files, never
through a link, typed by content, within the national size limits (no card reader needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from devices.capture import FolderSource
from kiosk.store.documents import PIECE_MAX_BYTES, DocumentRefused


def test_only_real_scans_are_offered_and_by_their_content(tmp_path: Path) -> None:
    folder = tmp_path / "numerisations"
    folder.mkdir()
    Image.new("RGB", (20, 10), "white").save(folder / "photo.pdf", "PNG")  # misnamed, still a PNG
    (folder / "page.pdf").write_bytes(b"%PDF-1.4 a scanned page")
    (folder / "notes.pdf").write_text("pas un PDF", encoding="utf-8")
    (folder / "vide.pdf").touch()
    with (folder / "video.pdf").open("wb") as handle:
        handle.write(b"%PDF-")
        handle.seek(PIECE_MAX_BYTES)
        handle.write(b"\n")  # one byte over the limit
    os.mkfifo(folder / "tube.pdf")
    (folder / "cle.pdf").symlink_to(tmp_path / "secret.key")
    (tmp_path / "secret.key").write_bytes(b"%PDF-" + b"k" * 32)
    (folder / "dossier.pdf").mkdir()

    offered = {f.path.name: f.mime_type for f in FolderSource(folder).files()}
    assert offered == {"photo.pdf": "image/png", "page.pdf": "application/pdf"}


def test_a_scan_changed_since_it_was_listed_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "page.pdf"
    page.write_bytes(b"%PDF-1.4 a scanned page")
    source = FolderSource(tmp_path)
    (listed,) = source.files()
    assert source.read(listed) == b"%PDF-1.4 a scanned page"
    page.write_bytes(b"%PDF-1.4 a scanned page, and another one")  # the scanner went on
    with pytest.raises(DocumentRefused, match="a changé pendant la lecture"):
        source.read(listed)
    page.unlink()
    page.symlink_to(tmp_path / "elsewhere.pdf")
    (tmp_path / "elsewhere.pdf").write_bytes(b"%PDF-1.4 a scanned page")
    with pytest.raises(DocumentRefused, match="lien symbolique refusé"):
        source.read(listed)
