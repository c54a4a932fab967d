"""The counter's time zone: timestamps are stored in UTC and read, on screen and on paper, in it.

The one place that knows which zone the counter is in; the receipt, the mandate screen and any
other time shown to a person or an agent convert through :func:`counter_time`.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["COUNTER_ZONE", "counter_time", "counter_zone"]

#: The préfectures' counters of metropolitan France.
COUNTER_ZONE = "Europe/Paris"


def counter_zone() -> tuple[tzinfo, bool]:
    """The counter's zone and ``True``, or UTC and ``False`` when the system has no time-zone
    database.

    Kiosk images are sometimes stripped of tzdata (and the ``tzdata`` wheel is not a dependency):
    a time shown in UTC, *labelled as UTC*, is better than refusing to print the person's only
    record.
    """
    try:
        return ZoneInfo(COUNTER_ZONE), True
    except ZoneInfoNotFoundError:
        return UTC, False


def counter_time(at: datetime) -> datetime:
    """``at`` (timezone-aware) as the counter's clock shows it (UTC without time-zone data)."""
    zone, _found = counter_zone()
    return at.astimezone(zone)
