"""Fonts for the receipt, registered once per process.

French names and text (é, ç, œ, « », narrow no-break spaces, "Maëlys", "Œuvray") need a Unicode
TrueType font; DejaVu (Debian's fonts-dejavu-core) covers them. Without it the receipt still prints
with the PDF standard fonts, whose WinAnsi encoding covers French letters but not every character,
so :meth:`FontSet.fit` downgrades the few that it lacks instead of printing blank boxes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")

# Replacements for characters WinAnsi lacks; anything else missing becomes "?" (visible, not blank).
_WINANSI_FALLBACK = str.maketrans({"\u202f": "\u00a0", "\u2009": " ", "\u2610": "[ ]"})


@dataclass(frozen=True)
class FontSet:
    """Names of the registered fonts, as reportlab knows them."""

    regular: str
    bold: str
    mono_bold: str
    unicode: bool  # False when falling back to the PDF standard fonts

    def fit(self, text: str) -> str:
        """Return text the fonts can draw (unchanged with DejaVu)."""
        if self.unicode:
            return text
        return text.translate(_WINANSI_FALLBACK).encode("cp1252", "replace").decode("cp1252")


def _register(name: str, filename: str, font_dir: Path) -> bool:
    path = font_dir / filename
    if not path.is_file():
        return False
    pdfmetrics.registerFont(TTFont(name, str(path)))
    return True


@functools.cache
def receipt_fonts(font_dir: Path = DEJAVU_DIR) -> FontSet:
    """Register the receipt fonts and name them.

    Cached: parsing a TTF costs milliseconds, and reportlab's font registry is per process anyway.
    """
    if (
        _register("PN-Sans", "DejaVuSans.ttf", font_dir)
        and _register("PN-Sans-Bold", "DejaVuSans-Bold.ttf", font_dir)
        and _register("PN-Mono-Bold", "DejaVuSansMono-Bold.ttf", font_dir)
    ):
        return FontSet("PN-Sans", "PN-Sans-Bold", "PN-Mono-Bold", unicode=True)
    return FontSet("Helvetica", "Helvetica-Bold", "Courier-Bold", unicode=False)
