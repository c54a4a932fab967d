"""Where scanned documents come from: the folder a scanner (or a phone, or a USB key) saves into.

Flatbed and sheet-fed scanners at counters save PDF or image files into a folder; the kiosk lists
that folder, newest first, and the agent picks the scan. A camera photographs a page instead:
``devices/camera/``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from kiosk.ports.devices import ScannedFile

ACCEPTED = {"application/pdf", "image/jpeg", "image/png", "image/tiff", "image/webp"}
MAX_BYTES = 20 * 1024 * 1024  # a scan larger than this is a mistake (a video, an archive…)


class FolderSource:
    """The scanner's output folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def files(self, limit: int = 24) -> list[ScannedFile]:
        """Accepted files, most recent first (an empty list if the folder does not exist)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            mime = mimetypes.guess_type(path.name)[0]
            if not path.is_file() or mime not in ACCEPTED:
                continue
            size = path.stat().st_size
            if 0 < size <= MAX_BYTES:
                found.append((path.stat().st_mtime, ScannedFile(path, mime, size)))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [f for _, f in found[:limit]]

    def read(self, scanned: ScannedFile) -> bytes:
        """The file's bytes."""
        return scanned.path.read_bytes()


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
