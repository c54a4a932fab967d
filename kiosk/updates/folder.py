"""Where the bundles of one kind are installed, all or nothing: ``<données>/paquets/<type>/``.

::

    <données>/paquets/demarches/
        en-usage.json     which folder is in use, its serial, key, dates: the commit point
        7/                the files in use (definitions, i18n/…), a complete, checked set
        6/                the one before, kept for a reader still on it
        .8.part/          being written; a power cut leaves it, the next install removes it

A new bundle is written into a folder of its own beside the one in use: the files of the one
in use first (linked, not copied: nothing is ever written through a link), so that a version
once installed stays for the dossiers pinned to it; then the bundle's files, except those the
kiosk ships the same; then the kind's strict loader runs over the whole folder. Only then is
the folder renamed into place and ``en-usage.json`` replaced by a renamed temporary file, each
step flushed to disk: a kiosk stopped at any point reads either the old set or the new one,
never a mix, and a refused bundle leaves nothing behind. Installers of several processes take
turns (a lock file).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.updates.bundle import BundleKind, BundleRefused, Manifest

__all__ = ["POINTER", "BundleFolder", "Installed"]

log = logging.getLogger(__name__)

POINTER = "en-usage.json"
_LOCK = ".verrou"


@dataclass(frozen=True)
class Installed:
    """The bundle in use of one kind."""

    serial: int
    folder: Path
    issued_at: str
    installed_at: str
    key_id: str

    def to_json(self) -> dict[str, object]:
        """What ``kiosk sync status --json`` shows of it."""
        return {
            "serie": self.serial,
            "emis_le": self.issued_at,
            "installe_le": self.installed_at,
            "cle": self.key_id,
        }


class BundleFolder:
    """The installed bundles of one kind. Reading is safe from any thread or process; one
    installer at a time (a lock file)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # ------------------------------------------------------------------ reading

    def installed(self) -> Installed | None:
        """The bundle in use, or ``None`` (none yet, or a pointer that cannot be read)."""
        pointer = self.root / POINTER
        try:
            data = json.loads(pointer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("%s illisible, paquets installés ignorés : %s", pointer, exc)
            return None
        try:
            serial = data["serie"]
            if not isinstance(serial, int) or isinstance(serial, bool) or serial < 1:
                raise TypeError(serial)
            folder = self.root / str(serial)
            found = Installed(
                serial, folder, str(data["emis_le"]), str(data["installe_le"]), str(data["cle"])
            )
        except (KeyError, TypeError):
            log.warning("%s mal formé, paquets installés ignorés", pointer)
            return None
        if not folder.is_dir():
            log.warning("%s nomme un dossier absent, paquets installés ignorés", pointer)
            return None
        return found

    def current(self) -> Path | None:
        """The folder of the files in use (``None``: only the shipped ones)."""
        found = self.installed()
        return None if found is None else found.folder

    def serial(self) -> int:
        """The serial in use (0: none). With a pointer that cannot be read, the highest
        complete folder's: an older bundle replayed must stay refused."""
        found = self.installed()
        if found is not None:
            return found.serial
        return max(self._generations(), default=0)

    def stamp(self) -> object:
        """Changes whenever another bundle comes into use (one ``stat``): readers reload then."""
        try:
            info = (self.root / POINTER).stat()
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _generations(self) -> list[int]:
        try:
            with os.scandir(self.root) as entries:
                return [int(e.name) for e in entries if e.name.isdigit() and e.is_dir()]
        except OSError:
            return []

    # ------------------------------------------------------------------ installing

    def install(
        self,
        kind: BundleKind,
        manifest: Manifest,
        files: Mapping[str, bytes],
        *,
        now: datetime,
    ) -> Installed:
        """Write the verified bundle apart, check it with the kind's strict loader, then put it
        in use atomically.

        Raises:
            BundleRefused: the loader refuses a file, or a serial not above the one in use.
            OSError: the disk failed (full, read-only, cut): the set in use is unchanged.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked():
            before = self.installed()
            if manifest.serial <= self.serial():
                raise BundleRefused(
                    f"paquet {manifest.kind} n° {manifest.serial} : la borne a déjà le n°"
                    f" {self.serial()}"
                )
            keep = {before.folder.name} if before is not None else set()
            self._sweep(keep)
            staging = self.root / f".{manifest.serial}.part"
            final = self.root / str(manifest.serial)
            try:
                staging.mkdir()
                if before is not None:
                    _link_tree(before.folder, staging)
                for item in manifest.files:
                    _place(kind, staging, item.name, files[item.name])
                try:
                    kind.check(staging, before.folder if before is not None else None)
                except BundleRefused as exc:
                    raise BundleRefused(
                        f"paquet {manifest.kind} n° {manifest.serial} : {exc}"
                    ) from None
                _sync_tree(staging)
                if final.exists():  # a folder left by an install cut before its commit
                    shutil.rmtree(final)
                staging.replace(final)
                _sync_dir(self.root)
                installed = Installed(
                    manifest.serial,
                    final,
                    manifest.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    now.isoformat(),
                    manifest.key_id,
                )
                self._commit(installed)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            # The one before stays for a reader that read the pointer just before the commit.
            self._sweep({final.name, *keep})
        log.info("paquet %s n° %s installé", manifest.kind, manifest.serial)
        return installed

    def _commit(self, installed: Installed) -> None:
        data = {
            "serie": installed.serial,
            "emis_le": installed.issued_at,
            "installe_le": installed.installed_at,
            "cle": installed.key_id,
        }
        handle, temp = tempfile.mkstemp(prefix=".en-usage-", suffix=".part", dir=self.root)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            Path(temp).replace(self.root / POINTER)  # the commit: atomic on one file system
        finally:
            Path(temp).unlink(missing_ok=True)
        _sync_dir(self.root)

    def _sweep(self, keep: set[str]) -> None:
        """Remove what no reader uses: cut installs and folders older than those kept."""
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return
        for entry in entries:
            stale = entry.name.endswith(".part") or (
                entry.name.isdigit() and entry.name not in keep
            )
            if not stale:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.root / _LOCK).open("a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _link_tree(source: Path, target: Path) -> None:
    """Every file of ``source`` at the same place under ``target``, as hard links (copies
    where the file system has none)."""
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def _place(kind: BundleKind, staging: Path, name: str, content: bytes) -> None:
    relative = kind.place(name)
    target = staging / relative
    if kind.shipped is not None and _same(kind.shipped / relative, content):
        target.unlink(missing_ok=True)  # the kiosk ships it as it is: read from there
        return
    if target.parent != staging:
        target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)  # a link to the set in use: replaced, never written through
    with target.open("xb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())


def _same(path: Path, content: bytes) -> bool:
    try:
        return path.stat().st_size == len(content) and path.read_bytes() == content
    except OSError:
        return False


def _sync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir():
            _sync_dir(path)
    _sync_dir(folder)


def _sync_dir(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
