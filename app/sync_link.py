"""The screen and the sync in two processes: what links them (docs/packaging.md).

The installed kiosk runs its sync as a system service of its own (``kiosk sync --watch`` in
``pn-kiosk-sync.service``): dossiers keep leaving while the screen is restarting or left for
maintenance, and the process that talks to the network holds no camera, card reader or display.
The screen then sends nothing itself (``kiosk run --external-sync``): two workers for one kiosk
would each pace themselves on the quota the national service gives that kiosk, and together
send at twice its rate.

What the screen still needs from the sync:

- its badge: the status the worker saves in the store at most every 2 s (``sync.etat``), read
  here every 2 s on a thread of its own, with the queue counted afresh (a dossier just filed is
  « en attente » at once, not at the worker's next save);
- a nudge when an agent files a dossier or asks for the latest decisions, so that they do not
  wait for the worker's next look (up to 5 minutes when idle): a datagram on a socket in the
  data folder, ``sync.sock``, that the worker's process listens to. Only the kiosk's account can
  write there (the data folder is its own, mode 0700). A nudge nobody hears is lost without
  harm: the worker looks at the queue on its own schedule anyway.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.ports.devices import ConnectionBadge
from kiosk.security.revocation import Withdrawal, withdrawn_since
from kiosk.sync.outbox import Outbox

log = logging.getLogger(__name__)

#: Send what is queued now.
WAKE = b"envoyer"
#: Pull the national decisions now.
PULL = b"actualiser"
#: The status saved by the worker is read this often (seconds).
POLL_SECONDS = 2.0
#: An AF_UNIX address holds at most this many bytes (Linux's sun_path, less its final NUL).
_MAX_ADDRESS = 107


def doorbell_path(data_dir: Path) -> Path:
    """Where the sync process listens for nudges: in the kiosk's data folder."""
    return data_dir / "sync.sock"


class Doorbell:
    """The sync process's side: calls ``on_wake`` or ``on_pull`` for each nudge received (on a
    thread of its own; both must be safe from any thread, as SyncWorker.wake and pull_now are)."""

    def __init__(
        self, path: Path, *, on_wake: Callable[[], None], on_pull: Callable[[], None]
    ) -> None:
        self.path = path
        self._actions = {WAKE: on_wake, PULL: on_pull}
        self._stop = threading.Event()
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # A socket file left by a process that was killed: nobody listens on it any more.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        try:
            self._socket.bind(str(path))
        except OSError:
            self._socket.close()
            raise
        self._socket.settimeout(0.5)  # how soon close() is noticed
        self._thread = threading.Thread(target=self._listen, name="sync-doorbell", daemon=True)
        self._thread.start()

    @classmethod
    def open(
        cls, data_dir: Path, *, on_wake: Callable[[], None], on_pull: Callable[[], None]
    ) -> Doorbell | None:
        """The doorbell of the kiosk whose data folder is ``data_dir``; None (logged) if it
        cannot be put there: the sync works without it, only less promptly."""
        path = doorbell_path(data_dir)
        if len(str(path).encode()) > _MAX_ADDRESS:
            log.warning("dossier de données trop long pour la sonnette de la synchro : %s", path)
            return None
        try:
            return cls(path, on_wake=on_wake, on_pull=on_pull)
        except OSError as exc:
            log.warning("sonnette de la synchro impossible (%s) : %s", path, exc)
            return None

    def _listen(self) -> None:  # doorbell thread
        while not self._stop.is_set():
            try:
                message = self._socket.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            action = self._actions.get(message)
            if action is not None:
                action()

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def ring(path: Path, message: bytes) -> bool:
    """Nudge the sync process listening at ``path``; False if none does (or it cannot take it
    now). Never blocks: safe on the UI thread."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as bell:
        bell.setblocking(False)
        try:
            bell.sendto(message, str(path))
        except OSError as exc:
            log.info("synchro non prévenue (%s) : %s", path, exc)
            return False
    return True


def badge_of(saved: Any, waiting: int) -> ConnectionBadge:
    """The badge, from the status the sync process saved (``None`` before its first save)."""
    from sync.policy import CircuitState

    if not isinstance(saved, dict):
        return ConnectionBadge(configured=True, online=False, waiting=waiting, detail="")
    try:
        circuit = CircuitState(str(saved.get("circuit")))
    except ValueError:
        circuit = CircuitState.OPEN
    decisions = saved.get("decisions_appliquees")
    return ConnectionBadge(
        configured=True,
        online=circuit is CircuitState.CLOSED and saved.get("derniere_erreur") is None,
        waiting=waiting,
        detail=circuit.label,
        decisions=decisions if isinstance(decisions, int) else 0,
    )


class StatusWatch:
    """The screen's side: reads the status the sync process saved, every ``interval`` seconds,
    and hands each new badge to the subscribers (on its own thread, as the in-process sync's
    listener does)."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        interval: float = POLL_SECONDS,
        withdrawal: Withdrawal | None = None,
    ) -> None:
        """``withdrawal``: carried out here too once the sync process has marked the kiosk
        withdrawn (its subscribers, the screen, then stop)."""
        from sync.worker import STATUS_KEY

        self._withdrawal = withdrawal
        self._outbox = outbox
        self._key = STATUS_KEY
        self._interval = interval
        self._subscribers: list[Callable[[ConnectionBadge], None]] = []
        self._last: ConnectionBadge | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sync-status", daemon=True)
        self._thread.start()

    def subscribe(self, callback: Callable[[ConnectionBadge], None]) -> None:
        """Call ``callback`` with each new badge (and the current one, if read already)."""
        with self._lock:
            self._subscribers.append(callback)
            last = self._last
        if last is not None:
            callback(last)

    def read(self) -> ConnectionBadge:
        """The badge now (two small reads)."""
        return badge_of(self._outbox.get_marker(self._key), self._outbox.counts().waiting)

    def _run(self) -> None:  # status thread
        while not self._stop.is_set():
            if self._withdrawal is not None and self._withdrawal.done is None:
                revoked, _when = withdrawn_since(self._withdrawal.plan)
                if revoked:  # the sync process learnt it and destroyed the keys
                    self._withdrawal.carry_out()
                    return
            try:
                badge = self.read()
            except Exception:  # the store away (a site server lost): said by the screens
                log.debug("état de la synchro illisible", exc_info=True)
            else:
                with self._lock:
                    changed = badge != self._last
                    self._last = badge
                    subscribers = list(self._subscribers)
                if changed:
                    for callback in subscribers:
                        callback(badge)
            self._stop.wait(self._interval)

    def stop(self) -> None:
        """Stop reading (the kiosk closing)."""
        self._stop.set()
        self._thread.join(timeout=5.0)
