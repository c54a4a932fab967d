"""A hostile chip and a hostile national server, both driven by a fuzz input.

Neither is a mock of the product: the chip is the card simulator (genuine files, genuine
BAC and secure messaging), and the fuzz input decides, answer by answer, what it sends instead
of the truth. It holds the session keys, so a rewritten answer still carries a valid MAC: this is
the chip itself lying, the worst case, not line noise (which the MAC would catch at once). The
server answers each request of the real HTTP client with the status, headers and body the input
encodes, then closes the connection when the input runs dry.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Collection

import httpx

from devices.cardsim.chip import TRIES, SimulatedChip
from devices.cardsim.profiles import PASSPORT_BAC, PROFILES, Profile
from devices.nfc.apdu import CommandApdu
from devices.nfc.lds import FILES
from kiosk.identity.errors import CardRemoved
from tests.fuzz.contract import ByteReader, encode_chunk
from tests.fuzz.seeds import HEADERS, STATUSES, chip_files

# What the chip does with one answer: the byte drawn for it, modulo 8 (0 once the input is dry).
KEEP, SET_SW, SET_DATA, FLIP, CUT, RAW = 0, 3, 4, 5, 6, 7


def chip_random(n: int) -> bytes:
    """The chip's randomness: fixed, so that an input always replays the same exchange."""
    return b"\x5a" * n


def reader_random(n: int) -> bytes:
    """The reader's, fixed too, and not the chip's (PACE refuses a chip echoing our key)."""
    return b"\x3c" * n


class HostileChip(SimulatedChip):
    """A simulated document (by default the BAC passport): the input may rewrite each answer.

    Also the transport the reader talks to (``transmit``). Per command, one byte of the input:
    0-2 the genuine answer, 3 another status word, 4 other data, 5 one byte of the data
    flipped, 6 the data cut short (all four inside secure messaging, correctly MACed), 7 raw
    bytes instead of the whole response.
    """

    directives: ByteReader
    op: int = KEEP

    def armed(self, data: bytes) -> HostileChip:
        """A fresh copy of this chip (just powered on) driven by ``data``."""
        chip = copy.copy(self)
        chip.directives = ByteReader(data)
        chip.tries = TRIES
        chip.removal_pending = chip.remove_now = False
        chip.power_on()
        return chip

    def transmit(self, apdu: bytes) -> bytes:
        """The reader's transport: one command in, one (possibly hostile) answer out."""
        return self.process(apdu)

    def process(self, raw: bytes) -> bytes:
        """Answer, unless the input says to send raw bytes instead."""
        self.op = self.directives.byte() % 8
        response = super().process(raw)
        return self.directives.chunk() if self.op == RAW else response

    def dispatch(self, c: CommandApdu) -> tuple[bytes, int]:
        """The genuine answer, rewritten before secure messaging protects it."""
        data, sw = super().dispatch(c)
        d = self.directives
        if self.op == SET_SW:
            sw = d.u16()
        elif self.op == SET_DATA:
            data = d.chunk()
        elif self.op == FLIP and data:
            pos = d.u16() % len(data)
            data = data[:pos] + bytes([data[pos] ^ (d.byte() or 1)]) + data[pos + 1 :]
        elif self.op == CUT:
            data = data[: d.u16() % (len(data) + 1)]
        return data, sw


#: How a ``ShortReadChip`` rewrites one READ BINARY answer: (offset, Ne, data, sw) → (data, sw).
Answer = Callable[[int, int, bytes, int], tuple[bytes, int]]


class ShortReadChip(SimulatedChip):
    """A genuine document whose chip rewrites its READ BINARY answers (``answer``).

    The rewrite happens before secure messaging protects the answer, so it carries a valid MAC.
    The chip counts the READ BINARY commands (``reads``) and leaves the field (``CardRemoved``)
    at the ``patience``-th, as an agent lifts a card whose read never ends. Also the transport.
    """

    def __init__(
        self,
        profile: Profile,
        answer: Answer,
        *,
        files: Collection[int] | None = None,
        patience: int = 2000,
    ) -> None:
        super().__init__(profile, rng=chip_random)
        self.answer = answer
        self.rewritten = files  # the EFs whose answers are rewritten (None: every one)
        self.patience = patience
        self.reads = 0

    def transmit(self, apdu: bytes) -> bytes:
        """The reader's transport."""
        return self.process(apdu)

    def read_binary(self, c: CommandApdu) -> tuple[bytes, int]:
        """The genuine answer, rewritten."""
        self.reads += 1
        if self.reads >= self.patience:
            raise CardRemoved
        data, sw = super().read_binary(c)
        if sw != 0x9000 or (self.rewritten is not None and self.selected not in self.rewritten):
            return data, sw
        return self.answer((c.p1 << 8) | c.p2, c.ne or 256, data, sw)


@functools.cache
def genuine_chip(profile: str = PASSPORT_BAC.name) -> HostileChip:
    """The template chip of ``profile`` (the BAC passport by default), with a tiny photo."""
    chip = HostileChip(PROFILES[profile], rng=chip_random)
    files = chip_files(profile)
    chip.files = {FILES[n][0]: v for n, v in files.items() if n in FILES}
    return chip


def card_seeds() -> list[bytes]:
    """The genuine read (empty input), then one lie at each of the first commands."""
    out = [b""]
    for k in range(18):
        keep = bytes(k)
        out += [
            keep + bytes([SET_SW]) + b"\x6a\x82",
            keep + bytes([SET_DATA]) + encode_chunk(b"\x61\x05\x5f\x1f\x02AB"),
            keep + bytes([FLIP]) + b"\x00\x01\x80",
            keep + bytes([CUT]) + b"\x00\x05",
            keep + bytes([RAW]) + encode_chunk(b"\x90\x00"),
        ]
    return out


class HostileServer:
    """An ``httpx.MockTransport`` handler: each request gets the next answer of the input.

    An answer is a status byte (an index into ``STATUSES``, or from 0xF0 any code read from
    two more bytes), a header count, each header as a name index into ``HEADERS`` and a value,
    then the body. When the input is dry the server is gone: the connection fails.
    """

    def __init__(self, reader: ByteReader) -> None:
        self.reader = reader
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """The next answer."""
        self.requests += 1
        r = self.reader
        if r.empty:
            raise httpx.ConnectError("connexion fermée par le serveur", request=request)
        code = r.byte()
        status = STATUSES[code % len(STATUSES)] if code < 0xF0 else 100 + r.u16() % 500
        headers = [
            (HEADERS[r.byte() % len(HEADERS)].encode(), r.chunk()) for _ in range(r.byte() % 8)
        ]
        return httpx.Response(status, headers=headers, content=r.chunk())
