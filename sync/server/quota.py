"""The per-client quota the service advertises: its capacity shared by the clients active now.

A fixed quota (capacity ÷ every kiosk of the fleet) wastes the service whenever part of the
fleet is idle: after an outage the kiosks come back over a minute and finish their backlogs at
different times, and each one stays paced at its small share while the service sits half empty.
Sharing the capacity among the clients *active now* gives each the whole of what is free:

    quota = (capacity − joining) ÷ active, within [floor, ceiling]

- *active*: clients that sent a request recently. A client counts until it has missed two of
  the slots its last quota gave it (``2 ÷ quota`` seconds, at least ``MIN_HOLD``, at most
  ``window``): a kiosk paced at its quota is never forgotten, and one that has finished frees its
  share within two of its intervals (not a fixed minute).
- *joining*: clients arriving per second (first request after having left the count), measured
  over the last ``ARRIVAL_WINDOW`` seconds and kept free for them, at most ``MAX_RESERVE`` of the
  capacity. A client's first request does not wait for a quota (after an outage it is the probe
  of a reconnecting kiosk, ~35 a second for 2,000 kiosks): without that room they would all land
  on a service already full and be refused.

The quotas add up to the capacity and the kiosks pace themselves at 95 % of theirs, so the fleet
fills the service without overloading it, and a kiosk left alone drains at full speed. The floor
(1/30 req/s) bounds a client's interval when the fleet outgrows the capacity; the 429s of the
service are then what holds the line.

Pure logic on injected time: the reference server (``sync.server.faults``) and the herd model of
``bench/sync_bench.py`` both use this class.
"""

from __future__ import annotations

import heapq
from collections import deque

DEFAULT_WINDOW = 60.0  # seconds: the longest a silent client stays counted
DEFAULT_FLOOR = 1.0 / 30.0  # requests/s: never advertise less
HOLD_SLOTS = 2.0  # a client stays counted until it has missed this many of its slots
MIN_HOLD = 5.0  # seconds: covers a Retry-After and a slow exchange at high quotas
ARRIVAL_WINDOW = 3.0  # seconds over which the rate of joining clients is measured
MIN_SPAN = 1.0  # seconds: the shortest span a rate is measured over
MAX_RESERVE = 0.5  # at most this share of the capacity is kept for joining clients


class FairShareQuota:
    """Counts the active clients and advertises the capacity's fair share to each."""

    def __init__(
        self,
        capacity: float,
        *,
        window: float = DEFAULT_WINDOW,
        floor: float = DEFAULT_FLOOR,
        ceiling: float | None = None,
    ) -> None:
        """Share ``capacity`` (requests/s) among the clients active now.

        Args:
            capacity: requests per second the whole service accepts.
            window: the longest a client stays counted after its last request (seconds).
            floor: the smallest quota advertised (requests/s).
            ceiling: the largest quota advertised (default: the capacity itself).
        """
        if capacity <= 0 or window <= 0:
            raise ValueError("capacity and window must be positive")
        self.capacity = capacity
        self.window = window
        self.floor = floor
        self.ceiling = ceiling
        self._until: dict[str, float] = {}  # client → when it stops counting
        self._expiries: list[tuple[float, str]] = []  # heap; stale entries skipped
        self._arrivals: deque[float] = deque()  # when a client not counted was first seen

    def _expire(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            until, client = heapq.heappop(self._expiries)
            if self._until.get(client) == until:  # not seen again since
                del self._until[client]
        while self._arrivals and self._arrivals[0] <= now - ARRIVAL_WINDOW:
            self._arrivals.popleft()

    def active(self, now: float) -> int:
        """Clients counted as active at ``now``."""
        self._expire(now)
        return len(self._until)

    def arrival_rate(self, now: float) -> float:
        """Clients joining per second, lately."""
        self._expire(now)
        if not self._arrivals:
            return 0.0
        # Over the span actually observed: right after a quiet spell (a fleet coming back) a
        # division by the whole window would underestimate it.
        span = min(ARRIVAL_WINDOW, max(MIN_SPAN, now - self._arrivals[0]))
        return len(self._arrivals) / span

    def quota(self, now: float, client: str | None = None) -> float:
        """The quota of ``client`` (requests/s), without counting it.

        A client not counted yet (or an anonymous one) is told the share it gets once it is.
        """
        active = self.active(now)
        if client is None or client not in self._until:
            active += 1
        # Joining clients send their first request whatever the quota: keep room for them.
        free = self.capacity - min(self.arrival_rate(now), self.capacity * MAX_RESERVE)
        ceiling = self.capacity if self.ceiling is None else min(self.ceiling, self.capacity)
        return max(min(self.floor, ceiling), min(ceiling, free / active))

    def seen(self, client: str, now: float) -> float:
        """Count a request of ``client`` at ``now``; returns its quota (requests/s)."""
        self._expire(now)
        if client not in self._until:
            self._arrivals.append(now)
            self._until[client] = now + MIN_HOLD  # counted before its share is computed
        quota = self.quota(now, client)
        until = now + min(self.window, max(MIN_HOLD, HOLD_SLOTS / quota))
        self._until[client] = until
        heapq.heappush(self._expiries, (until, client))  # the one it replaces becomes stale
        return quota
