"""Real Tesseract on photos the test draws: a CNIe's front with its CAN, turned, blurred and
washed out as a hand-held photo is; and what a photo with no CAN gets. (The MRZ is read by its
glyphs: tests/devices/test_ocrb_glyphs.py.)

Tesseract and its English data are run packages (``scripts/bootstrap.sh``).
"""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw

from devices.cardsim.printed import card_front, photographed
from devices.ocr.tesseract import TesseractReader
from kiosk.identity.ocr import CanNotRecognised, read_can

READER = TesseractReader()
FRONT = card_front(
    surname="MARTIN",
    given_names="MAELYS GAELLE MARIE",
    birth="900713",
    document_number="X4RTBPFW4",
    can="123456",
)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_tesseract_is_installed_for_the_tests() -> None:
    assert READER.unavailable() is None


@pytest.mark.parametrize(
    ("angle", "blur", "contrast"),
    [(0, 0, 1.0), (0, 2, 1.0), (0, 0, 0.3), (2.5, 1.5, 0.4)],
    ids=["flat", "blurred", "washed-out", "turned-blurred-washed-out"],
)
def test_the_can_is_read_off_a_photo_of_the_cards_front(
    angle: float, blur: float, contrast: float
) -> None:
    photo = photographed(FRONT, angle=angle, blur=blur, contrast=contrast)
    assert read_can(READER, jpeg(photo)) == "123456"


def _garbage() -> Image.Image:
    rng = random.Random(14)
    image = Image.new("RGB", (1600, 1200), (200, 190, 180))
    draw = ImageDraw.Draw(image)
    for _ in range(300):
        x, y = rng.randrange(1600), rng.randrange(1200)
        draw.ellipse((x, y, x + rng.randrange(5, 60), y + rng.randrange(5, 60)), fill="black")
    return image


def test_a_photo_with_no_can_is_refused_with_the_french_message() -> None:
    with pytest.raises(CanNotRecognised) as caught:
        read_can(READER, jpeg(_garbage()))
    assert str(caught.value) == "Le CAN n'a pas été reconnu : recadrez la carte ou tapez-le"


def test_no_tesseract_installed_is_said_plainly_and_nothing_is_run() -> None:
    reader = TesseractReader("tesseract-absent-here")
    reason = reader.unavailable()
    assert reason is not None and "tesseract" in reason and "Tapez" in reason
