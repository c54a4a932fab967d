"""A verified bundle is installed all or nothing: written apart with the files in use, checked
whole by the kind's strict loader, then put in use by one rename. A refused one and a power cut
at any rename leave the set in use as it was; versions once installed stay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.updates import BundleFolder, BundleKind, BundleRefused, Manifest, ManifestFile
from kiosk.updates.folder import POINTER

NOW = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)


def kind(shipped: Path | None = None) -> BundleKind:
    """Text files; a translation-like ``*.en.txt`` goes into ``i18n/``; the loader refuses a
    file that says « mauvais » and a change to a file already installed."""

    def check(new: Path, previous: Path | None) -> None:
        for path in new.rglob("*.txt"):
            if b"mauvais" in path.read_bytes():
                raise BundleRefused(f"{path.name} : contenu refusé")
            before = previous / path.relative_to(new) if previous else None
            fixed = before is not None and before.is_file() and b"fixe" in before.read_bytes()
            if fixed and before is not None and before.read_bytes() != path.read_bytes():
                raise BundleRefused(f"{path.name} : une version publiée ne change pas")

    return BundleKind(
        name="demarches",
        label="essais",
        accepts=lambda name: name.endswith(".txt"),
        place=lambda name: f"i18n/{name}" if name.endswith(".en.txt") else name,
        check=check,
        shipped=shipped,
    )


def manifest(serial: int, files: dict[str, bytes]) -> Manifest:
    return Manifest(
        "demarches",
        serial,
        NOW,
        tuple(ManifestFile(n, len(c), hashlib.sha256(c).hexdigest()) for n, c in files.items()),
        "0123456789abcdef",
    )


def install(folder: BundleFolder, serial: int, files: dict[str, bytes], **kw: object) -> Path:
    installed = folder.install(kind(**kw), manifest(serial, files), files, now=NOW)  # type: ignore[arg-type]
    return installed.folder


def tree(folder: Path | None) -> dict[str, bytes]:
    assert folder is not None
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_bundle_is_put_in_use_with_every_version_installed_before(tmp_path: Path) -> None:
    folder = BundleFolder(tmp_path / "demarches")
    assert (folder.serial(), folder.current()) == (0, None)
    install(folder, 1, {"a.v1.txt": b"un", "a.v1.en.txt": b"one"})
    assert tree(folder.current()) == {"a.v1.txt": b"un", "i18n/a.v1.en.txt": b"one"}
    pointer = json.loads((tmp_path / "demarches" / POINTER).read_text(encoding="utf-8"))
    assert pointer == {
        "serie": 1,
        "emis_le": "2027-06-01T08:00:00Z",
        "installe_le": NOW.isoformat(),
        "cle": "0123456789abcdef",
    }
    # The next bundle does not carry a.v1: it stays, for the dossiers pinned to it.
    install(folder, 2, {"a.v2.txt": b"deux"})
    assert folder.serial() == 2
    assert tree(folder.current()) == {
        "a.v1.txt": b"un",
        "i18n/a.v1.en.txt": b"one",
        "a.v2.txt": b"deux",
    }
    # The set before is kept for a reader still on it; the one before that goes.
    install(folder, 3, {"a.v1.en.txt": b"one, corrected"})
    assert sorted(p.name for p in (tmp_path / "demarches").iterdir() if p.is_dir()) == ["2", "3"]
    assert tree(tmp_path / "demarches" / "2")["i18n/a.v1.en.txt"] == b"one"  # never written through
    assert tree(folder.current())["i18n/a.v1.en.txt"] == b"one, corrected"


def test_a_file_the_kiosk_ships_the_same_is_not_written_again(tmp_path: Path) -> None:
    shipped = tmp_path / "livrees"
    (shipped / "i18n").mkdir(parents=True)
    (shipped / "a.v1.txt").write_bytes(b"un")
    (shipped / "i18n" / "a.v1.en.txt").write_bytes(b"one")
    folder = BundleFolder(tmp_path / "demarches")
    install(
        folder, 1, {"a.v1.txt": b"un", "a.v1.en.txt": b"one", "a.v2.txt": b"deux"}, shipped=shipped
    )
    assert tree(folder.current()) == {"a.v2.txt": b"deux"}


def _state(folder: BundleFolder) -> tuple[int, dict[str, bytes]]:
    return folder.serial(), tree(folder.current())


def test_a_bundle_the_loader_refuses_leaves_nothing(tmp_path: Path) -> None:
    folder = BundleFolder(tmp_path / "demarches")
    install(folder, 1, {"a.v1.txt": b"un fixe"})
    before = _state(folder)
    with pytest.raises(
        BundleRefused, match=r"^paquet demarches n° 2 : b\.v1\.txt : contenu refusé$"
    ):
        install(folder, 2, {"a.v1.txt": b"un fixe", "b.v1.txt": b"mauvais"})
    with pytest.raises(BundleRefused, match="une version publiée ne change pas"):
        install(folder, 2, {"a.v1.txt": b"un, autrement"})
    assert _state(folder) == before
    assert sorted(p.name for p in (tmp_path / "demarches").iterdir()) == [".verrou", "1", POINTER]
    with pytest.raises(BundleRefused, match="la borne a déjà le n° 1"):
        install(folder, 1, {"c.v1.txt": b"trois"})


@pytest.mark.parametrize("cut", ["dossier", "pointeur"])
def test_a_power_cut_at_either_rename_leaves_the_set_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: str
) -> None:
    folder = BundleFolder(tmp_path / "demarches")
    install(folder, 1, {"a.v1.txt": b"un"})
    before = _state(folder)
    real: Callable[[Path, Path], Path] = Path.replace

    def cut_here(self: Path, target: Path) -> Path:
        if (cut == "pointeur") == (Path(target).name == POINTER):
            raise OSError(5, "Input/output error")  # the machine stopped here
        return real(self, target)

    monkeypatch.setattr(Path, "replace", cut_here)
    with pytest.raises(OSError, match="Input/output error"):
        install(folder, 2, {"a.v2.txt": b"deux"})
    monkeypatch.undo()
    assert _state(folder) == before
    assert BundleFolder(tmp_path / "demarches").serial() == 1  # after a restart too
    # The next try installs it, and sweeps what the cut left.
    install(folder, 2, {"a.v2.txt": b"deux"})
    assert _state(folder) == (2, {"a.v1.txt": b"un", "a.v2.txt": b"deux"})
    assert not [p for p in (tmp_path / "demarches").iterdir() if p.name.endswith(".part")]


def test_an_install_cut_before_its_commit_is_swept_at_the_next(tmp_path: Path) -> None:
    folder = BundleFolder(tmp_path / "demarches")
    install(folder, 1, {"a.v1.txt": b"un"})
    left = tmp_path / "demarches" / ".2.part"
    left.mkdir()
    (left / "a.v2.txt").write_bytes(b"moitie")
    (tmp_path / "demarches" / "2").mkdir()  # renamed, the pointer never written
    assert folder.serial() == 1
    install(folder, 2, {"a.v2.txt": b"deux"})
    assert tree(folder.current())["a.v2.txt"] == b"deux"
    assert not left.exists()


def test_an_unreadable_pointer_keeps_older_bundles_refused(tmp_path: Path) -> None:
    folder = BundleFolder(tmp_path / "demarches")
    install(folder, 1, {"a.v1.txt": b"un"})
    install(folder, 2, {"a.v2.txt": b"deux"})
    (tmp_path / "demarches" / POINTER).write_text("{coupé", encoding="utf-8")
    assert folder.current() is None  # the shipped files only
    assert folder.serial() == 2  # the newest complete set: bundle n° 1 replayed stays refused
