"""A damaged, emptied, read-only or full store, as support staff meet them on a real disk.

Real files throughout: bytes flipped and files cut with ordinary file operations, a read-only
bind mount and a small tmpfs for a full disk (both need the root the test machine runs as; the
tests say so and skip elsewhere). Each case is reached through the ``kiosk`` command as an agent
types it (``app.cli.main`` in this process), and the store's own API.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.container import build_ui
from app.settings import Settings
from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.security.audit import AuditLog
from kiosk.store import open_store
from kiosk.store.cipher import PAGE_SIZE
from kiosk.store.engine import StoreDamaged, StoreFull, StoreLost, StoreReadOnly, marker_file

TRACEBACK = "Traceback"


def kiosk(data: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``kiosk --data-dir DATA ARGS`` and return its exit code and everything it printed."""
    code = main(["--data-dir", str(data), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data folder with three dossiers, closed cleanly (everything in the main file)."""
    folder = tmp_path / "data"
    for _ in range(3):
        code, out = kiosk(folder, "dossier", "new", "permis_renouvellement", capsys=capsys)
        assert code == 0, out
    return folder


def _references(data: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    import json

    code, out = kiosk(data, "--json", "dossier", "list", capsys=capsys)
    assert code == 0, out
    return sorted(row["reference"] for row in json.loads(out))


def _flip(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("un octet changé au milieu", "page"),
        ("un octet changé en page 1", "page 1"),
        ("coupé au milieu d'une page", "invalid size"),
        ("coupé à la limite d'une page", "malformed"),
    ],
)
def test_a_damaged_database_is_refused_at_opening_and_never_written(
    data: Path, capsys: pytest.CaptureFixture[str], damage: str, named: str
) -> None:
    db = data / "kiosk.sqlite3"
    pages = db.stat().st_size // PAGE_SIZE
    assert pages > 10
    if damage == "un octet changé au milieu":
        _flip(db, (pages // 2) * PAGE_SIZE + 100)
    elif damage == "un octet changé en page 1":
        _flip(db, 2000)
    elif damage == "coupé au milieu d'une page":
        with db.open("r+b") as handle:
            handle.truncate((pages - 2) * PAGE_SIZE + 1000)
    else:
        with db.open("r+b") as handle:
            handle.truncate((pages - 2) * PAGE_SIZE)
    before = _digest(db)
    for command in (["dossier", "list"], ["audit", "verify"], ["dossier", "new", "permis_vol"]):
        code, out = kiosk(data, *command, capsys=capsys)
        assert code != 0
        assert "est endommagée" in out and named in out, out
        assert "intact" not in out and "Clé de chiffrement incorrecte" not in out
        assert TRACEBACK not in out
    with pytest.raises(StoreDamaged):
        open_store(db)
    assert _digest(db) == before  # never written to


def test_a_wrong_key_is_told_apart_from_a_damaged_file(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = data / "keys" / "db.key"
    key.write_text("00" * 32 + "\n", encoding="ascii")
    code, out = kiosk(data, "dossier", "list", capsys=capsys)
    assert code != 0
    assert "Clé de chiffrement incorrecte" in out and "endommagée" not in out


def test_damage_found_after_the_opening_stops_every_write(data: Path, catalog: Catalog) -> None:

    db = data / "kiosk.sqlite3"
    store = open_store(db)
    try:
        _flip(db, (db.stat().st_size // PAGE_SIZE // 2) * PAGE_SIZE + 100)
        # Audit verification reads every page first: the chain of a damaged file proves nothing.
        with pytest.raises(StoreDamaged, match="endommagée"):
            AuditLog(store).verify()
        before = _digest(db)
        with pytest.raises(StoreDamaged):
            DossierService(store, catalog).create("permis_vol")
        assert _digest(db) == before
    finally:
        store.close()


def test_an_emptied_or_missing_database_is_refused_not_recreated(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = data / "kiosk.sqlite3"
    assert marker_file(db).exists()
    db.write_bytes(b"")
    code, out = kiosk(data, "audit", "verify", capsys=capsys)
    assert code != 0 and "absente ou vide" in out and "intact" not in out
    assert db.stat().st_size == 0  # not recreated with a fresh audit chain
    db.unlink()
    code, out = kiosk(data, "dossier", "list", capsys=capsys)
    assert code != 0 and "absente ou vide" in out
    assert not db.exists()


def test_a_database_removed_beside_stored_documents_is_refused(tmp_path: Path) -> None:
    # A kiosk of an earlier version left no marker; its documents (or its key, in its default
    # place) are the proof that a store existed.
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "piece.bin").write_bytes(b"x")
    with pytest.raises(StoreLost, match="absente ou vide"):
        open_store(tmp_path / "kiosk.sqlite3", evidence=[documents])
    assert not (tmp_path / "kiosk.sqlite3").exists()


def test_a_first_start_creates_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = kiosk(tmp_path / "neuf", "dossier", "list", capsys=capsys)
    assert code == 0 and "Aucun dossier" in out
    assert marker_file(tmp_path / "neuf" / "kiosk.sqlite3").exists()


def _answer_once(db: Path, catalog: Catalog, reference: str) -> None:
    store = open_store(db)
    try:
        DossierService(store, catalog).answer(reference, "usager.nom", "DUPONT")
    finally:
        store.close()


@contextlib.contextmanager
def _mounted(*args: str, target: Path) -> Iterator[Path]:
    result = subprocess.run(["mount", *args, str(target)], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"mount impossible ici ({result.stderr.decode().strip()}): root requis")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_read_only_data_folder_can_still_be_read(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    references = _references(data, capsys)
    view = tmp_path / "lecture-seule"
    view.mkdir()
    with _mounted("--bind", "-o", "ro", str(data), target=view):
        code, out = kiosk(view, "dossier", "list", capsys=capsys)
        assert code == 0 and all(ref in out for ref in references), out
        code, out = kiosk(view, "dossier", "show", references[0], capsys=capsys)
        assert code == 0 and references[0] in out, out
        code, out = kiosk(view, "audit", "verify", capsys=capsys)
        assert code == 0 and "intact" in out, out
        code, out = kiosk(view, "dossier", "new", "permis_vol", capsys=capsys)
        assert code != 0 and "lecture seule" in out and TRACEBACK not in out, out
        assert "Clé de chiffrement incorrecte" not in out
        # The touchscreen says it on its sign-in screen, not at the first tap.
        with pytest.raises(StoreReadOnly, match="ne peut pas démarrer"):
            build_ui(Settings(data_dir=view), sync=False)
    assert _references(data, capsys) == references


def test_a_read_only_folder_with_commits_left_in_the_wal_says_so(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A kiosk cut off mid-session leaves its last commits in the -wal; read-only, they could
    # only be read through a shared-memory file nobody can create: said, not half-shown.
    db = data / "kiosk.sqlite3"
    (data / "kiosk.sqlite3-wal").write_bytes(b"\0" * 64)
    view = tmp_path / "lecture-seule"
    view.mkdir()
    with _mounted("--bind", "-o", "ro", str(data), target=view):
        code, out = kiosk(view, "dossier", "list", capsys=capsys)
    assert code != 0 and "kiosk.sqlite3-wal" in out and "Rien n'a été modifié" in out, out
    assert TRACEBACK not in out
    assert db.exists()


def test_a_full_disk_is_named_and_loses_nothing(
    tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = tmp_path / "disque"
    disk.mkdir()
    with _mounted("-t", "tmpfs", "-o", "size=3m", "tmpfs", target=disk):
        data = disk / "data"
        code, out = kiosk(data, "dossier", "new", "permis_renouvellement", capsys=capsys)
        assert code == 0, out
        references = _references(data, capsys)
        filler = disk / "remplissage"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        for command in (
            ["dossier", "new", "permis_vol"],
            ["dossier", "answer", references[0], "usager.nom", "DUPONT"],
        ):
            code, out = kiosk(data, *command, capsys=capsys)
            assert code != 0
            assert "Disque plein" in out, out
            assert TRACEBACK not in out and "Clé de chiffrement incorrecte" not in out
            assert "endommagée" not in out
        # On the screen, the person reads it in their language too.
        with pytest.raises(StoreFull) as caught:  # at the opening or at the answer
            _answer_once(data / "kiosk.sqlite3", catalog, references[0])
        assert caught.value.localized("en").startswith("Disk full")
        assert caught.value.localized("ar").startswith("القرص ممتلئ")
        # A first start on a full disk: the key cannot be written, and that is what is said.
        code, out = kiosk(disk / "autre", "dossier", "list", capsys=capsys)
        assert code != 0 and "disque plein" in out.lower() and TRACEBACK not in out, out
        filler.unlink()
        assert _references(data, capsys) == references
        code, out = kiosk(data, "audit", "verify", capsys=capsys)
        assert code == 0 and "intact" in out, out
