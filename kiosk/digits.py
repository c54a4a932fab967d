"""Digits as the person types them, read as the ASCII digits French records are written with.

Data typed at the kiosk (a CAN, a postcode, a phone number, a plate, a date, a document number, a
PIN) is Latin whatever the screen's language, and the on-screen keyboard offers Latin keys for
it. Digits from another script can still arrive: the Arabic keyboard's ``١٢٣`` (U+0660–0669), the
Persian ``۱۲۳`` (U+06F0–06F9), an input method's fullwidth ``１２３`` (U+FF10–FF19), a physical
keyboard or a paste. They are the same numbers, so every parser of typed text starts here.

Every decimal digit of Unicode (general category Nd) is mapped, not only those three ranges:
Python's ``\\d``, ``str.isdigit`` and ``int`` accept all of them, so a digit left unmapped could
pass a check and be stored as typed (``AB-١٢٣-CD``), where the national API wants ``AB-123-CD``.
Superscripts and other non-decimal "digits" (``²``) are not numbers of a record: they stay as they
are, and the parsers refuse them.
"""

from __future__ import annotations

import unicodedata

__all__ = ["ascii_digits"]


def ascii_digits(text: str) -> str:
    """``text`` with each decimal digit of any script replaced by its ASCII digit.

    >>> ascii_digits("٧٥٠٠١ Paris")
    '75001 Paris'
    """
    if text.isascii():  # the usual case, at no cost
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
