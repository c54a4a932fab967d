"""Where scanned documents come from: the folder a scanner (or a phone, or a USB key) saves into.

Flatbed and sheet-fed scanners at counters save PDF or image files into a folder; the kiosk lists
that folder, newest first, and the agent picks the scan. A camera photographs a page instead:
``devices/camera/``.

The folder is written by others (a USB key, a phone, anyone with the scanner's share): it is
read like any file offered as a document (``kiosk.store.documents.read_piece_file``). Only
regular files within the national size limits are listed, never through a link, and a file
is read once, typed by its content, and refused if it changed since it was listed.

The folder holds people's papers in plain text, so nothing of a person is left in it: a scan
attached to a dossier is deleted once its encrypted copy is stored (:meth:`FolderSource.remove`),
the picker offers only the scans that arrived since the dossier was opened at the counter
(``since``), and :meth:`FolderSource.sweep` deletes the scans never attached (at the end of each
session, and by the housekeeping, ``app/housekeeping.py``). The folder must be the scanner's
own: only files whose first bytes are a PDF or an image are ever deleted, but all of them.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from kiosk.ports.devices import ScannedFile
from kiosk.store.documents import (
    PIECE_MAX_BYTES,
    PIECE_MIN_BYTES,
    changed_while_read,
    content_type,
    piece_type,
    read_piece_file,
)
from kiosk.store.keys import fsync_dir

log = logging.getLogger(__name__)


def _arrived(info: os.stat_result) -> float:
    """When a file came into the folder: its change time (set by the system when the file is
    created, written or moved in, never back-dated by a copy that keeps the scan's own date),
    or its modification time if that is later."""
    return max(info.st_mtime, info.st_ctime)


class FolderSource:
    """The scanner's output folder."""

    def __init__(self, folder: Path, *, keep: Iterable[Path] = ()) -> None:
        """``keep``: files always offered and never deleted (training mode's made-up scans)."""
        self.folder = folder
        self._keep = frozenset(path.name for path in keep if path.parent == folder)

    def files(self, limit: int = 24, *, since: datetime | None = None) -> list[ScannedFile]:
        """Accepted files, most recent first (an empty list if the folder does not exist).

        A file's type is told by its first bytes; a link, anything but a regular file, and a
        file the national service would refuse for its size or type are left out. With
        ``since``, so is a file that arrived before it: the scans left by an earlier session
        are not offered to the next person.
        """
        if not self.folder.is_dir():
            return []
        after = since.timestamp() if since is not None else None
        candidates = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)  # a link is not followed, not listed
                if (
                    stat.S_ISREG(info.st_mode)
                    and PIECE_MIN_BYTES <= info.st_size <= PIECE_MAX_BYTES
                    and (after is None or _arrived(info) > after or entry.name in self._keep)
                ):
                    candidates.append((info.st_mtime, Path(entry.path), info.st_size))
        candidates.sort(key=lambda found: found[0], reverse=True)
        found: list[ScannedFile] = []
        for _, path, size in candidates:
            if len(found) == limit:
                break
            mime_type = piece_type(path)
            if mime_type is not None:
                found.append(ScannedFile(path, mime_type, size))
        return found

    def read(self, scanned: ScannedFile) -> bytes:
        """The file's bytes, read as :func:`~kiosk.store.documents.read_piece_file` reads.

        Raises:
            DocumentRefused: the file is no longer one the kiosk takes, or is no longer the
                one listed (another type or size).
            OSError: it cannot be read (removed since it was listed…).
        """
        data, mime_type = read_piece_file(scanned.path)
        if (mime_type, len(data)) != (scanned.mime_type, scanned.size):
            raise changed_while_read(scanned.path.name)
        return data

    def remove(self, scanned: ScannedFile) -> None:
        """Delete a scan attached to a dossier (call it once the encrypted copy is stored).

        The name is unlinked and the folder synced, so the deletion survives a power cut; the
        bytes are not overwritten (on a journaling or flash disk an overwrite does not reach
        them either): the folder should be on the kiosk's encrypted disk. A name that is now
        a link, or a file of another size (the scanner wrote a new page under the same name),
        is left as it is; a made-up scan of training mode stays.

        Raises:
            OSError: the file could not be deleted (read-only folder, not allowed…).
        """
        path = scanned.path
        if path.parent != self.folder or path.name in self._keep:
            return
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(info.st_mode) or info.st_size != scanned.size:
            return
        path.unlink(missing_ok=True)
        fsync_dir(self.folder)

    def sweep(self, before: datetime | None = None) -> int:
        """Delete the scans never attached (an attached one is already gone): all of them, or
        with ``before`` those in the folder since before it; returns how many were deleted.

        The age is the file's change time, which the system sets (a scanner with its clock
        ahead, or a copy keeping a date to come, cannot make a scan look newer and stay).
        Only regular files whose first bytes are a PDF or an image are deleted (whatever their
        size: a scan too large to attach is still someone's papers), never through a link; a
        file that cannot be deleted is logged and left for the next sweep.
        """
        if not self.folder.is_dir():
            return 0
        until = before.timestamp() if before is not None else None
        deleted = 0
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.name in self._keep:
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                    if not stat.S_ISREG(info.st_mode) or (
                        until is not None and info.st_ctime >= until
                    ):
                        continue
                    path = Path(entry.path)
                    if not _is_scan(path):
                        continue
                    path.unlink()
                except OSError as exc:
                    log.warning("numérisation non supprimée (%s) : %s", entry.name, exc.strerror)
                    continue
                deleted += 1
        if deleted:
            fsync_dir(self.folder)
        return deleted


def _is_scan(path: Path) -> bool:
    """Whether the regular file ``path`` starts like a PDF or an image (opened without
    following a link and without waiting on a FIFO)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        return content_type(os.read(fd, 16)) is not None
    finally:
        os.close(fd)


def write_sample_scans(folder: Path) -> list[Path]:
    """Training mode: a few made-up « scans » (drawn here, no real person's papers).

    Returns their paths (the simulated camera of training mode films the same pages).
    """
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    samples = {
        "exemple-carte-grise.png": ("CERTIFICAT D'IMMATRICULATION", "EXEMPLE — FORMATION"),
        "exemple-attestation-notaire.png": ("ATTESTATION DE NOTAIRE", "EXEMPLE — FORMATION"),
        "exemple-justificatif-domicile.png": ("FACTURE D'ÉLECTRICITÉ", "EXEMPLE — FORMATION"),
    }
    paths = []
    for name, (title, mark) in samples.items():
        path = folder / name
        paths.append(path)
        if path.exists():
            continue
        image = Image.new("RGB", (620, 877), "white")
        draw = ImageDraw.Draw(image)
        draw.rectangle((20, 20, 600, 857), outline="#000091", width=4)
        draw.text((50, 60), title, fill="black")
        for line in range(12):
            draw.line((50, 140 + line * 40, 560, 140 + line * 40), fill="#B0B0C0", width=2)
        draw.text((50, 780), mark, fill="#B3001B")
        image.save(path, "PNG")
    return paths
