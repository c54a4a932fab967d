"""Command APDUs (short and extended), the transport Protocol, and an APDU/byte counter.

Also what a transport says when the link fails while the card stays on the reader
(``LinkInterrupted``, ``SessionLost``): signals between the transport and the read, never
shown to anyone (a read that cannot go on ends in an ``IdentityError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kiosk.identity.errors import HostileAnswer, IdentityError, UnreadableCard
from kiosk.messages import Message

SW_OK = 0x9000


class Transport(Protocol):
    """Anything that sends a command APDU and returns the response APDU (data ‖ SW1 SW2)."""

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the response with its status word."""
        ...


@dataclass(frozen=True)
class CommandApdu:
    """An ISO 7816-4 command; ``ne`` is the expected length (256 or 65536 mean "all")."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None

    @property
    def extended(self) -> bool:
        """True when the command needs extended length fields."""
        return len(self.data) > 255 or (self.ne is not None and self.ne > 256)

    def encode(self) -> bytes:
        """Bytes on the wire, short or extended as the lengths require."""
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.extended:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = (self.ne % 65536).to_bytes(2, "big")
                out += le if self.data else b"\x00" + le
            return out
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.ne is not None:
            out += bytes([self.ne % 256])
        return out

    @classmethod
    def decode(cls, raw: bytes) -> CommandApdu:
        """Parse a command APDU (used by the card simulator)."""
        if len(raw) < 4:
            raise ValueError("APDU too short")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or 256)
        if body[0] != 0:  # short
            lc = body[0]
            data = body[1 : 1 + lc]
            if len(data) != lc:
                raise ValueError("Lc mismatch")
            rest = body[1 + lc :]
            ne = (rest[0] or 256) if rest else None
            return cls(cla, ins, p1, p2, data, ne)
        if len(body) == 3:  # extended, Le only
            return cls(cla, ins, p1, p2, ne=int.from_bytes(body[1:3], "big") or 65536)
        lc = int.from_bytes(body[1:3], "big")
        data = body[3 : 3 + lc]
        if len(data) != lc:
            raise ValueError("Lc mismatch")
        rest = body[3 + lc :]
        ne = (int.from_bytes(rest[:2], "big") or 65536) if rest else None
        return cls(cla, ins, p1, p2, data, ne)


def split(response: bytes) -> tuple[bytes, int]:
    """``(data, sw)`` of a response APDU."""
    if len(response) < 2:
        raise HostileAnswer("réponse sans mot d'état")
    return response[:-2], int.from_bytes(response[-2:], "big")


class LinkInterrupted(Exception):
    """An exchange failed on the way while the reader still sees the card, powered, not reset.

    The command may or may not have reached the card, and its answer, if any, was lost: the
    card may still hold its secure session (``sm.SecureTransport`` goes on in it) or not (a new
    one is opened, ``reader.read_resuming``).
    """


class SessionLost(Exception):
    """The card is still there, as far as the reader knows, but its secure session is gone.

    Raised when the card was reset, or when the first answer after a link loss says the session
    is over or does not verify. The read opens a new session and goes on from where it was.

    Args:
        reason: for the log (no personal data).
        cause: what the read raises if it cannot open a new session either: ``CardRemoved``
            for a link that keeps failing, the ``HostileAnswer`` for an answer that did not
            verify.
    """

    def __init__(self, reason: str, cause: IdentityError) -> None:
        super().__init__(reason)
        self.cause = cause


@dataclass
class LinkLog:
    """What the link did during one read, for the log, the tests and the bench."""

    #: Link losses after which the read went on in the same secure session.
    kept: int = 0
    #: Secure sessions opened anew in the same read after one was lost.
    reopened: int = 0


class CardStatusError(UnreadableCard):
    """The card answered an error status word we do not handle specially."""

    def __init__(self, sw: int, what: str) -> None:
        self.sw = sw
        super().__init__(
            Message(
                "La puce a refusé l'opération « {what} » (code {code}). Reposez la carte et "
                "réessayez ; si cela recommence, la carte ne peut pas être lue ici.",
                what=what,
                code=f"{sw:04X}",
            )
        )


class CountingTransport:
    """Counts APDUs and bytes (both directions) through another transport."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.apdus = 0
        self.bytes = 0

    def transmit(self, apdu: bytes) -> bytes:
        """Forward and count."""
        self.apdus += 1
        self.bytes += len(apdu)
        response = self.inner.transmit(apdu)
        self.bytes += len(response)
        return response
