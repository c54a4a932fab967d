"""The scanner's folder is written by others: the kiosk lists and reads only regular files, never
through a link, typed by content, within the national size limits (no card reader needed). It
holds people's papers: an attached scan is deleted, the session's scans alone are offered, and the
ones never attached are swept."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
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


def _page(path: Path) -> Path:
    Image.new("RGB", (20, 10), "white").save(path, "PNG")
    return path


def test_an_attached_scan_is_deleted_but_not_a_new_page_under_its_name(tmp_path: Path) -> None:
    source = FolderSource(tmp_path)
    page = _page(tmp_path / "scan.png")
    (listed,) = source.files()
    source.remove(listed)
    assert not page.exists()
    source.remove(listed)  # already gone: nothing to say
    page.write_bytes(b"%PDF-1.4 the next page, saved under the same name")
    source.remove(listed)  # another size: a new scan, left to be listed
    assert page.exists()


def test_the_sweep_deletes_scans_never_attached_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "numerisations"
    folder.mkdir()
    sample = _page(folder / "exemple-formation.png")
    _page(folder / "oubliee.png")
    (folder / "gros.pdf").write_bytes(b"%PDF-" + b"x" * (PIECE_MAX_BYTES + 1))  # too big to join
    notes = folder / "notes.txt"
    notes.write_text("pas une numérisation", encoding="utf-8")
    outside = _page(tmp_path / "ailleurs.png")
    (folder / "lien.png").symlink_to(outside)
    source = FolderSource(folder, keep=[sample])

    # The housekeeping's age: a scan in the folder since after the cut-off stays.
    since = datetime.fromtimestamp((folder / "oubliee.png").stat().st_ctime, UTC)
    assert source.sweep(since - timedelta(hours=1)) == 0
    assert source.sweep(since + timedelta(hours=1)) == 2
    assert sorted(p.name for p in folder.iterdir()) == [
        "exemple-formation.png",
        "lien.png",
        "notes.txt",
    ]
    assert outside.exists()  # a link is never followed
    assert source.sweep() == 0


def test_only_the_scans_that_arrived_in_the_session_are_offered(tmp_path: Path) -> None:
    before = _page(tmp_path / "precedent.png")
    kept = _page(tmp_path / "exemple.png")
    since = datetime.fromtimestamp(before.stat().st_ctime + 0.001, UTC)  # just after it came
    mine = _page(tmp_path / "le-mien.png")
    later = since.timestamp() + 60  # written a minute into the session
    os.utime(mine, (later, later))
    source = FolderSource(tmp_path, keep=[kept])
    assert {f.path.name for f in source.files(since=since)} == {"le-mien.png", "exemple.png"}
    assert {f.path.name for f in source.files()} == {"le-mien.png", "exemple.png", "precedent.png"}
