"""zbar's ``zbarimg``, through its command line: the QR codes of a photo.

Why zbar, and why its command: Debian packages it (``zbar-tools``), it is the reader the
receipts' and letters' tests already trust, and it reads a code in a camera's photo without
help (it finds the code wherever it is, at any angle). The command rather than a binding
(``pyzbar`` loads ``libzbar`` in the kiosk's process): a subprocess has a time limit and
cannot take the kiosk down with it, as for Tesseract (devices/ocr/tesseract.py).
"""

from __future__ import annotations

import logging
import shutil
import subprocess

from kiosk.ports.devices import CodeReadError

log = logging.getLogger(__name__)

#: Seconds a reading may take: a photo is read in a fraction of one.
TIMEOUT_S = 10.0
#: ``zbarimg``'s exit status when the picture holds no code (not an error).
_NOTHING_FOUND = 4


class ZbarReader:
    """The ``CodeReader`` of a kiosk with ``zbar-tools`` installed."""

    def __init__(self, command: str = "zbarimg", *, timeout: float = TIMEOUT_S) -> None:
        self._command = command
        self._timeout = timeout

    def unavailable(self) -> str | None:
        """A French reason when the ``zbarimg`` command is not installed, else None."""
        if shutil.which(self._command) is None:
            return (
                "La lecture des codes QR n'est pas disponible sur cette borne : le programme"
                " zbarimg (paquet zbar-tools) n'y est pas installé. Tapez le code."
            )
        return None

    def read_codes(self, image: bytes) -> tuple[str, ...]:
        """Run ``zbarimg`` on the picture (worker thread; up to ``timeout`` seconds)."""
        program = shutil.which(self._command)
        if program is None:
            raise CodeReadError(self.unavailable() or "zbarimg introuvable")
        # --raw: the code's text as it is; -q: nothing else; QR codes only (a barcode printed
        # on the sheet's border is not what is looked for); --nodbus: no desktop bus to ask.
        args = [program, "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", "-"]
        try:
            done = subprocess.run(  # noqa: S603 - a fixed program, arguments built here
                args, input=image, capture_output=True, timeout=self._timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise CodeReadError(
                "La lecture du code QR a pris trop de temps : reprenez la photo, ou tapez le code."
            ) from exc
        except OSError as exc:
            raise CodeReadError(f"Le programme zbarimg n'a pas pu être lancé ({exc}).") from exc
        if done.returncode == _NOTHING_FOUND:
            return ()
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            log.warning("zbarimg failed (%s): %s", done.returncode, detail[0])
            raise CodeReadError(
                f"La photo n'a pas pu être lue (zbarimg, code {done.returncode}) : reprenez-la."
            )
        text = done.stdout.decode("utf-8", "replace")
        return tuple(line for line in text.splitlines() if line.strip())
