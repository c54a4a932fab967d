"""When the next request may leave: backoff with jitter, ``Retry-After``, a token bucket under the
service's advertised quota, the place the service booked, and a circuit breaker. Pure logic on
injected time and randomness.

Why each part (docs/sync.md has the numbers):

- *Decorrelated jitter* (``sleep = min(cap, uniform(base, 3 × previous))``) spreads a fleet's
  retries so that kiosks which failed together do not come back together.
- *Retry-After* is a floor: the service knows its own load better than we do. A 503 with
  ``Retry-After`` (a front still up while the service behind it is down) is honoured, and the
  kiosk comes back at its own slot of the fleet's window after it (below).
- *The fleet's window*: every answer says the service's capacity, the size of its fleet and this
  kiosk's rank in it (``Service-Capacity: c=…;n=…;r=…``). Once the circuit is open, a kiosk
  probes once per ``fleet ÷ (probe_budget × capacity)`` seconds (one minute at least), so that
  the probes of the whole fleet take at most ``probe_budget`` of the capacity however large the
  fleet, each at a *slot* of its own in that window on the shared clock (its rank's place,
  bit-reversed, or a random one): a fleet cut at once probes evenly instead of in bunches,
  and finds the service back at an even rate. A link back (``probe_now``) probes at the
  kiosk's next slot of that window: a region's network restored tells all its kiosks at once.
- *The booked place*: a kiosk that says how many requests it has queued (``Queue-Length``) is
  given the time of its next one (``Next-Request-In``): the service books its places in turn,
  no more a second than its capacity, so that its load is even instead of the sum of thousands
  of independent paces. A booked request does not wait for the token bucket.
- The *token bucket* keeps this kiosk under the rate the service advertises (``RateLimit-Policy``,
  adopted from every answer: the service shares its capacity among the kiosks active now, so the
  quota grows when others fall silent), with a margin; it starts empty after an outage so a
  recovering fleet does not burst. Each request costs 1 ± 0.5 token at random, and the pace
  restarts at a random phase after an outage or a 429: the same rate on average, but kiosks told
  the same quota at the same moment do not fall into step (to be refused together, again and again).
  It is what paces a kiosk against a service that books nothing.
- The *circuit breaker* stops sending after a few consecutive failures: while it is open the
  worker sleeps (no busy loop offline) and then lets a single probe through.
- A dossier the service keeps failing on its own (:meth:`Scheduler.dossier_delay`) waits its
  own exponential backoff, up to an hour: it neither opens the circuit nor holds the others.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum

from kiosk.ports.national import QuotaHint

_EPSILON = 1e-6
_MIN_WAIT = 1e-3  # seconds
PACE_JITTER = 0.5  # a request costs 1 ± this many tokens: the same rate, never in step
_SLOT_GAP = 1e-3  # of an interval: the least between a probe and the slot of the next one


@dataclass(frozen=True)
class SyncPolicy:
    """Tuning of the scheduler; the defaults are the values documented in docs/sync.md."""

    backoff_base: float = 1.0  # seconds: first retry delay
    # seconds: the longest between probes while the service's size is unknown, and the
    # shortest once it is known (a fleet larger against the capacity probes less often).
    backoff_cap: float = 60.0
    # The share of the service's capacity the probes of its whole fleet may take while it does
    # not answer (and so the rate at which its kiosks find it back): see ``probe_window``. The
    # service keeps as much room for kiosks coming back (``sync.server.quota.MAX_RESERVE``).
    probe_budget: float = 0.5
    # Whatever size the service says it has, a kiosk that cannot reach it probes at least this
    # often (a hostile ``n=10000000000`` must not park the queue).
    probe_cap: float = 3600.0
    failure_threshold: int = 3  # consecutive failures that open the circuit
    default_rate: float = 1.0  # requests/s before the service has advertised a quota
    rate_margin: float = 0.95  # stay this fraction under the advertised quota
    burst: float = 2.0  # tokens: a short burst, never a flood
    # Kiosks told the same Retry-After come back over this fraction of it after it (a 429, or
    # a 503 from a service that has not said its size; else over the fleet's window).
    retry_after_spread: float = 0.2
    # A Retry-After of days (a proxy's wrong clock, a hostile answer) must not park the queue:
    # whatever the server says, the kiosk asks again at least this often.
    retry_after_cap: float = 3600.0
    # Nor may an advertised quota (``q=0.00001``: one request a day): whatever the service says,
    # the kiosk sends at least one request an hour.
    min_rate: float = 1.0 / 3600.0
    # A dossier the service keeps failing on its own is retried at least this often (and not
    # every minute for ever: its failures are not the service's, no probe is needed).
    dossier_backoff_cap: float = 3600.0


class CircuitState(StrEnum):
    """States of the circuit breaker; values are shown to the agent."""

    CLOSED = "ferme"  # requests flow
    OPEN = "ouvert"  # the service is considered down: nothing is sent until the cooldown ends
    HALF_OPEN = "semi_ouvert"  # one probe is allowed through

    @property
    def label(self) -> str:
        """What the agent reads."""
        return {
            CircuitState.CLOSED: "service joignable",
            CircuitState.OPEN: "service injoignable (nouvel essai programmé)",
            CircuitState.HALF_OPEN: "essai de reconnexion",
        }[self]


class Backoff:
    """Decorrelated-jitter exponential backoff with a cap."""

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        self._base = base
        self.cap = cap  # the scheduler moves it with what the service says of its size
        self._rng = rng
        self._previous = base

    def next(self) -> float:
        """The next delay in seconds (grows roughly ×2 on average, never above the cap)."""
        delay = min(self.cap, self._rng.uniform(self._base, self._previous * 3))
        self._previous = max(self._base, delay)
        return delay

    def reset(self) -> None:
        """Back to the base delay (after a success)."""
        self._previous = self._base


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per request."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = 0.0  # start empty: a process (re)starting must not burst
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now

    def set_rate(self, rate: float, now: float) -> None:
        """Change the rate (the service advertised a new quota)."""
        self._refill(now)
        self.rate = rate

    def empty(self, now: float, keep: float = 0.0) -> None:
        """Drop saved tokens beyond ``keep`` (after an outage, after a 429)."""
        self._refill(now)
        self._tokens = min(self._tokens, keep)

    def shift(self, tokens: float) -> None:
        """Move the bucket's level by ``tokens`` (negative: the next token comes later)."""
        self._tokens = min(self.burst, self._tokens + tokens)

    def wait_time(self, now: float) -> float:
        """Seconds until a token is available (0 if one is)."""
        self._refill(now)
        if self._tokens >= 1.0 - _EPSILON:
            return 0.0
        # Never a vanishing wait: added to an epoch timestamp it would be lost to rounding.
        return max(_MIN_WAIT, (1.0 - self._tokens) / self.rate)

    def take(self, now: float, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens, one by default (call when :meth:`wait_time` is 0)."""
        self._refill(now)
        self._tokens -= cost


class Scheduler:
    """Decides when the next request may go. Not thread-safe: one per worker."""

    def __init__(
        self,
        policy: SyncPolicy,
        rng: random.Random,
        now: float,
        service: QuotaHint | None = None,
    ) -> None:
        """``service``: what the service last said of itself, read at every decision (the HTTP
        client updates it from each answer's headers; the herd benchmark's model likewise)."""
        self.policy = policy
        self._rng = rng
        self._backoff = Backoff(policy.backoff_base, policy.backoff_cap, rng)
        self.bucket = TokenBucket(policy.default_rate * policy.rate_margin, policy.burst, now)
        self.state = CircuitState.CLOSED
        self.failures = 0  # consecutive
        self._not_before = now
        self.last_error: str | None = None
        self.service = service if service is not None else QuotaHint()
        self._random_phase = rng.random()  # this kiosk's slot while the service gives no rank
        self._rank, self._rank_phase = -1, 0.0  # the last rank told, and its phase
        self._booked: float | None = None  # when the place the service booked for us comes

    def delay(self, now: float) -> float:
        """Seconds to wait before the next request may be sent (0: send now)."""
        self._take_booking(now)
        if now < self._not_before - _EPSILON:
            return max(_MIN_WAIT, self._not_before - now)
        if self.state is CircuitState.OPEN:
            self.state = CircuitState.HALF_OPEN  # the cooldown is over: one probe may go
        if self._booked is not None:
            return 0.0 if now >= self._booked - _EPSILON else max(_MIN_WAIT, self._booked - now)
        return self.bucket.wait_time(now)

    def acquire(self, now: float) -> float:
        """Like :meth:`delay`, but spends the token (or the booked place) when it returns 0."""
        wait = self.delay(now)
        if wait == 0.0:
            if self._booked is not None:
                # The service's place, not the bucket's token: no tokens saved meanwhile either
                # (a service that stops booking gets this kiosk's quota, not a burst).
                self._booked = None
                self.bucket.empty(now)
            else:
                self.bucket.take(now, self._rng.uniform(1.0 - PACE_JITTER, 1.0 + PACE_JITTER))
        return wait

    def _take_booking(self, now: float) -> None:
        """Read the place the last answer booked (``Next-Request-In``), once."""
        booked_in = self.service.next_in
        if booked_in is not None:
            self.service.next_in = None
            if math.isfinite(booked_in) and booked_in >= 0:
                self._booked = now + min(booked_in, self.policy.retry_after_cap)

    def on_success(self, now: float, advertised_rate: float | None = None) -> None:
        """The service answered (accepted, replayed, or refused the dossier as invalid)."""
        if self.state is not CircuitState.CLOSED:
            # Right after an outage: no saved tokens, the quota's pace from the first request
            # (2,000 kiosks each bursting as they reconnect is the herd we are avoiding).
            self._restart_pace(now)
        self.state = CircuitState.CLOSED
        self.failures = 0
        self.last_error = None
        self._backoff.reset()
        self.adopt_quota(now, advertised_rate)

    def adopt_quota(self, now: float, advertised_rate: float | None) -> None:
        """Pace at the quota the service advertised last (``RateLimit-Policy``), with margin."""
        if advertised_rate is not None and advertised_rate > 0:
            rate = max(advertised_rate * self.policy.rate_margin, self.policy.min_rate)
            self.bucket.set_rate(rate, now)

    def fair_share(self) -> float:
        """The service's capacity over its fleet (requests/s), as it said; 0 if it has not."""
        capacity, fleet = self.service.capacity, self.service.fleet
        if capacity is None or fleet is None or not capacity > 0 or not fleet > 0:
            return 0.0
        share = capacity / fleet
        return share if math.isfinite(share) else 0.0

    def probe_window(self) -> float:
        """Seconds over which the fleet's first requests must spread to take at most
        ``probe_budget`` of the service's capacity: ``fleet ÷ (probe_budget × capacity)``, at
        most ``probe_cap``; 0 while the service has not said its size."""
        fair = self.fair_share()
        if fair <= 0:
            return 0.0
        return min(self.policy.probe_cap, 1.0 / (self.policy.probe_budget * fair))

    def probe_interval(self) -> float:
        """The wait between two probes while the circuit is open: the fleet's window, and never
        under ``backoff_cap`` (a kiosk need not knock more than once a minute)."""
        return max(self.policy.backoff_cap, self.probe_window())

    def phase(self) -> float:
        """This kiosk's place in any window, in [0, 1): its rank in the fleet bit-reversed (so
        that any run of ranks, a region enrolled together, falls evenly), or a random one."""
        rank = self.service.rank
        if rank is None or rank < 0:
            return self._random_phase
        if rank != self._rank:
            self._rank, self._rank_phase = rank, _bit_reversed(rank)
        return self._rank_phase

    def _slot(self, at: float, window: float) -> float:
        """This kiosk's first slot at or after ``at`` in a window of ``window`` seconds."""
        if window < _MIN_WAIT:
            return at
        # Slots on the shared clock: the kiosks' phases spread them evenly, whatever each
        # one's history (kiosks cut at the same second otherwise probe in bunches for hours).
        phase = self.phase()
        return max(at, (math.ceil(at / window - phase) + phase) * window)

    def on_failure(self, now: float, error: str, retry_after: float | None = None) -> float:
        """The service is down, cut, or overloaded. Returns the delay before the next request."""
        self.failures += 1
        self.last_error = error
        self._booked = self.service.next_in = None  # a place booked by a service now gone
        if self.state is CircuitState.HALF_OPEN or self.failures >= self.policy.failure_threshold:
            self.state = CircuitState.OPEN
        interval = self.probe_interval()
        self._backoff.cap = interval
        delay = self._backoff.next()
        if self.state is CircuitState.OPEN:
            # The service is taken as down: one probe per interval, at this kiosk's slot (the
            # next one, never the one just used: a probe may leave a hair before its slot).
            delay = self._slot(now + interval * _SLOT_GAP, interval) - now
        if retry_after is not None:
            # Told when to come back (a front up while the service behind it is down): then,
            # at this kiosk's place in the fleet's window, so that a fleet told the same end
            # comes back at an even rate, and not a fifth of a six-hour maintenance late. On the
            # shared clock, from the middle of the wait's last second: ``Retry-After`` counts
            # whole seconds, so kiosks told at different moments know the end only to a second,
            # and counted from each one's own rounding they would come back in clumps.
            wait = min(retry_after, self.policy.retry_after_cap)
            window = self.probe_window()
            if window > 0:
                back = self._slot(now + max(0.0, wait - 0.5), window) - now
            else:  # the fleet's size unknown: within a fifth of the wait after it
                back = wait * (1.0 + self.phase() * self.policy.retry_after_spread)
            delay = max(delay, back)
        self._not_before = now + delay
        return delay

    def on_rate_limited(
        self, now: float, retry_after: float | None, advertised_rate: float | None = None
    ) -> float:
        """HTTP 429: the service is up and asks us to wait; this does not open the circuit.

        The quota advertised with the refusal is adopted too: it is the service saying how much
        of it this kiosk may use now (less than before, typically, since we were refused). A
        place booked with the refusal is the wait, as it is (spread by the service already).
        """
        self.adopt_quota(now, advertised_rate)
        if self.state is CircuitState.HALF_OPEN:
            self.state = CircuitState.CLOSED
        booked_in = self.service.next_in
        if booked_in is not None and math.isfinite(booked_in) and booked_in >= 0:
            self._take_booking(now)
            return min(booked_in, self.policy.retry_after_cap)
        delay = self._spread(retry_after) if retry_after is not None else self._backoff.next()
        self._not_before = max(self._not_before, now + delay)
        self._restart_pace(now)
        return delay

    def dossier_delay(self, attempts: int) -> float:
        """Seconds before retrying a dossier after its ``attempts``-th failure of its own.

        Doubles from the base delay up to ``dossier_backoff_cap``, with a random half taken
        off (rows that failed together do not come back together); the circuit is untouched.
        """
        full = self.policy.backoff_base * 2.0 ** min(max(attempts - 1, 0), 30)
        return min(self.policy.dossier_backoff_cap, full) * self._rng.uniform(0.5, 1.0)

    def _restart_pace(self, now: float) -> None:
        # No saved tokens, and a random phase: kiosks answered in the same second (the end of
        # an outage, a wave of 429s) would otherwise all get their next token in the same
        # second, one interval later, and meet again there, for ever.
        self.bucket.empty(now)
        self.bucket.shift(self._rng.uniform(-PACE_JITTER, PACE_JITTER))

    def _spread(self, retry_after: float) -> float:
        # Everyone told "come back in 30 s" at the same moment must not come back at the same
        # moment: add a random fraction on top (never less than asked).
        wait = min(retry_after, self.policy.retry_after_cap)
        return wait * (1.0 + self._rng.uniform(0.0, self.policy.retry_after_spread))

    def probe_now(self, now: float) -> None:
        """The link came back (an OS event): let one probe through at this kiosk's next slot of
        the fleet's window (at once while the service has not said its size, and within
        seconds for a fleet small against the capacity). A region's network restored tells
        all its kiosks at the same second: probing at once, they would all arrive together."""
        if self.failures == 0:
            return  # nothing failed: nothing waits for the link
        if self.state is CircuitState.OPEN:
            self.state = CircuitState.HALF_OPEN
        self._not_before = min(self._not_before, self._slot(now, self.probe_window()))

    def next_attempt_in(self, now: float) -> float:
        """Seconds until the circuit lets a request through (for the status display)."""
        return max(0.0, self._not_before - now)


def _bit_reversed(rank: int) -> float:
    """``rank``'s binary digits mirrored after the point (1 → 0.5, 2 → 0.25, 3 → 0.75, …): the
    van der Corput sequence, in which any run of consecutive ranks falls evenly in [0, 1)."""
    place, weight = 0.0, 0.5
    while rank and weight > 1e-12:
        if rank & 1:
            place += weight
        rank >>= 1
        weight /= 2
    return place
