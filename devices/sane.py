"""Scanning from a SANE scanner with ``scanimage`` (Debian's ``sane-utils``), beside the
scanner's folder (``devices/capture.py``).

``scanimage`` is SANE's own command-line front end: every SANE backend (USB, network) works
through it, and a hung or crashing driver takes down a child process, never the kiosk. The page
comes back on its standard output as a PNG and goes to the dossier from memory, encrypted: it
never lies in a folder in plain text. A page whose PNG is over the national size limit (a
colour page at a high resolution) is sent as a one-page PDF of a JPEG instead.

What went wrong is told by ``scanimage``'s exit status, which is the SANE status of the failed
call (``SANE_STATUS_DEVICE_BUSY`` is 3), and by its « open of device … failed » line, which is
not translated; the rest of its words are kept for the agent as they are.
"""

from __future__ import annotations

import io
import shutil
import subprocess

from kiosk.ports.devices import ScanError, ScanFault, ScannedPage
from kiosk.store.documents import PIECE_MAX_BYTES, content_type

#: SANE's status codes (sane.h) that ``scanimage`` exits with when a scan fails.
_DEVICE_BUSY = 3


class SaneScanner:
    """The SANE scanner ``device`` (a name as ``scanimage -L`` lists it: ``test``,
    ``epjitsu:libusb:001:004``, ``airscan:e0:Canon …``)."""

    def __init__(self, device: str, *, resolution: int = 200, timeout: float = 120.0) -> None:
        """``resolution``: dots per inch, enough to read a small print (a backend that lacks
        it takes the nearest it has); ``timeout``: seconds before the scanner is said silent
        (a lamp may take half a minute to warm up)."""
        self._device = device
        self._resolution = resolution
        self._timeout = timeout

    @property
    def name(self) -> str:
        """The SANE device name."""
        return self._device

    def scan(self) -> ScannedPage:
        """Scan the page on the glass (worker thread: seconds).

        Raises:
            ScanError: no ``scanimage``, no such scanner, busy, failed, or silent.
        """
        scanimage = shutil.which("scanimage")
        if scanimage is None:
            raise ScanError(
                ScanFault.ABSENT,
                "Le programme de numérisation (scanimage, paquet sane-utils) n'est pas installé"
                " sur ce poste.",
            )
        command = [
            scanimage,
            f"--device-name={self._device}",
            "--format=png",
            "--resolution",
            str(self._resolution),
        ]
        try:
            result = subprocess.run(  # noqa: S603 - fixed program, no shell
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ScanError(
                ScanFault.TIMEOUT,
                f"Le scanner « {self.name} » ne répond plus : vérifiez qu'il est allumé et"
                " branché, puis numérisez de nouveau.",
            ) from exc
        detail = result.stderr.decode(errors="replace").strip()
        if result.returncode != 0:
            raise self._failure(result.returncode, detail)
        if content_type(result.stdout) != "image/png":
            raise ScanError(
                ScanFault.FAILED,
                f"La numérisation a échoué ({self.name}) : le scanner n'a pas rendu d'image."
                f" {detail}".strip(),
            )
        return fit_page(result.stdout, self._resolution)

    def _failure(self, status: int, detail: str) -> ScanError:
        if "Device busy" in detail or status == _DEVICE_BUSY:
            return ScanError(
                ScanFault.BUSY,
                f"Le scanner « {self.name} » est occupé (une autre numérisation est en cours) :"
                " attendez qu'elle finisse, puis numérisez de nouveau.",
            )
        if "open of device" in detail:  # no such device, unplugged, or not allowed
            return ScanError(
                ScanFault.ABSENT,
                f"Le scanner « {self.name} » est introuvable : vérifiez qu'il est branché et"
                f" allumé, et son nom (réglage peripheriques.scanner). ({detail})",
            )
        return ScanError(ScanFault.FAILED, f"La numérisation a échoué ({self.name}) : {detail}")


def fit_page(png: bytes, resolution: int, *, limit: int = PIECE_MAX_BYTES) -> ScannedPage:
    """The scanned page as a file within ``limit`` bytes: the PNG itself, or else a one-page
    PDF of a JPEG of it (a sheet of paper at its size, from ``resolution``).

    Raises:
        ScanError: even so it is too large (fault ``FAILED``).
    """
    if len(png) <= limit:
        return ScannedPage(png, "image/png")
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        # JPEG takes 8-bit grey or colour; a 16-bit or line-art scan is brought to them.
        page = image.convert("L" if image.mode in {"1", "L", "I", "I;16"} else "RGB")
    out = io.BytesIO()
    page.save(out, "PDF", resolution=float(resolution), quality=85)
    data = out.getvalue()
    if len(data) > limit:
        raise ScanError(
            ScanFault.FAILED,
            "La page numérisée est trop lourde pour le service national, même compressée :"
            " numérisez-la en niveaux de gris ou à une résolution plus basse.",
        )
    return ScannedPage(data, "application/pdf")
