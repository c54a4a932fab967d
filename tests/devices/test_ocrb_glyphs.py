"""The MRZ read glyph by glyph against OCR-B, with real Pillow, on photos the test draws: a
CNIe's TD1 and a passport's TD3, turned, blurred, washed out, lit from one side, leaning, small
and compressed as photos at a counter are; the band beside a page's edge; and what a photo with
no MRZ, or a MRZ in another typeface, gets.

The drawn MRZs and the glyphs compared with them come from the same font (Debian's
``fonts-ocr-b``, a run package): ``bench/ocr_bench.py`` reports the figures over many photos,
some in OCR-B's bolder cut.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from devices.cardsim.printed import card_front, mrz_page, photographed
from devices.ocr.ocrb import OcrbGlyphReader
from kiosk.identity.ocr import MRZ_ALPHABET, MrzNotRecognised, read_mrz
from kiosk.ports.devices import TextReadError
from tests.identity.ocr_samples import TD1, TD3

GLYPHS = OcrbGlyphReader()


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_ocr_b_is_installed_for_the_kiosk() -> None:
    assert GLYPHS.unavailable() is None


def test_each_cell_of_each_line_is_scored_for_every_mrz_character() -> None:
    lines = GLYPHS.read_glyphs(jpeg(photographed(mrz_page(TD3))), widths=(30, 36, 44))
    assert [len(line) for line in lines] == [44, 44]
    assert all(set(cell) == set(MRZ_ALPHABET) for line in lines for cell in line)
    best = "".join(max(cell, key=lambda c: cell[c]) for cell in lines[0])
    assert best == TD3[0]


CONDITIONS = pytest.mark.parametrize(
    ("angle", "blur", "contrast"),
    [(0, 0, 1.0), (3, 0, 1.0), (-4, 0, 1.0), (0, 2, 1.0), (0, 0, 0.3), (2.5, 1.5, 0.4)],
    ids=["flat", "turned", "turned-back", "blurred", "washed-out", "all-three"],
)


@CONDITIONS
def test_a_cnie_mrz_is_read_whole(angle: float, blur: float, contrast: float) -> None:
    photo = photographed(mrz_page(TD1), angle=angle, blur=blur, contrast=contrast)
    read = read_mrz(GLYPHS, jpeg(photo))
    assert read.lines == TD1 and read.unsure == frozenset()
    assert (read.mrz.surname, read.mrz.given_names) == ("MARTIN", "MAELYS GAELLE MARIE")


@CONDITIONS
def test_a_passport_mrz_is_read_whole(angle: float, blur: float, contrast: float) -> None:
    photo = photographed(mrz_page(TD3), angle=angle, blur=blur, contrast=contrast)
    read = read_mrz(GLYPHS, jpeg(photo))
    assert read.lines == TD3 and read.unsure == frozenset()
    assert read.mrz.key_seed == "24FR12345385031503401011"
    assert (read.mrz.surname, read.mrz.given_names) == ("DUPONT", "JEAN PIERRE")


@pytest.mark.parametrize("face", ["OCRB.otf", "OCRBS.otf"], ids=["regular", "bolder-cut"])
def test_a_small_passport_mrz_lit_from_one_side_leaning_and_compressed_is_read(face: str) -> None:
    photo = photographed(
        mrz_page(TD3, size=36, face=face),
        angle=-2,
        fill=0.55,
        keystone=-0.03,
        lighting=0.5,
        blur=0.8,
    )
    read = read_mrz(GLYPHS, jpeg(photo, quality=50))
    assert read.mrz.lines == TD3
    assert read.unsure == frozenset()


def test_the_edge_of_the_page_just_under_the_band_is_not_taken_for_a_line() -> None:
    """A passport's MRZ runs close to the page's bottom edge, as wide as the band: the edge,
    dark against the paper, has no gaps between glyphs and is not a third line."""
    page = mrz_page(TD3)
    page = page.crop((0, 0, page.width, 80 + 62 + 44 + 12))
    read = read_mrz(GLYPHS, jpeg(photographed(page, angle=1.5)))
    assert read.lines == TD3


def _garbage() -> Image.Image:
    rng = random.Random(14)
    image = Image.new("RGB", (1600, 1200), (200, 190, 180))
    draw = ImageDraw.Draw(image)
    for _ in range(300):
        x, y = rng.randrange(1600), rng.randrange(1200)
        draw.ellipse((x, y, x + rng.randrange(5, 60), y + rng.randrange(5, 60)), fill="black")
    return image


def test_a_photo_with_no_mrz_is_refused_with_the_french_message() -> None:
    front = card_front(
        surname="MARTIN",
        given_names="MAELYS GAELLE MARIE",
        birth="900713",
        document_number="X4RTBPFW4",
        can="123456",
    )
    for image in (_garbage(), photographed(front)):  # the card's front: text, but no MRZ
        with pytest.raises(MrzNotRecognised) as caught:
            read_mrz(GLYPHS, jpeg(image))
        assert "reprenez la photo" in str(caught.value)


def test_a_mrz_in_another_typeface_is_never_read_wrong() -> None:
    """No ICAO document prints its MRZ in DejaVu Sans Mono; its glyphs are not OCR-B's, and
    whatever comes of them (here: refused, or « ? »), nothing the kiosk vouches for is wrong."""
    for lines in (TD1, TD3):
        photo = photographed(mrz_page(lines, size=40, face="DejaVuSansMono.ttf"), angle=1)
        try:
            read = read_mrz(GLYPHS, jpeg(photo))
        except MrzNotRecognised:
            continue
        assert all(
            read.mrz.lines[row][col] == lines[row][col]
            for row, line in enumerate(lines)
            for col in range(len(line))
            if (row, col) not in read.unsure
        )


def test_what_is_no_picture_is_said_plainly() -> None:
    with pytest.raises(TextReadError) as caught:
        GLYPHS.read_glyphs(b"not a photo", widths=(44,))
    assert str(caught.value) == "La photo est illisible : reprenez-la."


def test_without_ocr_b_installed_the_reason_is_said_plainly(tmp_path: Path) -> None:
    reason = OcrbGlyphReader(tmp_path / "OCRB.otf").unavailable()
    assert reason is not None and "fonts-ocr-b" in reason and "Tapez la bande" in reason
