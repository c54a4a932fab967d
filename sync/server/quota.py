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
  on a service already full and be refused. Once every kiosk of a fleet the service knows has
  joined, none is left to come: room is kept only for the comings and goings of those already
  there (a site's counters starting their sync together no longer drain at 40 % for 3 s).

A client that says it has nothing left to send after this request (``Queue-Length: 0``) stops
counting at once: waiting for it to miss two slots kept shares idle at the end of a drain, while
the kiosks still sending learnt of the room only at their next slot.

The quotas add up to the capacity and the kiosks pace themselves a little under theirs, so the
fleet fills the service without overloading it, and a kiosk left alone drains at full speed. The
floor (one request an hour, the kiosk's own) only bounds a client's interval for a fleet of
thousands of times the capacity: a floor above the fair share would hand out more than the
capacity (1/30 req/s to each of 10,000 kiosks is 3.3 times 100 req/s).

The *fleet* (:meth:`FairShareQuota.fleet`) is what the service says of its size beside its
capacity (``Service-Capacity``): the kiosks enrolled when it knows them, else those seen over the
last day. A kiosk that cannot reach the service spreads its probes over ``fleet ÷ (budget ×
capacity)`` seconds (``sync.policy``): the service learns nothing of a fleet that cannot reach
it, so its kiosks must have been told its size before.

Pure logic on injected time: the reference server (``sync.server.faults``) and the herd model of
``bench/sync_bench.py`` both use this class.
"""

from __future__ import annotations

import heapq
from collections import deque

DEFAULT_FLOOR = 1.0 / 3600.0  # requests/s: never advertise less (the kiosk's own floor)
DEFAULT_WINDOW = 2.0 / DEFAULT_FLOOR  # seconds: the longest a silent client stays counted
FLEET_WINDOW = 86_400.0  # seconds: a client seen within the last day is part of the fleet
HOLD_SLOTS = 2.0  # a client stays counted until it has missed this many of its slots
MIN_HOLD = 5.0  # seconds: covers a Retry-After and a slow exchange at high quotas
ARRIVAL_WINDOW = 3.0  # seconds over which the rate of joining clients is measured
WAVE = 2  # kiosks arriving in the first seconds after a quiet spell that make a wave
MIN_SPAN = 0.1  # seconds: the shortest span a rate is measured over
MAX_RESERVE = 0.6  # at most this share of the capacity is kept for joining clients
RESERVE_MARGIN = 1.2  # room kept for them, over their rate: arrivals come by whole requests
ARRIVALS_END = 1.1  # margin on when the arrivals are expected to end (fleet left ÷ their rate)


class FairShareQuota:
    """Counts the active clients and advertises the capacity's fair share to each."""

    def __init__(
        self,
        capacity: float,
        *,
        window: float = DEFAULT_WINDOW,
        floor: float = DEFAULT_FLOOR,
        ceiling: float | None = None,
        enrolled: int | None = None,
    ) -> None:
        """Share ``capacity`` (requests/s) among the clients active now.

        Args:
            capacity: requests per second the whole service accepts.
            window: the longest a client stays counted after its last request (seconds).
            floor: the smallest quota advertised (requests/s).
            ceiling: the largest quota advertised (default: the capacity itself).
            enrolled: the kiosks the service serves, when it knows them (default: those seen
                over the last day).
        """
        if capacity <= 0 or window <= 0:
            raise ValueError("capacity and window must be positive")
        self.capacity = capacity
        self.window = window
        self.floor = floor
        self.ceiling = ceiling
        self.enrolled = enrolled
        self._until: dict[str, float] = {}  # client → when it stops counting
        self._expiries: list[tuple[float, str]] = []  # heap; stale entries skipped
        self._arrivals: deque[float] = deque()  # when a client not counted was first seen
        self._firsts: deque[float] = deque()  # the arrivals of clients new to this wave
        self._wave: set[str] = set()  # the clients seen since the arrivals came again
        self._known: dict[str, float] = {}  # client → when it last joined the count
        self._booking: set[str] = set()  # counted clients that say what they have queued
        self._tail = 0.0  # the first place of the round not booked yet
        self._wave_start = 0.0  # when arrivals came again after none for ARRIVAL_WINDOW
        self._joined: deque[tuple[float, str]] = deque()  # (when, client), oldest first

    def _expire(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            until, client = heapq.heappop(self._expiries)
            if self._until.get(client) == until:  # not seen again since
                del self._until[client]
                self._booking.discard(client)
        while self._arrivals and self._arrivals[0] <= now - ARRIVAL_WINDOW:
            self._arrivals.popleft()
        while self._firsts and self._firsts[0] <= now - ARRIVAL_WINDOW:
            self._firsts.popleft()
        while self._joined and self._joined[0][0] <= now - FLEET_WINDOW:
            at, client = self._joined.popleft()
            if client in self._until:  # still counted: still in the fleet
                self._known[client] = now
                self._joined.append((now, client))
            elif self._known.get(client) == at:
                del self._known[client]

    def fleet(self, now: float) -> int:
        """The kiosks the service serves: those enrolled, or at least those seen lately."""
        self._expire(now)
        return max(self.enrolled or 0, len(self._known))

    def active(self, now: float) -> int:
        """Clients counted as active at ``now``."""
        self._expire(now)
        return len(self._until)

    def arrival_rate(self, now: float, *, firsts: bool = False) -> float:
        """Clients joining per second, lately (``firsts``: those new to this wave)."""
        self._expire(now)
        if not self._arrivals:
            return 0.0
        # Over the span actually observed: right after a quiet spell (a fleet coming back) a
        # division by the whole window would underestimate it. Between arrivals: one kiosk
        # alone coming back is no rate at all, and must not halve its own first seconds.
        span = min(ARRIVAL_WINDOW, max(MIN_SPAN, now - self._arrivals[0]))
        return max(0, len(self._firsts if firsts else self._arrivals) - 1) / span

    def quota(self, now: float, client: str | None = None) -> float:
        """The quota of ``client`` (requests/s), without counting it.

        A client not counted yet (or an anonymous one) is told the share it gets once it is.
        """
        active = self.active(now)
        if client is None or client not in self._until:
            active += 1
        ceiling = self.capacity if self.ceiling is None else min(self.ceiling, self.capacity)
        return max(min(self.floor, ceiling), min(ceiling, self.free(now) / active))

    def free(self, now: float) -> float:
        """Requests/s for the clients counted: the capacity less the room kept for arrivals.

        Joining clients send their first request whatever the quota (or place) they were given.
        In the first seconds of a wave of them after a quiet spell (a fleet finding the service
        back) their rate is not measured yet, and grows: all the room they may take is kept.
        """
        return self._free(now, self.arrival_rate(now))

    def _free(self, now: float, arrivals: float) -> float:
        if self.fleet_back(now):
            # No kiosk of the fleet is left to join: room is kept for the comings and goings of
            # those already seen only (a site's counters starting their sync together are a
            # wave of two or more, but once they are all there nobody else is coming).
            arrivals = max(0.0, arrivals - self.arrival_rate(now, firsts=True))
        elif len(self._firsts) >= WAVE and now - self._wave_start < ARRIVAL_WINDOW:
            arrivals = self.capacity
        return self.capacity - min(arrivals * RESERVE_MARGIN, self.capacity * MAX_RESERVE)

    def fleet_back(self, now: float) -> bool:
        """Whether every kiosk the service serves has joined since the arrivals came again.

        Known only when the service knows its fleet (``enrolled``); the kiosks seen lately are
        only a floor of it (a fleet never seen before is still coming)."""
        return self.enrolled is not None and len(self._wave) >= self.fleet(now)

    def book(self, client: str, now: float) -> float:
        """Book the next request of ``client`` (counted, with more to send): seconds from now.

        The places of the clients that book follow one another at their share of the free
        capacity (all of it when they all book): each client's next place comes after everyone
        else's, so the service's load is even, no more a second than its capacity, and a
        client alone, or the last one with a queue, gets every place.
        """
        self._expire(now)
        self._booking.add(client)
        share = len(self._booking) / max(len(self._until), len(self._booking))
        at = max(now, self._tail)
        # Room is kept for the clients new to this wave only as long as they can go on
        # coming: the kiosks of the fleet not seen since, at the rate they come (after an
        # outage, the fleet's window). A place beyond that keeps room for the others' comings
        # and goings only: a round booked while the fleet came back would otherwise go on at
        # half speed long after the last kiosk was back.
        arrivals = self.arrival_rate(now)
        firsts = self.arrival_rate(now, firsts=True)
        left = max(0, self.fleet(now) - len(self._wave))
        if (
            firsts > 0
            and not self.fleet_back(now)  # _free leaves them out itself
            and at - now >= ARRIVALS_END * left / firsts + ARRIVAL_WINDOW
        ):
            arrivals -= firsts
        self._tail = at + 1.0 / (self._free(now, arrivals) * share)
        return at - now

    def seen(self, client: str, now: float, waiting: int | None = None) -> float:
        """Count a request of ``client`` at ``now``; returns its quota (requests/s).

        ``waiting``: the requests the client says it has queued after this one
        (``Queue-Length``); at 0 it stops counting at once (told the share it would have, in
        case a dossier comes). ``None`` (not said): counted until it misses two slots.
        """
        self._expire(now)
        if client not in self._until:
            if not self._arrivals:
                self._wave_start = now  # the first arrival after a quiet spell
                self._wave.clear()
            self._arrivals.append(now)
            if client not in self._wave:
                self._wave.add(client)
                self._firsts.append(now)
            self._until[client] = now + MIN_HOLD  # counted before its share is computed
            self._known[client] = now
            self._joined.append((now, client))
        if waiting == 0:
            del self._until[client]  # its entries in the expiry heap are stale from now on
            self._booking.discard(client)
            return self.quota(now, client)
        quota = self.quota(now, client)
        until = now + min(self.window, max(MIN_HOLD, HOLD_SLOTS / quota))
        self._until[client] = until
        heapq.heappush(self._expiries, (until, client))  # the one it replaces becomes stale
        return quota
