"""Where scanned documents come from: the folder a scanner (or a phone, or a USB key) saves into.

Flatbed and sheet-fed scanners at counters save PDF or image files into a folder; the kiosk lists
that folder, newest first, and the agent picks the scan. A camera photographs a page instead:
``devices/camera/``.

The folder is written by others (a USB key, a phone, anyone with the scanner's share): it is
read like any file offered as a document (``kiosk.store.documents.read_piece_file``). Only
regular files within the national size limits are listed, never through a link, and a file
is read once, typed by its content, and refused if it changed since it was listed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kiosk.ports.devices import ScannedFile
from kiosk.store.documents import (
    PIECE_MAX_BYTES,
    PIECE_MIN_BYTES,
    changed_while_read,
    piece_type,
    read_piece_file,
)


class FolderSource:
    """The scanner's output folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def files(self, limit: int = 24) -> list[ScannedFile]:
        """Accepted files, most recent first (an empty list if the folder does not exist).

        A file's type is told by its first bytes; a link, anything but a regular file, and a
        file the national service would refuse for its size or type are left out.
        """
        if not self.folder.is_dir():
            return []
        candidates = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)  # a link is not followed, not listed
                if stat.S_ISREG(info.st_mode) and (
                    PIECE_MIN_BYTES <= info.st_size <= PIECE_MAX_BYTES
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
