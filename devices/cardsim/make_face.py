"""Draw the simulator's synthetic face (NOT a real person) as JPEG 2000 and JPEG (run once).

    .venv/bin/python -m devices.cardsim.make_face

A few ellipses on a textured background, seeded so the output is reproducible; the texture
brings the JPEG 2000 file to the ~20 KB of a real DG2 photo.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from kiosk.settings.paths import assets_dir

SIZE = (240, 320)


def draw() -> Image.Image:
    """The synthetic portrait."""
    noise = random.Random(20240101)  # noqa: S311 - texture, not security
    image = Image.new("RGB", SIZE, (200, 210, 225))
    pixels = image.load()
    assert pixels is not None
    for y in range(SIZE[1]):
        for x in range(SIZE[0]):
            shade = noise.randint(-18, 18)
            pixels[x, y] = (200 + shade, 210 + shade, 225 + shade)
    pen = ImageDraw.Draw(image)
    pen.ellipse((30, 250, 210, 400), fill=(60, 80, 120))  # shoulders
    pen.rectangle((100, 200, 140, 270), fill=(222, 184, 150))  # neck
    pen.ellipse((55, 40, 185, 230), fill=(228, 190, 155))  # face
    pen.chord((50, 25, 190, 150), 180, 360, fill=(90, 60, 40))  # hair
    for cx in (95, 145):
        pen.ellipse((cx - 12, 115, cx + 12, 130), fill=(255, 255, 255))
        pen.ellipse((cx - 5, 117, cx + 5, 128), fill=(70, 90, 60))
        pen.line((cx - 14, 105, cx + 14, 103), fill=(80, 55, 35), width=3)
    pen.polygon([(120, 130), (110, 170), (128, 172)], fill=(210, 170, 138))
    pen.arc((95, 170, 145, 205), 20, 160, fill=(160, 70, 70), width=4)
    return image.filter(ImageFilter.SMOOTH)


def main(out: Path | None = None) -> None:
    """Write face.jp2 (~20 KB) and face.jpg into ``out``."""
    out = out or assets_dir() / "cardsim"
    out.mkdir(parents=True, exist_ok=True)
    image = draw()
    image.save(out / "face.jp2", "JPEG2000", quality_mode="rates", quality_layers=[11])
    image.save(out / "face.jpg", "JPEG", quality=80)


if __name__ == "__main__":
    main()
