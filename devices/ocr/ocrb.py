"""A MRZ read one character cell at a time against OCR-B's own glyphs (the ``GlyphReader`` port).

A MRZ is printed in OCR-B at a fixed pitch, in a known alphabet (A–Z, 0–9, <) and a known
layout (3 × 30, 2 × 36, 2 × 44). So, rather than recognise free text as Tesseract does, this
module finds the band, cuts each line into its number of cells and compares each cell with the
37 glyphs of OCR-B drawn at the cell's measured size (normalised correlation). Which characters
may stand at which place is the domain's business (``kiosk/identity/ocr.py``): every cell gets
a score for every character.

The steps, all with Pillow (no numpy on the kiosk):

1. **Flatten the light**: the photo divided by its paper's brightness, estimated locally (the
   brightest pixel around each place, on a copy an eighth the size): a lamp on one side, a dim
   photo or a shadow no longer matter, and the desk around the page is as blank as the paper.
2. **Level** the lines (``devices.ocr.tesseract.skew_angle``, on the flattened photo).
3. **Lines**: runs of rows with ink; in each, the run of columns with ink (a MRZ line has no
   space in it); a MRZ line is long for its height and has gaps between its glyphs (a page's
   edge, dark against the paper, has none). The MRZ is the last 2 or 3 such lines of about
   the same width; seen small (capitals under ``SMALL`` pixels), it is cut out and enlarged.
4. **Cells**: the line's width gives the pitch for each possible count of characters; the grid
   (first boundary, pitch, and a little change of pitch along the line for a page seen at an
   angle) is the one whose boundaries fall on the least ink, and the count the one whose best
   grids do.
5. **Glyphs**: OCR-B (Debian's ``fonts-ocr-b``: public domain and a permissive licence, its
   ``copyright`` file) drawn with Pillow at the size and blur that fit a sample of the line's
   cells best; each cell's ink is centred on each glyph's, both brought to a small grid, and
   compared (the likeliest few tried a pixel around too).
"""

from __future__ import annotations

import io
import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import (
    Image,
    ImageDraw,
    ImageFilter,
    ImageFont,
    ImageMath,
    ImageOps,
    UnidentifiedImageError,
)

from devices.ocr.tesseract import otsu_threshold, skew_angle
from kiosk.identity.ocr import MRZ_ALPHABET
from kiosk.ports.devices import CellScores, TextReadError

#: Where Debian's ``fonts-ocr-b`` puts the regular cut.
OCRB_FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
#: The longest side the photo is worked at (a camera's 4,000 pixels only slow it down).
WORK_SIDE = 1600
#: The height (pixels) under which a MRZ's lines are enlarged to it before they are read.
SMALL = 28
#: The grid each cell and each glyph are brought to before they are compared (columns).
GRID_W = 12


@dataclass(frozen=True)
class _Band:
    top: int
    bottom: int
    left: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def _open(image: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(image)) as opened:
            picture = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise TextReadError("La photo est illisible : reprenez-la.") from exc
    longest = max(picture.size)
    if longest > WORK_SIDE:
        scale = WORK_SIDE / longest
        picture = picture.resize(
            (round(picture.width * scale), round(picture.height * scale)), Image.Resampling.BOX
        )
    return picture


def flatten(picture: Image.Image) -> Image.Image:
    """``picture`` (grey) divided by its paper's local brightness: paper white, ink dark."""
    small = picture.reduce(8).filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.BoxBlur(2))
    paper = small.resize(picture.size, Image.Resampling.BILINEAR)
    flat = ImageMath.lambda_eval(
        lambda a: a["convert"](a["min"](a["p"] * 255 / (a["b"] + 1), 255), "L"),
        p=picture,
        b=paper,
    )
    assert isinstance(flat, Image.Image)
    return flat


def _profile(picture: Image.Image, *, rows: bool) -> list[int]:
    """The mean of each row (or column) of ``picture``: 0..255."""
    size = (1, picture.height) if rows else (picture.width, 1)
    return list(picture.resize(size, Image.Resampling.BOX).tobytes())


