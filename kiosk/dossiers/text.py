"""Normalisation of names and plates for search keys."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


def name_key(text: str) -> str:
    """``"Maëlys-Gaëlle  d'Œuvray"`` → ``"MAELYS GAELLE D OEUVRAY"`` (upper case, no accents)."""
    folded = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", folded)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return _NON_ALNUM.sub(" ", stripped).strip()


def plate_key(text: str) -> str:
    """``"ab-123-cd"`` → ``"AB123CD"``; ``"1234 ab 56"`` → ``"1234AB56"``."""
    return _NON_ALNUM.sub("", text.upper())
