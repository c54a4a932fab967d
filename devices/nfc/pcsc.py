"""The PC/SC reader service (pyscard): implements ``kiosk.ports.identity.IdentityReader``.

The only module that imports pyscard. ``read`` blocks (worker thread); ``watch`` callbacks run
on pyscard's monitoring thread and must only hand events on.

A failed exchange is told apart by what pcscd says of the card (``PcscTransport``): removed
(``SCARD_W_REMOVED_CARD``, no card) → ``CardRemoved``, the files read kept for when it is back;
reset or powered down by someone else (``SCARD_W_RESET_CARD``) → ``SessionLost``, a new session
at once; a transmission failure while pcscd still sees the card, not reset → ``LinkInterrupted``
after a reconnect with ``SCARD_LEAVE_CARD`` (no reset), and the read goes on in the same session.
pcscd's word only spares a useless try: the card's MAC decides whether a session outlived a loss.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.scard import (
    SCARD_E_NO_SMARTCARD,
    SCARD_E_READER_UNAVAILABLE,
    SCARD_LEAVE_CARD,
    SCARD_UNPOWER_CARD,
    SCARD_W_REMOVED_CARD,
    SCARD_W_RESET_CARD,
    SCARD_W_UNPOWERED_CARD,
    SCARD_W_UNRESPONSIVE_CARD,
)
from smartcard.System import readers as _pcsc_readers

from devices.nfc.apdu import LinkInterrupted, LinkLog, SessionLost
from devices.nfc.ec import Random
from devices.nfc.passive import TrustStore
from devices.nfc.reader import read_resuming
from kiosk.identity.errors import CardRemoved, IdentityError, NoCard, NoReader
from kiosk.identity.model import AccessKey, IdentityReading
from kiosk.ports.identity import CardEvent, CardEventKind, ProgressCallback

log = logging.getLogger(__name__)


class Card(Enum):
    """What pcscd says of the card after a failed exchange."""

    GONE = "gone"  # removed, no card, reader unplugged, or a card that no longer answers
    RESET = "reset"  # there, but reset or powered down: its secure session is gone
    THERE = "there"  # there, neither removed nor reset since the connection was made


def _code(exc: SmartcardException) -> int:
    """pyscard's result code, as PC/SC writes it (unsigned)."""
    return int(getattr(exc, "hresult", -1)) & 0xFFFFFFFF


_GONE = frozenset(
    c & 0xFFFFFFFF
    for c in (
        SCARD_W_REMOVED_CARD,
        SCARD_E_NO_SMARTCARD,
        SCARD_E_READER_UNAVAILABLE,
        SCARD_W_UNRESPONSIVE_CARD,
    )
)
_RESET = frozenset(c & 0xFFFFFFFF for c in (SCARD_W_RESET_CARD, SCARD_W_UNPOWERED_CARD))


def card_after(code: int) -> Card | None:
    """What a result code says of the card; None for a transmission failure, which says nothing
    (a garbled or missing answer, a time-out, ``SCARD_E_NOT_TRANSACTED``)."""
    if code in _GONE:
        return Card.GONE
    if code in _RESET:
        return Card.RESET
    return None


