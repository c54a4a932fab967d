"""Text helpers for the receipt: wrapping to a width, masking the phone number, French dates
(in the counter's time zone, :mod:`kiosk.settings.timezone`).

Kept apart from the drawing code so that each rule (what is masked, how a long value is cut) can be
read and tested on its own.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from reportlab.pdfbase.pdfmetrics import stringWidth

from kiosk.settings.timezone import counter_zone

ELLIPSIS = "…"
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space, before « : ; ? ! » in French typography
BULLET = "•"

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# Ordinary whitespace only: no-break spaces must survive, they keep "06 •• 45" on one line.
_SPACES = re.compile(r"[ \t\r\n]+")
_TIME = re.compile(r"\b(\d{1,2}) (h)\b(?: (\d\d)\b)?")


def format_filed_at(filed_at: datetime) -> str:
    """ "vendredi 14 mars 2025 à 10 h 32 (heure de Paris)" from an aware datetime.

    Built by hand rather than with ``strftime`` and the C locale, which is often not installed
    in French on the kiosk image.
    """
    zone, is_paris = counter_zone()  # the zone shared with the screens
    local = filed_at.astimezone(zone)
    day = "1er" if local.day == 1 else str(local.day)
    when = (
        f"{_WEEKDAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]} {local.year}"
        f" à {local.hour}{NBSP}h{NBSP}{local.minute:02d}"
    )
    return f"{when} (heure de Paris)" if is_paris else f"{when} (heure UTC)"


def format_day(day: date) -> str:
    """ "5 décembre 2026", "1er mars 2027": a day as a French letter writes it."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"


def mask_phone(telephone: str) -> str:
    """Mask a phone number, keeping what lets the person recognise it.

    The receipt may be lost or left on the counter, so the full number is not printed; the first
    two and last four digits are enough for the person to check the agent typed the right one.
    French numbers (``06 12 34 45 67``, ``+33 6 12 34 45 67``) print as ``06 •• •• 45 67``.
    """
    digits = re.sub(r"\D", "", telephone)
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    hidden = f"{BULLET}{BULLET}"
    if len(digits) == 10 and digits.startswith("0"):
        groups = [digits[0:2], hidden, hidden, digits[6:8], digits[8:10]]
    elif len(digits) > 4:
        plus = "+" if telephone.strip().startswith("+") else ""
        groups = [plus + hidden, hidden, digits[-4:-2], digits[-2:]]
    else:
        groups = [hidden, hidden]
    return NBSP.join(groups)


def keep_times_together(text: str) -> str:
    """Glue "8 h 45" with no-break spaces so opening hours never wrap between "13 h" and "30"."""
    return _TIME.sub(lambda m: NBSP.join(part for part in m.groups() if part), text)


def normalise_space(text: str) -> str:
    """Collapse line breaks and runs of spaces (values typed on a touchscreen carry stray ones)."""
    return _SPACES.sub(" ", text).strip()


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    """Cut text to fit width, ending with an ellipsis when something was cut."""
    if stringWidth(text, font, size) <= width:
        return text
    # Binary search on the prefix length: a 300-character value would otherwise take 300 measures.
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if stringWidth(text[:mid].rstrip() + ELLIPSIS, font, size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + ELLIPSIS


def _split_long_word(word: str, font: str, size: float, width: float) -> list[str]:
    """Break a word wider than the column (a VIN, a long address token) across lines."""
    # Summing per-character widths equals stringWidth (reportlab does not kern) and stays linear.
    pieces: list[str] = []
    start, used = 0, 0.0
    for index, char in enumerate(word):
        char_width = stringWidth(char, font, size)
        if used + char_width > width and index > start:
            pieces.append(word[start:index])
            start, used = index, 0.0
        used += char_width
    pieces.append(word[start:])
    return pieces


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to width; beyond max_lines the last kept line ends with an ellipsis.

    Always returns at least one line (possibly empty) so callers can count on a row height.
    """
    lines: list[str] = []
    current = ""
    for word in normalise_space(text).split(" "):
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if stringWidth(word, font, size) <= width:
            current = word
        else:
            *full, current = _split_long_word(word, font, size, width)
            lines.extend(full)
        if len(lines) > max_lines:
            break
    lines.append(current)
    if len(lines) > max_lines:
        kept = lines[:max_lines]
        kept[-1] = ellipsize(kept[-1] + ELLIPSIS, font, size, width)
        return kept
    return lines
