"""Argument types the command line shares, each refusing a bad value in plain French."""

from __future__ import annotations

import argparse

#: The most rows a listing prints (a larger number is a typo, not a wish).
MAX_ROWS = 10_000


def row_count(text: str) -> int:
    """A number of rows to show, 1 to :data:`MAX_ROWS` (``--limit``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier") from None
    if not 1 <= value <= MAX_ROWS:
        raise argparse.ArgumentTypeError(
            f"« {text} » : un nombre de 1 à {MAX_ROWS:_}".replace("_", " ")
        )
    return value
