"""When the next request may leave: backoff with jitter, ``Retry-After``, a token bucket under the
service's advertised quota, and a circuit breaker. Pure logic on injected time and randomness.

Why each part (docs/sync.md has the numbers):

- *Decorrelated jitter* (``sleep = min(cap, uniform(base, 3 × previous))``) spreads a fleet's
  retries so that kiosks which failed together do not come back together.
- *Retry-After* is a floor: the service knows its own load better than we do.
- The *token bucket* keeps this kiosk under the rate the service advertises (``RateLimit-Policy``,
  adopted from every answer: the service shares its capacity among the kiosks active now, so the
  quota grows when others fall silent), with a margin; it starts empty after an outage so a
  recovering fleet does not burst. Each request costs 1 ± 0.5 token at random, and the pace
  restarts at a random phase after an outage or a 429: the same rate on average, but kiosks told
  the same quota at the same moment do not fall into step (to be refused together, again and again).
- The *circuit breaker* stops sending after a few consecutive failures: while it is open the
  worker sleeps (no busy loop offline) and then lets a single probe through.
- A dossier the service keeps failing on its own (:meth:`Scheduler.dossier_delay`) waits its
  own exponential backoff, up to an hour: it neither opens the circuit nor holds the others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

_EPSILON = 1e-6
_MIN_WAIT = 1e-3  # seconds
PACE_JITTER = 0.5  # a request costs 1 ± this many tokens: the same rate, never in step


@dataclass(frozen=True)
class SyncPolicy:
    """Tuning of the scheduler; the defaults are the values documented in docs/sync.md."""

    backoff_base: float = 1.0  # seconds: first retry delay
    backoff_cap: float = 60.0  # seconds: no kiosk waits longer than this between probes
    failure_threshold: int = 3  # consecutive failures that open the circuit
    default_rate: float = 1.0  # requests/s before the service has advertised a quota
    rate_margin: float = 0.95  # stay this fraction under the advertised quota
    burst: float = 2.0  # tokens: a short burst, never a flood
    retry_after_spread: float = 0.2  # extra random fraction added to Retry-After
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
        self._cap = cap
        self._rng = rng
        self._previous = base

    def next(self) -> float:
        """The next delay in seconds (grows roughly ×2 on average, never above the cap)."""
        delay = min(self._cap, self._rng.uniform(self._base, self._previous * 3))
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

    def __init__(self, policy: SyncPolicy, rng: random.Random, now: float) -> None:
        self.policy = policy
        self._rng = rng
        self._backoff = Backoff(policy.backoff_base, policy.backoff_cap, rng)
        self.bucket = TokenBucket(policy.default_rate * policy.rate_margin, policy.burst, now)
        self.state = CircuitState.CLOSED
        self.failures = 0  # consecutive
        self._not_before = now
        self.last_error: str | None = None

    def delay(self, now: float) -> float:
        """Seconds to wait before the next request may be sent (0: send now)."""
        if now < self._not_before - _EPSILON:
            return max(_MIN_WAIT, self._not_before - now)
        if self.state is CircuitState.OPEN:
            self.state = CircuitState.HALF_OPEN  # the cooldown is over: one probe may go
        return self.bucket.wait_time(now)

    def acquire(self, now: float) -> float:
        """Like :meth:`delay`, but spends the token when it returns 0."""
        wait = self.delay(now)
        if wait == 0.0:
            self.bucket.take(now, self._rng.uniform(1.0 - PACE_JITTER, 1.0 + PACE_JITTER))
        return wait

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

    def on_failure(self, now: float, error: str, retry_after: float | None = None) -> float:
        """The service is down, cut, or overloaded. Returns the delay before the next request."""
        self.failures += 1
        self.last_error = error
        delay = self._backoff.next()
        if retry_after is not None:
            delay = max(delay, self._spread(retry_after))
        if self.state is CircuitState.HALF_OPEN or self.failures >= self.policy.failure_threshold:
            self.state = CircuitState.OPEN
        self._not_before = now + delay
        return delay

    def on_rate_limited(
        self, now: float, retry_after: float | None, advertised_rate: float | None = None
    ) -> float:
        """HTTP 429: the service is up and asks us to wait; this does not open the circuit.

        The quota advertised with the refusal is adopted too: it is the service saying how much
        of it this kiosk may use now (less than before, typically, since we were refused).
        """
        delay = self._spread(retry_after) if retry_after is not None else self._backoff.next()
        self._not_before = max(self._not_before, now + delay)
        self.adopt_quota(now, advertised_rate)
        self._restart_pace(now)
        if self.state is CircuitState.HALF_OPEN:
            self.state = CircuitState.CLOSED
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
        """The link came back (an OS event): let one probe through at once."""
        if self.state is not CircuitState.CLOSED:
            self.state = CircuitState.HALF_OPEN
        self._not_before = now

    def next_attempt_in(self, now: float) -> float:
        """Seconds until the circuit lets a request through (for the status display)."""
        return max(0.0, self._not_before - now)
