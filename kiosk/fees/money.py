"""Amounts in integer cents, written the French way: ``1 234,56 €``.

Money is never a float in the kiosk: every figure of a tariff is whole cents, and the one
rounding (a rate per CV times a share) happens once, half up, in kiosk/fees/estimate.py.
"""

from __future__ import annotations

__all__ = ["format_euros"]

_THIN = "\u202f"  # narrow no-break space between thousands, as French typography wants
_NBSP = "\u00a0"  # no-break space before the euro sign: « 13,76 € » never splits on a line


def format_euros(cents: int) -> str:
    """``123456`` → ``"1 234,56 €"`` (no-break spaces; always two decimals)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    digits = str(euros)
    head = len(digits) % 3 or 3
    grouped = _THIN.join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])
    return f"{sign}{grouped},{rest:02d}{_NBSP}€"