class PcscTransport:
    """APDUs over one pyscard connection; a failed exchange becomes what it means for the read.

    ``CardRemoved`` (the card left), ``SessionLost`` (reset: a new session), or
    ``LinkInterrupted`` (still there, not reset: the session may go on). After a second failure
    in a row, pcscd is given up to ``settle`` seconds to notice a card that left: it polls some
    readers (vpcd every 0.4 s), and a card taken away looks like a transmission failure until it
    does.
    """

    def __init__(
        self,
        connection: Any,
        *,
        settle: float = 1.0,
        poll: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self.settle, self.poll = settle, poll
        self._clock, self._sleep = clock, sleep
        self._failing = False  # the last exchange failed

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU through pcscd."""
        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except NoCardException:
            raise CardRemoved() from None
        except CardConnectionException as exc:
            raise self._after_failure(card_after(_code(exc))) from None
        self._failing = False
        return bytes(data) + bytes([sw1, sw2])

    def _after_failure(self, card: Card | None) -> Exception:
        """What to raise for a failed exchange (reconnecting when the card is still there)."""
        if card is None:
            card = self.card(wait=self._failing)
        self._failing = True
        if card is Card.GONE:
            return CardRemoved()
        try:
            self._reconnect()
        except CardRemoved as exc:
            return exc
        if card is Card.RESET:
            return SessionLost("carte réinitialisée sur le lecteur", CardRemoved())
        return LinkInterrupted()

    def card(self, *, wait: bool = False) -> Card:
        """What pcscd says of the card now (SCardStatus on this connection's handle, whose
        removed/reset flags stay up until a reconnect); ``wait``: until it says other than
        ``THERE`` or ``settle`` seconds have passed."""
        deadline = self._clock() + (self.settle if wait else 0.0)
        while True:
            try:
                self.connection.getATR()
            except NoCardException:
                return Card.GONE
            except CardConnectionException as exc:
                return card_after(_code(exc)) or Card.GONE  # no status: no card to talk to
            if self._clock() >= deadline:
                return Card.THERE
            self._sleep(self.poll)

    def _reconnect(self) -> None:
        """Reconnect without resetting the card, which keeps its power and its session."""
        try:
            self.connection.reconnect(disposition=SCARD_LEAVE_CARD)
        except (NoCardException, CardConnectionException):
            raise CardRemoved() from None
        # pyscard keeps the reconnect's disposition for the disconnect: the card is powered
        # down at the end of the read all the same, its session ended, as after any read.
        getattr(self.connection, "component", self.connection).disposition = SCARD_UNPOWER_CARD


def atr_allows_extended(atr: bytes) -> bool:
    """False only when the ATR's card-capabilities object says "no extended length"."""
    if len(atr) < 2:
        return True
    t0 = atr[1]
    pos, y = 2, t0 >> 4
    while y:  # skip interface bytes TA/TB/TC/TD
        td = None
        for bit in (1, 2, 4, 8):
            if y & bit:
                if bit == 8 and pos < len(atr):
                    td = atr[pos]
                pos += 1
        y = td >> 4 if td is not None else 0
    historical = atr[pos : pos + (t0 & 0x0F)]
    if historical[:1] != b"\x80":
        return True
    i = 1
    while i < len(historical):
        tag, length = historical[i] >> 4, historical[i] & 0x0F
        value = historical[i + 1 : i + 1 + length]
        if tag == 7 and len(value) == 3:
            return bool(value[2] & 0x40)
        i += 1 + length
    return True


class PcscIdentityReader:
    """Reads identity documents on a PC/SC contactless reader."""

    def __init__(
        self,
        trust: TrustStore,
        *,
        reader: str | None = None,
        rng: Random = os.urandom,
        card_wait: float = 0.0,
    ) -> None:
        self.trust = trust
        self.reader_name = reader
        self.rng = rng
        self.card_wait = card_wait
        # Files of an interrupted read, in memory only, reused if the same document comes back.
        self._partial: dict[str, bytes] = {}
        #: What the link did during the last read (losses outlived, sessions opened anew).
        self.last_link = LinkLog()

    def readers(self) -> list[str]:
        """Names of the PC/SC readers."""
        try:
            return [str(r) for r in _pcsc_readers()]
        except (SmartcardException, BaseSCardException) as exc:
            # BaseSCardException: no PC/SC service at all (pcscd stopped or not installed).
            raise NoReader(type(exc).__name__) from None

    def _reader(self) -> Any:
        try:
            found = list(_pcsc_readers())
        except (SmartcardException, BaseSCardException) as exc:
            # BaseSCardException: no PC/SC service at all (pcscd stopped or not installed).
            raise NoReader(type(exc).__name__) from None
        if self.reader_name:
            found = [r for r in found if self.reader_name.lower() in str(r).lower()]
        if not found:
            raise NoReader()
        return found[0]

    def _connect(self) -> tuple[Any, str]:
        reader = self._reader()
        deadline = time.monotonic() + self.card_wait
        while True:
            connection = reader.createConnection()
            try:
                connection.connect()
                return connection, str(reader)
            except (NoCardException, CardConnectionException):
                if time.monotonic() >= deadline:
                    raise NoCard(str(reader)) from None
                time.sleep(0.1)

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        """Read and verify the document on the reader (blocking; call from a worker thread)."""
        connection, name = self._connect()
        log.info("card connected on %s", name)
        self.last_link = link = LinkLog()
        try:
            atr = bytes(connection.getATR())
            reading = read_resuming(
                PcscTransport(connection),
                access,
                trust=self.trust,
                rng=self.rng,
                progress=progress,
                extended=atr_allows_extended(atr),
                cache=self._partial,
                link=link,
            )
        except CardRemoved:
            log.info("card removed during the read; %d files kept to resume", len(self._partial))
            raise
        except IdentityError:
            self._partial.clear()
            raise
        finally:
            with contextlib.suppress(SmartcardException):  # the card may be gone already
                connection.disconnect()
        self._partial.clear()
        if link.kept or link.reopened:
            log.info(
                "link lost: %d times outlived by the session, %d new sessions",
                link.kept,
                link.reopened,
            )
        return reading

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        """Report insertions and removals from pyscard's monitoring thread."""
        observer = _Observer(on_event)
        monitor = CardMonitor()
        monitor.addObserver(observer)

        def stop() -> None:
            monitor.deleteObserver(observer)

        return stop


class _Observer(CardObserver):  # type: ignore[misc]
    def __init__(self, on_event: Callable[[CardEvent], None]) -> None:
        self.on_event = on_event

    def update(self, observable: object, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        for card in added:
            self.on_event(CardEvent(CardEventKind.PRESENT, str(card.reader)))
        for card in removed:
            self.on_event(CardEvent(CardEventKind.REMOVED, str(card.reader)))
