"""What is printed on a simulated document, drawn with Pillow: a CNIe's front with its CAN,
and a MRZ as it is printed on a card's back or a passport's data page.

Training mode's simulated camera films these, so the « Photographier le CAN » and
« Photographier la bande MRZ » steps can be walked without a real card; the OCR tests and
``bench/ocr_bench.py`` read them back. The MRZ is set in OCR-B, the typeface ICAO 9303
prescribes (Debian's ``fonts-ocr-b``), else in DejaVu Sans Mono.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_FONT_DIRS = (Path("/usr/share/fonts/opentype/ocr-b"), Path("/usr/share/fonts/truetype/dejavu"))
#: A card is 85.6 × 54 mm (ISO/IEC 7810 ID-1); drawn at 12 pixels a millimetre (~300 dpi).
CARD_SIZE = (1027, 648)
INK = (20, 20, 40)
CARD_TINT = (228, 236, 246)
DESK = (92, 84, 76)


def font_path(*names: str) -> Path | None:
    """The first of ``names`` found among the system's fonts (None: none installed)."""
    for name in names:
        for folder in _FONT_DIRS:
            if (folder / name).is_file():
                return folder / name
    return None


def _font(size: int, *names: str) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path(*names)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size)


def mrz_font(size: int, face: str = "OCRB.otf") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """OCR-B (``face``: one of ``fonts-ocr-b``'s cuts) when installed, else DejaVu Sans Mono."""
    return _font(size, face, "OCRB.otf", "DejaVuSansMono.ttf")


def card_front(
    *, surname: str, given_names: str, birth: str, document_number: str, can: str
) -> Image.Image:
    """The front of a fictional CNIe: « SPÉCIMEN », the holder's fields and the CAN at the
    bottom right, where the real card prints it, in a plain sans-serif as the card does (not
    in OCR-B, whose 3 Tesseract's English model reads as 5). ``birth`` is YYMMDD."""
    image = Image.new("RGB", CARD_SIZE, CARD_TINT)
    draw = ImageDraw.Draw(image)
    small, label = _font(22, "DejaVuSans.ttf"), _font(18, "DejaVuSans.ttf")
    value = _font(30, "DejaVuSans-Bold.ttf", "DejaVuSans.ttf")
    draw.rounded_rectangle((2, 2, CARD_SIZE[0] - 3, CARD_SIZE[1] - 3), 36, outline=(90, 110, 150))
    draw.text((40, 28), "RÉPUBLIQUE FRANÇAISE", fill=(0, 0, 145), font=small)
    draw.text((40, 58), "CARTE NATIONALE D'IDENTITÉ — SPÉCIMEN", fill=INK, font=small)
    draw.rectangle((40, 120, 300, 460), fill=(190, 196, 206))  # where the photo is
    day, month, year = birth[4:6], birth[2:4], birth[0:2]
    rows = (
        ("NOM / Surname", surname),
        ("Prénoms / Given names", given_names),
        ("Date de naiss. / Date of birth", f"{day} {month} 19{year}"),
        ("N° du document / Document No", document_number),
    )
    y = 120
    for caption, text in rows:
        draw.text((340, y), caption, fill=(80, 90, 110), font=label)
        draw.text((340, y + 24), text, fill=INK, font=value)
        y += 86
    draw.text((40, 560), "FRA", fill=INK, font=value)
    draw.text((780, 552), can, fill=INK, font=_font(52, "DejaVuSans.ttf"))
    return image


def mrz_page(lines: Sequence[str], *, size: int = 44, face: str = "OCRB.otf") -> Image.Image:
    """A MRZ as printed on a document: OCR-B, 2.54 mm a character, on a pale background, with
    a little of the document above it (the agent frames the band, never exactly).

    ``size`` is the font's size in pixels (44: capitals 32 pixels high, a little more than
    the pitch; printers differ) and ``face`` the cut of OCR-B (``OCRBS.otf``, a bolder one,
    stands for a printer whose ink spreads: ``bench/ocr_bench.py``'s harder photos)."""
    width = max(len(line) for line in lines)
    font = mrz_font(size, face)
    pitch = 30  # pixels a character (2.54 mm at 12 px/mm)
    image = Image.new("RGB", (pitch * width + 120, 130 + 62 * len(lines)), CARD_TINT)
    draw = ImageDraw.Draw(image)
    draw.text((60, 20), "SPÉCIMEN", fill=(120, 130, 150), font=_font(26, "DejaVuSans.ttf"))
    for row, line in enumerate(lines):
        y = 80 + 62 * row
        for col, char in enumerate(line):
            draw.text((60 + pitch * col, y), char, fill=INK, font=font)
    return image


def photographed(
    image: Image.Image,
    *,
    angle: float = 0.0,
    blur: float = 0.0,
    contrast: float = 1.0,
    size: tuple[int, int] = (1600, 1200),
    fill: float = 0.9,
    keystone: float = 0.0,
    lighting: float = 0.0,
) -> Image.Image:
    """``image`` as a document camera sees it: on a desk, turned by ``angle`` degrees, out of
    focus by ``blur`` pixels, its contrast scaled by ``contrast`` (0.3: a dim, washed-out
    photo), filling ``fill`` of a ``size`` photo (the tests' and ``bench/ocr_bench.py``'s
    variants).

    ``keystone`` leans the page away from the camera: its top edge is that fraction shorter
    than its bottom one (negative: its right edge shorter than its left one). ``lighting``
    darkens the photo towards its left edge, there by that fraction (0.5: half as bright; a
    lamp on one side)."""
    from PIL import ImageEnhance, ImageFilter

    width, height = size
    scale = fill * min(width / image.width, height / image.height)
    page = image.resize((round(image.width * scale), round(image.height * scale)))
    if keystone:
        page = _keystoned(page, keystone)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=DESK)
    scene = Image.new("RGB", size, DESK)
    scene.paste(page, ((width - page.width) // 2, (height - page.height) // 2))
    if blur:
        scene = scene.filter(ImageFilter.GaussianBlur(blur))
    if contrast != 1.0:
        scene = ImageEnhance.Contrast(scene).enhance(contrast)
    if lighting:
        ramp = Image.linear_gradient("L").rotate(90).resize(size)  # black on the left
        shade = ramp.point(lambda v: round(255 * (1 - lighting) + v * lighting))
        scene = Image.composite(scene, Image.new("RGB", size, "black"), shade)
    return scene


def _keystoned(page: Image.Image, amount: float) -> Image.Image:
    """``page`` seen a little from below (``amount`` > 0: its top edge shorter) or from its
    left (``amount`` < 0: its right edge shorter), the desk's colour filling the corners."""
    w, h = page.size
    inset_x, inset_y = abs(amount) * w / 2, abs(amount) * h / 2
    quad: tuple[float, ...]  # where the output's corners come from: UL, LL, LR, UR
    if amount > 0:
        quad = (-inset_x, 0, 0, h, w, h, w + inset_x, 0)
    else:
        quad = (0, 0, 0, h, w, h + inset_y, w, -inset_y)
    return page.transform(
        page.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=DESK
    )
