"""The vsmartcard ``vpcd`` wire protocol: our chip plugged into pcscd's virtual reader.

vpcd (the pcscd driver) listens on TCP localhost:35963 for reader "Virtual PCD 00 00", and on
35964 for its second slot, "Virtual PCD 00 01" (the test suite's second worker uses it). Each
message is a 2-byte big-endian length and a payload: one byte is a control code (0 power off,
1 power on, 2 reset, 4 "send your ATR"), more is a command APDU answered the same way.
Closing the socket removes the card; reconnecting inserts it again.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from devices.cardsim.chip import SimulatedChip

log = logging.getLogger(__name__)
DEFAULT_PORT = 35963
#: The reader pcscd lists for vpcd's first slot.
VIRTUAL_READER = "Virtual PCD 00 00"
#: vpcd's slots: "Virtual PCD 00 0N" listens on DEFAULT_PORT + N.
_SLOT_PREFIX = "Virtual PCD 00 0"
POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4


def slot_port(reader: str | None) -> int | None:
    """The port vpcd listens on for ``reader`` if it is one of its slots, else None."""
    if reader is not None and reader.startswith(_SLOT_PREFIX):
        slot = reader[len(_SLOT_PREFIX) :]
        if slot.isdigit():
            return 35963 + int(slot)
    return None


class VpcdNotListening(ConnectionError):
    """No vpcd on the port: pcscd is not running, or vsmartcard-vpcd is not installed."""


def _quick_ack(sock: socket.socket) -> None:
    # vpcd writes the length and the APDU separately: with Nagle on its side and delayed ACKs
    # on ours every APDU would wait ~40 ms. Linux resets QUICKACK after each read.
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _recv_exact(sock: socket.socket, size: int, stop: threading.Event) -> bytes | None:
    data = b""
    while len(data) < size:
        if stop.is_set():
            return None
        try:
            chunk = sock.recv(size - len(data))
            _quick_ack(sock)
        except TimeoutError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class VirtualCard:
    """Runs a ``SimulatedChip`` on vpcd until stopped; thread-safe start/stop."""

    def __init__(
        self,
        chip: SimulatedChip,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        reinsert_after: float = 0.5,
        on_state: Callable[[str], None] | None = None,
    ) -> None:
        self.chip = chip
        # The default read now, not at import: the test suite's second worker moves it.
        self.host, self.port = host, port if port is not None else DEFAULT_PORT
        self.reinsert_after = reinsert_after
        self.on_state = on_state or (lambda state: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.inserted = threading.Event()

    def _connect(self, timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                sock.settimeout(0.2)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                _quick_ack(sock)
                return sock
            except OSError:
                if time.monotonic() >= deadline or self._stop.is_set():
                    raise VpcdNotListening(f"{self.host}:{self.port}") from None
                time.sleep(0.1)

    def serve(self, connect_timeout: float = 5.0) -> None:
        """Insert the card and answer the reader until ``stop`` (blocking)."""
        while not self._stop.is_set():
            sock = self._connect(connect_timeout)
            self._sock = sock
            self.chip.power_on()
            self.inserted.set()
            self.on_state("inserted")
            removed = self._session(sock)
            self.inserted.clear()
            sock.close()
            if not removed:
                break
            self.on_state("removed")
            if self._stop.wait(self.reinsert_after):
                break

    def _session(self, sock: socket.socket) -> bool:
        """Answer until the link closes; True when the chip asked to leave the field."""
        while not self._stop.is_set():
            header = _recv_exact(sock, 2, self._stop)
            if header is None:
                return False
            payload = _recv_exact(sock, int.from_bytes(header, "big"), self._stop)
            if payload is None:
                return False
            if len(payload) == 1:
                if payload[0] == GET_ATR:
                    self._send(sock, self.chip.ATR)
                elif payload[0] in (POWER_ON, RESET):
                    self.chip.power_on()
                continue
            response = self.chip.process(payload)
            if self.chip.remove_now:
                self.chip.remove_now = False
                return True
            self._send(sock, response)
        return False

    @staticmethod
    def _send(sock: socket.socket, data: bytes) -> None:
        sock.sendall(len(data).to_bytes(2, "big") + data)

    def start(self, connect_timeout: float = 5.0) -> None:
        """Serve in a background thread; returns once the card is inserted."""
        errors: list[BaseException] = []

        def run() -> None:
            try:
                self.serve(connect_timeout)
            except VpcdNotListening as exc:
                errors.append(exc)
                self.inserted.set()

        self._thread = threading.Thread(target=run, name="card-sim", daemon=True)
        self._thread.start()
        self.inserted.wait(connect_timeout + 1)
        if errors:
            raise errors[0]

    def stop(self) -> None:
        """Remove the card and stop serving."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