def _runs(values: Sequence[float], threshold: float, *, bridge: int = 0) -> list[tuple[int, int]]:
    """The runs of ``values`` above ``threshold`` (start, end), gaps of ``bridge`` or less
    bridged."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, v in enumerate(values):
        if v > threshold:
            if start is None:
                start = i
        elif start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(values)))
    merged: list[tuple[int, int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] <= bridge:
            merged[-1] = (merged[-1][0], run[1])
        else:
            merged.append(run)
    return merged


def find_lines(ink: Image.Image) -> list[_Band]:
    """The long lines of text on ``ink`` (white ink on black), top to bottom."""
    rows = _profile(ink, rows=True)
    peak = max(rows, default=0)
    if peak == 0:
        return []
    bands = []
    for top, bottom in _runs(rows, peak * 0.12, bridge=1):
        height = bottom - top
        if height < 6:
            continue
        columns = _profile(ink.crop((0, top, ink.width, bottom)), rows=False)
        # A MRZ line has no space: its glyphs are less than a capital's height apart.
        runs = _runs(columns, 8, bridge=height)
        if not runs:
            continue
        left, right = max(runs, key=lambda r: r[1] - r[0])
        if right - left >= 12 * height and _gappy(columns[left:right]):
            bands.append(_Band(top, bottom, left, right))
    return bands


def _gappy(columns: Sequence[int]) -> bool:
    """Whether a band's ink, column by column, has the gaps between glyphs a line of text has
    (four columns in ten or so; a page's edge, as dark as ink beside the paper, has none)."""
    ordered = sorted(columns)
    full = ordered[len(ordered) * 9 // 10]
    return sum(c < full / 2 for c in columns) >= 0.15 * len(columns)


def mrz_lines(bands: list[_Band]) -> list[_Band]:
    """The last 2 or 3 lines of ``bands`` that are about as wide and as high as each other."""
    for count in (3, 2):
        for start in range(len(bands) - count, -1, -1):
            group = bands[start : start + count]
            widths = [b.width for b in group]
            heights = [b.height for b in group]
            lefts = [b.left for b in group]
            if (
                max(widths) <= 1.12 * min(widths)
                and max(heights) <= 1.5 * min(heights)
                and max(lefts) - min(lefts) <= 2 * max(heights)
            ):
                return group
    return []


def _at(values: Sequence[float], x: float) -> float:
    i = int(x)
    if i < 0 or i + 1 >= len(values):
        return values[max(0, min(len(values) - 1, i))]
    f = x - i
    return values[i] * (1 - f) + values[i + 1] * f


@dataclass(frozen=True)
class Grid:
    """Where a line's cells are: boundary ``i`` at ``start + i·pitch + bend·i²``."""

    count: int
    start: float
    pitch: float
    bend: float
    cost: float

    def boundary(self, i: int) -> float:
        return self.start + i * self.pitch + self.bend * i * i


def _cost(columns: Sequence[float], grid: Grid) -> float:
    """The mean ink on ``grid``'s inner boundaries."""
    return sum(_at(columns, grid.boundary(i)) for i in range(1, grid.count)) / (grid.count - 1)


def fit_grid(columns: Sequence[float], left: int, right: int, count: int) -> Grid:
    """The grid of ``count`` cells over ``columns`` (the line's ink per column) whose inner
    boundaries fall on the least ink; its cost is their mean ink over the line's mean.

    The pitch and the first boundary first, the pitch the same all along; then a little
    change of pitch along the line (a page seen at an angle) around the best of those.
    """
    span = right - left
    mean = sum(columns[left:right]) / max(1, span) or 1.0

    def grid(pitch_step: float, start_step: float, bend_step: int) -> Grid:
        # The glyphs' side bearings: their ink spans a little less than count pitches.
        pitch = span / (count - 0.05 * pitch_step)
        shape = Grid(
            count, left - pitch * start_step / 20, pitch, bend_step * 0.0025 * pitch / count, 0.0
        )
        return Grid(count, shape.start, shape.pitch, shape.bend, _cost(columns, shape))

    level = min((grid(p, s, 0) for p in range(13) for s in range(12)), key=lambda g: g.cost)
    pitch_step = (count - span / level.pitch) / 0.05
    start_step = (left - level.start) * 20 / level.pitch
    best = min(
        (
            grid(pitch_step + dp, start_step + ds, b)
            for dp in (-1, 0, 1)
            for ds in (-1, 0, 1)
            for b in range(-4, 5)
        ),
        key=lambda g: g.cost,
    )
    return Grid(best.count, best.start, best.pitch, best.bend, best.cost / mean)


@lru_cache(maxsize=16)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@lru_cache(maxsize=8)  # a line's sizes and blurs are tried in turn, the best asked again
def glyphs(font_path: Path, size: int, frame: tuple[int, int], blur: float) -> tuple[_Glyph, ...]:
    """OCR-B's 37 MRZ glyphs at ``size``, each in a ``frame`` (w, h) the size of a cell's
    window, its capitals' top and baseline as far from the frame's edges (ink bright)."""
    return tuple(_glyphs(font_path, size, frame, blur))


@dataclass(frozen=True)
class _Glyph:
    char: str
    offset: tuple[float, float]  # its ink's centroid in its frame
    features: tuple[float, ...]  # on the comparison grid: zero mean, unit norm


def _centroid(dark: Image.Image) -> tuple[float, float] | None:
    cols = _profile(dark, rows=False)
    rows = _profile(dark, rows=True)
    total = sum(cols)
    if total == 0:
        return None
    cx = sum(i * v for i, v in enumerate(cols)) / total + 0.5
    cy = sum(i * v for i, v in enumerate(rows)) / sum(rows) + 0.5
    return cx, cy


def _features(dark: Image.Image, grid: tuple[int, int]) -> tuple[float, ...] | None:
    values = dark.resize(grid, Image.Resampling.BOX).tobytes()
    mean = sum(values) / len(values)
    centred = [v - mean for v in values]
    norm = math.sqrt(sum(v * v for v in centred))
    if norm < 1e-6:
        return None
    return tuple(v / norm for v in centred)


def _sample(dark: Image.Image, grid: tuple[int, int]) -> tuple[bytes, float] | None:
    """``dark`` on the comparison grid, and the norm of its deviation from its mean."""
    values = dark.resize(grid, Image.Resampling.BOX).tobytes()
    spread = sum(map(operator.mul, values, values)) - sum(values) ** 2 / len(values)
    if spread < 1e-6:
        return None
    return values, math.sqrt(spread)


def _glyphs(font_path: Path, size: int, frame: tuple[int, int], blur: float) -> list[_Glyph]:
    font = _font(font_path, size)
    w, h = frame
    grid = _grid(frame)
    _, top, _, bottom = font.getbbox("H")
    out = []
    for char in MRZ_ALPHABET:
        image = Image.new("L", frame, 0)
        draw = ImageDraw.Draw(image)
        advance = font.getlength(char)
        draw.text(((w - advance) / 2, (h - (bottom - top)) / 2 - top), char, fill=255, font=font)
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        centroid = _centroid(image)
        features = _features(image, grid)
        if centroid is not None and features is not None:
            out.append(_Glyph(char, centroid, features))
    return out


def _grid(frame: tuple[int, int]) -> tuple[int, int]:
    return GRID_W, max(8, round(GRID_W * frame[1] / frame[0]))


class _Cell:
    """One cell's window on the photo, sampled at whichever places the glyphs ask for."""

    def __init__(self, dark: Image.Image, box: tuple[int, int, int, int]) -> None:
        self._dark = dark
        self.centroid = _centroid(dark.crop(box))
        self.origin = box[:2]
        self._samples: dict[tuple[int, int, int, int], tuple[bytes, float] | None] = {}

    def score(self, glyph: _Glyph, frame: tuple[int, int], shift: tuple[int, int]) -> float:
        if self.centroid is None:
            return 0.0
        x0 = round(self.origin[0] + self.centroid[0] - glyph.offset[0]) + shift[0]
        y0 = round(self.origin[1] + self.centroid[1] - glyph.offset[1]) + shift[1]
        key = (x0, y0, *frame)
        if key not in self._samples:
            crop = self._dark.crop((x0, y0, x0 + frame[0], y0 + frame[1]))
            self._samples[key] = _sample(crop, _grid(frame))
        sample = self._samples[key]
        if sample is None:
            return 0.0
        values, norm = sample
        return float(sum(map(operator.mul, values, glyph.features))) / norm


_SHIFTS = tuple(itertools.product((-1, 0, 1), (-1, 0, 1)))


def read_line(font: Path, dark: Image.Image, band: _Band, grid: Grid) -> list[CellScores]:
    """Each cell of ``band`` on ``dark`` (ink bright) scored against every glyph."""
    height = band.height
    margin = max(2, round(height * 0.25))
    frame = (max(4, round(grid.pitch)), height + 2 * margin)
    cells = [
        _Cell(
            dark,
            (
                round(grid.boundary(i)),
                band.top - margin,
                round(grid.boundary(i + 1)),
                band.bottom + margin,
            ),
        )
        for i in range(grid.count)
    ]
    # The font's size: the line's ink is as high as its tallest glyphs (digits are 8 % taller
    # than capitals) plus the blur; the size (and blur) whose glyphs fit a sample of cells best.
    # The size first, at a middling blur, then the blur at that size.
    sample = cells[::3]

    def fit(size: int, blur: float) -> float:
        templates = glyphs(font, size, frame, blur)
        return sum(max(cell.score(g, frame, (0, 0)) for g in templates) for cell in sample)

    sizes = [max(6, round(height / ratio)) for ratio in (0.86, 0.82, 0.78, 0.74, 0.70)]
    size = max(sizes, key=lambda s: fit(s, grid.pitch / 12))
    blur = max((grid.pitch / 24, grid.pitch / 12, grid.pitch / 8), key=lambda b: fit(size, b))
    templates = glyphs(font, size, frame, blur)
    out: list[CellScores] = []
    for cell in cells:
        scores = {g.char: cell.score(g, frame, (0, 0)) for g in templates}
        # Half a pixel off is much at this size: the likeliest glyphs of each kind are
        # tried a pixel around too.
        ranked = sorted(templates, key=lambda g: -scores[g.char])
        letters = [g for g in ranked if g.char.isalpha()][:3]
        digits = [g for g in ranked if g.char.isdigit()][:3]
        fillers = [g for g in ranked if g.char == "<"]
        for glyph in letters + digits + fillers:
            scores[glyph.char] = max(cell.score(glyph, frame, shift) for shift in _SHIFTS)
        for char in MRZ_ALPHABET:
            scores.setdefault(char, -1.0)
        out.append(scores)
    return out


def _ink(flat: Image.Image) -> Image.Image:
    """``flat`` in black and white, ink white (Otsu's threshold)."""
    level = otsu_threshold(flat.histogram())
    return flat.point(lambda v: 255 if v <= level else 0)


class OcrbGlyphReader:
    """The ``GlyphReader`` of a kiosk with OCR-B installed (``fonts-ocr-b``)."""

    def __init__(self, font: Path = OCRB_FONT) -> None:
        self._font = font

    def unavailable(self) -> str | None:
        """A French reason when OCR-B is not installed, else None."""
        if not self._font.is_file():
            return (
                "La lecture de la bande MRZ par la caméra n'est pas disponible sur cette "
                "borne : la police OCR-B (paquet fonts-ocr-b) n'y est pas installée. Tapez la "
                "bande."
            )
        return None

    def read_glyphs(self, image: bytes, *, widths: Sequence[int]) -> list[list[CellScores]]:
        """The MRZ's lines on ``image``, each cut into one of ``widths`` cells, each cell's
        score (normalised correlation, -1..1) for every MRZ character; [] if no MRZ is seen.
        """
        picture = _open(image)
        flat = flatten(picture)
        angle = skew_angle(flat)
        if angle:
            flat = flat.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        bands = mrz_lines(find_lines(_ink(flat)))
        if not bands:
            return []
        height = max(band.height for band in bands)
        if height < SMALL:
            # A band seen small is looked at again, enlarged: a pixel's shift is then half a
            # pixel of the photo's, and the glyphs' details are not lost in the grid.
            margin = 2 * height
            box = (
                max(0, min(band.left for band in bands) - margin),
                max(0, bands[0].top - margin),
                min(flat.width, max(band.right for band in bands) + margin),
                min(flat.height, bands[-1].bottom + margin),
            )
            scale = SMALL / height
            flat = flat.crop(box)
            flat = flat.resize(
                (round(flat.width * scale), round(flat.height * scale)),
                Image.Resampling.BICUBIC,
            )
            bands = mrz_lines(find_lines(_ink(flat)))
            if not bands:
                return []
        dark = ImageOps.invert(flat)
        # Three lines are a TD1's 30 characters; two, 36 or 44.
        allowed = [w for w in widths if (len(bands) == 3) == (w == 30)]
        if not allowed:
            return []
        lines = []
        grids = []
        for band in bands:
            columns = _profile(dark.crop((0, band.top, dark.width, band.bottom)), rows=False)
            fits = [fit_grid(columns, band.left, band.right, n) for n in allowed]
            grids.append(fits)
        # One count for the whole MRZ: the one whose grids fit best over its lines.
        choice = min(range(len(allowed)), key=lambda k: sum(g[k].cost for g in grids))
        for band, fits in zip(bands, grids, strict=True):
            lines.append(read_line(self._font, dark, band, fits[choice]))
        return lines
