"""Time, injectable: the real clock and sleeper, and simulated ones that never really wait.

The scheduler and the worker read time only through :class:`Clock` and wait only through
:class:`Sleeper`, so the very same code runs in real time at the counter and in simulated time in
tests and in the herd benchmark (2,000 kiosks, 30 minutes, in a few seconds).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Seconds since the epoch (float); monotonic enough for scheduling."""

    def time(self) -> float:
        """The current time in seconds."""
        ...


class Sleeper(Protocol):
    """Waits, and can be woken early (a dossier queued, the link back)."""

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``; return early if :meth:`wake` is called."""
        ...

    def wake(self) -> None:
        """End the current (or next) wait at once."""
        ...


def as_datetime(clock: Clock) -> datetime:
    """The clock's time as an aware UTC datetime (for the store)."""
    return datetime.fromtimestamp(clock.time(), UTC)


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        """``time.time()``."""
        return time.time()


class ThreadSleeper:
    """Real waiting on an event, so another thread can wake the worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def sleep(self, seconds: float) -> None:
        """Wait on the event for at most ``seconds``."""
        if seconds > 0:
            self._event.wait(seconds)
        self._event.clear()

    def wake(self) -> None:
        """Set the event (thread-safe)."""
        self._event.set()


class SimClock:
    """Simulated time: starts at ``start`` and moves only when told."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def time(self) -> float:
        """The simulated time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += max(0.0, seconds)


class SimSleeper:
    """A sleeper that advances a :class:`SimClock` instead of waiting; records every wait."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        """Advance simulated time by ``seconds``."""
        self.waits.append(seconds)
        self.clock.advance(seconds)

    def wake(self) -> None:
        """Nothing to interrupt in simulated time."""
