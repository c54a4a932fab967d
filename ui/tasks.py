"""Work off the UI thread: run a callable on a pool thread, get the result back by a queued signal.

The UI thread never waits on a card, the network, the disk or a PDF. A screen calls
``runner.run(fn, on_done=..., on_error=...)``; ``fn`` runs on a pool thread and must not touch
widgets; the callbacks run on the UI thread (the signal crosses threads as a queued connection).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the UI thread; the pool thread emits, Qt queues the call to the slots."""

    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:  # pool thread
        try:
            result = self._fn()
        except Exception as exc:
            self._relay.failed.emit(exc)
        else:
            self._relay.done.emit(result)


class TaskRunner(QObject):
    """Runs jobs on a private thread pool and reports back on the UI thread."""

    busy_changed = Signal(bool)

    def __init__(self, max_threads: int = 2) -> None:
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(max_threads)
        self._relays: set[_Relay] = set()

    def run(
        self,
        fn: Callable[[], Any],
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run ``fn`` off the UI thread; call ``on_done(result)`` or ``on_error(exc)`` after."""
        relay = _Relay()
        self._relays.add(relay)

        @Slot(object)
        def finished(result: object) -> None:
            self._relays.discard(relay)
            self.busy_changed.emit(bool(self._relays))
            if on_done is not None:
                on_done(result)

        @Slot(object)
        def failed(exc: object) -> None:
            self._relays.discard(relay)
            self.busy_changed.emit(bool(self._relays))
            if on_error is not None and isinstance(exc, Exception):
                on_error(exc)
            else:
                log.error("background task failed: %s", type(exc).__name__)

        relay.done.connect(finished)
        relay.failed.connect(failed)
        self.busy_changed.emit(True)
        self._pool.start(_Job(fn, relay))

    @property
    def idle(self) -> bool:
        """Whether no job is running or waiting to report."""
        return not self._relays

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is empty (for shutdown and tests only, never from a screen)."""
        return bool(self._pool.waitForDone(msecs))
