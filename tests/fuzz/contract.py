"""What a fuzz target is, and what counts as a crash.

A target takes bytes and runs real product code on them. Its contract says which exceptions
are the product's *clear* refusal (its own error types, with a French message the agent can
read); anything else escaping, a warning, a result that breaks an invariant, or an input running
past the time limit is a crash (or a hang). The same contract is checked by the pytest properties
and by ``bench/fuzz_bench.py``.
"""

from __future__ import annotations

import re
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType


class Crash(Exception):
    """The target broke its contract (the cause, if any, is ``__cause__``)."""


class Hang(BaseException):
    """An input ran past its time limit.

    A ``BaseException`` so that product code catching ``Exception`` cannot swallow it.
    """


# Words and letters of any French sentence; an English library message has none of them.
_FRENCH = re.compile(
    r"[àâçéèêëîïôûùüÿœ«»]|\b(?:le|la|les|de|du|des|un|une|au|aux|et|ou|est|pas|sans|sur|"
    r"dans|pour|par|avec|ne|n'|d'|l'|qu'|attendu|attendue|invalide|illisible|trop|ligne)\b",
    re.IGNORECASE,
)


def french(message: str) -> bool:
    """True when ``message`` is a non-blank sentence with French in it."""
    return bool(message.strip()) and _FRENCH.search(message) is not None


def require(condition: bool, what: str) -> None:
    """An invariant of a target's result: its failure is a crash, like an exception."""
    if not condition:
        raise Crash(what)


@dataclass(frozen=True)
class Target:
    """One parser (or exchange) under fuzzing, with its contract.

    Attributes:
        name: short name, used on the command line and in the bench's table.
        what: the product code exercised, in a few words.
        run: feeds one input to the product code; returns normally when it is accepted.
        clear: the exception types that are the product's clear refusal.
        seeds: real inputs to start from (files shipped, genuine chip files, contract answers).
        max_len: the largest input the coverage-guided fuzzer builds.
        time_limit: seconds one input may take before it counts as a hang.
        server_text: exception types whose message may be the remote party's own text
            (a national-service problem ``detail``): non-blank is required, French is not.
        tolerated: warning categories the product lets a library give on such input (a
            decompression bomb Pillow warns about, whose photo is then dropped); any other
            warning is a crash.
    """

    name: str
    what: str
    run: Callable[[bytes], None]
    clear: tuple[type[Exception], ...]
    seeds: Callable[[], list[bytes]]
    max_len: int = 4096
    time_limit: float = 2.0
    server_text: tuple[type[Exception], ...] = field(default=())
    tolerated: tuple[type[Warning], ...] = field(default=())

    def check(self, data: bytes) -> str | None:
        """Run one input: ``None`` when accepted, the clear error's message when refused.

        Raises:
            Crash: any other exception, a blank or non-French message, a broken invariant.
            Hang: the input took longer than ``time_limit``.
        """
        start = time.perf_counter()
        message = None
        try:
            with time_limit(self.time_limit), warnings.catch_warnings():
                # A library's warning is something wrong the product let through (pytest makes
                # it an error): so in the bench's processes too, or they would not see it.
                warnings.simplefilter("error")
                for category in self.tolerated:
                    warnings.simplefilter("ignore", category)
                self.run(data)
        except Crash:
            raise
        except self.clear as exc:
            message = str(exc)
            if isinstance(exc, self.server_text):
                require(bool(message.strip()), f"{type(exc).__name__} sans message")
            else:
                require(french(message), f"{type(exc).__name__} sans message français: {message!r}")
        except Exception as exc:
            raise Crash(f"{type(exc).__name__}: {exc}"[:500]) from exc
        elapsed = time.perf_counter() - start
        if elapsed > self.time_limit:  # finished, but too late (e.g. a long C call)
            raise Hang(f"{elapsed:.2f} s")
        return message


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang("délai dépassé")


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``Hang`` in the running code after ``seconds`` (main thread, Unix only).

    Python code is interrupted between two bytecodes; a C call that never returns is not, which
    is why the bench's parent process also watches its children's progress.
    """
    if not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class ByteReader:
    """Draws values from a fuzz input; once it runs dry every draw is zero or empty.

    Running dry is deterministic, so an input always replays the same way, and a short input
    means "mostly the genuine behaviour" where a target uses zero as "change nothing".
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    @property
    def empty(self) -> bool:
        """True once every byte has been drawn."""
        return self.pos >= len(self.data)

    def byte(self) -> int:
        """One byte (0 when dry)."""
        if self.empty:
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        """Two bytes, big-endian."""
        return (self.byte() << 8) | self.byte()

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes."""
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out

    def chunk(self) -> bytes:
        """A length-prefixed byte string: one length byte, or 0xFF then two (up to 65,535)."""
        n = self.byte()
        return self.take(self.u16() if n == 0xFF else n)

    def rest(self) -> bytes:
        """Everything not drawn yet."""
        return self.take(len(self.data))


def encode_chunk(value: bytes) -> bytes:
    """The bytes ``ByteReader.chunk`` reads back as ``value`` (for building seeds)."""
    assert len(value) <= 0xFFFF
    if len(value) < 0xFF:
        return bytes([len(value)]) + value
    return b"\xff" + len(value).to_bytes(2, "big") + value
