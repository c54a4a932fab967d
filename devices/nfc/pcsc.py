"""The PC/SC reader service (pyscard): implements ``kiosk.ports.identity.IdentityReader``.

The only module that imports pyscard. ``read`` blocks (worker thread); ``watch`` callbacks run
on pyscard's monitoring thread and must only hand events on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.System import readers as _pcsc_readers

from devices.nfc.ec import Random
from devices.nfc.passive import TrustStore
from devices.nfc.reader import read_document
from kiosk.identity.errors import CardRemoved, IdentityError, NoCard, NoReader
from kiosk.identity.model import AccessKey, IdentityReading
from kiosk.ports.identity import CardEvent, CardEventKind, ProgressCallback

log = logging.getLogger(__name__)


class PcscTransport:
    """APDUs over one pyscard connection; a lost card becomes ``CardRemoved``."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU through pcscd."""
        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except (CardConnectionException, NoCardException):
            raise CardRemoved() from None
        return bytes(data) + bytes([sw1, sw2])


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
        try:
            atr = bytes(connection.getATR())
            reading = read_document(
                PcscTransport(connection),
                access,
                trust=self.trust,
                rng=self.rng,
                progress=progress,
                extended=atr_allows_extended(atr),
                cache=self._partial,
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
