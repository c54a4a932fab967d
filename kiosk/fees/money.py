"""Amounts in integer cents, written for the reader: ``1 234,56 €`` in French.

Money is never a float in the kiosk: every figure of a tariff is whole cents, and the one
rounding (a rate per CV times a share) happens once, half up, in kiosk/fees/estimate.py. The
writing itself is kiosk/messages.py's (:func:`~kiosk.messages.format_money`), so that an amount
inside a translated sentence (:class:`~kiosk.messages.Euros`) and one on its own read alike.
"""

from __future__ import annotations

from kiosk.messages import SOURCE_LANGUAGE, format_money

__all__ = ["format_euros"]


def format_euros(cents: int, lang: str = SOURCE_LANGUAGE) -> str:
    """``123456`` → ``"1 234,56 €"`` (no-break spaces; always two decimals); ``€1,234.56`` in
    English."""
    return format_money(cents, lang)
