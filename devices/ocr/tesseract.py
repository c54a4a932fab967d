"""Tesseract OCR, through its command line: the photo cleaned up with Pillow, then read.

Why the command and not a binding: Debian packages the program and its language data, and a
subprocess has a time limit and cannot take the kiosk down with it (a crash or a hang in a C
library inside the kiosk's process would). ``pytesseract`` does no more than this module.

The clean-up is what a document camera's photo needs for Tesseract: EXIF orientation applied,
grey, turned so that its lines of text are level, brought to a size where a card's characters
are some 40 to 60 pixels high, contrast stretched, and a
black-and-white threshold chosen from the image's own histogram (Otsu's method), so a photo
taken in a dim corner of the counter reads as well as a scan.
"""

from __future__ import annotations

import io
import itertools
import logging
import shutil
import subprocess
from collections.abc import Sequence

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from kiosk.ports.devices import TextLayout, TextReadError

log = logging.getLogger(__name__)

#: Seconds a reading may take; a photo that takes longer is not worth the agent's wait.
TIMEOUT_S = 15.0
#: The longest side the photo is brought to (larger slows Tesseract, smaller loses the strokes).
TARGET_SIDE = 2200
#: Turns tried to level the text: ±8° in half degrees.
_SKEW_STEP = 0.5
_SKEW_STEPS = 16
#: Tesseract's page segmentation modes (``--psm``) for each layout.
_PSM = {TextLayout.LINE: "7", TextLayout.BLOCK: "6", TextLayout.SPARSE: "11"}


def otsu_threshold(histogram: Sequence[int]) -> int:
    """The grey level that best splits a 256-bin histogram into ink and paper (Otsu, 1979)."""
    total = sum(histogram)
    weighted = sum(i * count for i, count in enumerate(histogram))
    below = below_weighted = 0.0
    best, best_level = -1.0, 128
    for level, count in enumerate(histogram):
        below += count
        if below == 0:
            continue
        above = total - below
        if above == 0:
            break
        below_weighted += level * count
        mean_below = below_weighted / below
        mean_above = (weighted - below_weighted) / above
        between = below * above * (mean_below - mean_above) ** 2
        if between > best:
            best, best_level = between, level
    return best_level


def skew_angle(picture: Image.Image) -> float:
    """The angle (degrees) that sets the lines of text of ``picture`` (grey) level.

    Projection profiles: on a small black-and-white copy turned by each angle in turn, the
    lines are level when the rows' ink is the most uneven (rows of text, then rows of paper).
    Tesseract reads a line turned by 3° as noise; a hand never holds a card straighter.
    """
    small = picture.copy()
    small.thumbnail((600, 600))
    level = otsu_threshold(small.histogram())
    ink = small.point(lambda v: 255 if v <= level else 0)
    best, best_score = 0.0, -1.0
    for step in range(-_SKEW_STEPS, _SKEW_STEPS + 1):
        angle = step * _SKEW_STEP
        rows = ink.rotate(angle, resample=Image.Resampling.NEAREST).resize(
            (1, ink.height), Image.Resampling.BOX
        )
        values = rows.tobytes()  # one grey byte a row: its share of ink
        score = float(sum((a - b) ** 2 for a, b in itertools.pairwise(values)))
        if score > best_score:
            best, best_score = angle, score
    return best


def prepare(image: bytes) -> bytes:
    """The photo as Tesseract reads it best: a black-on-white PNG (see the module's docstring).

    Raises:
        TextReadError: ``image`` is no picture Pillow can open.
    """
    try:
        with Image.open(io.BytesIO(image)) as opened:
            picture = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise TextReadError("La photo est illisible : reprenez-la.") from exc
    angle = skew_angle(picture)
    if angle:
        picture = picture.rotate(
            angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
        )
    longest = max(picture.size)
    if longest != TARGET_SIDE:
        scale = TARGET_SIDE / longest
        picture = picture.resize(
            (round(picture.width * scale), round(picture.height * scale)),
            Image.Resampling.LANCZOS,
        )
    # A light blur first: the camera's noise and JPEG's blocks would otherwise turn into specks.
    picture = ImageOps.autocontrast(picture.filter(ImageFilter.GaussianBlur(1)), cutoff=1)
    level = otsu_threshold(picture.histogram())
    picture = picture.point(lambda v: 255 if v > level else 0, mode="1")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


class TesseractReader:
    """The ``TextReader`` of a kiosk with Tesseract installed (``tesseract-ocr``, ``-eng``)."""

    def __init__(self, command: str = "tesseract", *, timeout: float = TIMEOUT_S) -> None:
        self._command = command
        self._timeout = timeout

    def unavailable(self) -> str | None:
        """A French reason when the ``tesseract`` command is not installed, else None."""
        if shutil.which(self._command) is None:
            return (
                "La lecture par la caméra n'est pas disponible sur cette borne : le programme de "
                "reconnaissance de texte (tesseract) n'y est pas installé. Tapez les caractères."
            )
        return None

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        """Run Tesseract on the cleaned-up photo (worker thread; up to ``timeout`` seconds)."""
        program = shutil.which(self._command)
        if program is None:
            raise TextReadError(self.unavailable() or "tesseract introuvable")
        args = [program, "stdin", "stdout", "-l", "eng", "--psm", _PSM[layout]]
        if alphabet is not None:
            args += ["-c", f"tessedit_char_whitelist={alphabet}"]
        try:
            done = subprocess.run(  # noqa: S603 - a fixed program, arguments built here
                args,
                input=prepare(image),
                capture_output=True,
                timeout=self._timeout,
                check=False,
                # One thread: the kiosk has two cores and the UI keeps one; a photo this size
                # reads no faster on more (OpenMP's threads spin and steal the UI's time).
                env={"OMP_THREAD_LIMIT": "1"},
            )
        except subprocess.TimeoutExpired as exc:
            raise TextReadError(
                "La lecture de la photo a pris trop de temps : reprenez-la, ou tapez les "
                "caractères."
            ) from exc
        except OSError as exc:
            raise TextReadError(
                f"Le programme de reconnaissance de texte n'a pas pu être lancé ({exc})."
            ) from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            log.warning("tesseract failed (%s): %s", done.returncode, detail[0])
            raise TextReadError(
                "Le programme de reconnaissance de texte a échoué "
                f"(code {done.returncode} : {detail[0]}) : vérifiez qu'il est installé avec "
                "ses données anglaises (paquet tesseract-ocr-eng)."
            )
        return done.stdout.decode("utf-8", "replace")
