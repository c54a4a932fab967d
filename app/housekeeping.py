"""The retention purge, run by the kiosk itself: shortly after start, then at a fixed interval.

A kiosk left on for weeks (a préfecture PC) and one switched on each morning (a loan tablet) both
purge without anyone scheduling ``kiosk purge``. The purge works one dossier per transaction, so an
autosave at the counter never waits for more than one dossier's erasure. The setting
``conservation.purge_heures`` (``PN_KIOSK_PURGE_HOURS``) sets the interval (default 6 h; 0 turns
the automatic purge off, e.g. where a systemd timer runs ``kiosk purge`` instead).

Each round also sweeps the scanner's folder: a scan that arrived more than
:data:`LEFTOVER_SCAN_AGE` ago and was never attached is deleted (``kiosk purge`` does the same).
The screen already deletes them when a session ends; this catches what a crash, a power cut or a
kiosk switched off mid-session left behind, two minutes after the next start at the latest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from kiosk.ports.devices import ScanSource
from kiosk.security.retention import PurgeReport, RetentionPolicy, RetentionService
from kiosk.store import Store, StoreError
from kiosk.store.documents import DocumentStore

log = logging.getLogger(__name__)

FIRST_DELAY = 120.0  # after start-up: the first screens and the first sync come first

#: A scan older than this is a leftover: longer than any session at the counter (one left idle is
#: locked after two minutes, and the lock deletes its scans), so a sweep never takes the scan of
#: a person still at the counter; short enough that nothing of a person waits for the next day.
LEFTOVER_SCAN_AGE = timedelta(hours=1)


def sweep_leftover_scans(scans: ScanSource, now: datetime) -> int:
    """Delete the scans that arrived more than :data:`LEFTOVER_SCAN_AGE` before ``now``."""
    return scans.sweep(now - LEFTOVER_SCAN_AGE)


class PurgeSchedule:
    """Runs :meth:`RetentionService.purge` on a daemon thread until :meth:`stop`."""

    def __init__(
        self,
        retention: RetentionService,
        *,
        interval: float,
        first_delay: float = FIRST_DELAY,
        scans: ScanSource | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``scans``: the scanner's folder, swept of its leftovers at each round."""
        self._retention = retention
        self._scans = scans
        self._clock = clock
        self._interval = interval
        self._first_delay = first_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="purge", daemon=True)
        self.last: PurgeReport | None = None
        self.runs = 0

    def start(self) -> PurgeSchedule:
        """Start the thread (the first purge comes after ``first_delay`` seconds)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop waiting; a purge under way finishes its current dossier's transaction first."""
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        delay = self._first_delay
        while not self._stop.wait(delay):
            delay = self._interval
            self._sweep()
            try:
                self.last = self._retention.purge()
            except (StoreError, SQLAlchemyError, OSError) as exc:
                # The store busy or the disk full: nothing is lost, the next round retries.
                log.warning("purge de rétention reportée : %s", exc)
                continue
            finally:
                self.runs += 1
            if self.last.dossiers:
                log.info(
                    "purge de rétention : %d dossier(s) effacé(s), %d fichier(s) supprimé(s)",
                    len(self.last.dossiers),
                    self.last.files_deleted,
                )

    def _sweep(self) -> None:
        if self._scans is None:
            return
        try:
            deleted = sweep_leftover_scans(self._scans, self._clock())
        except OSError as exc:  # the folder unreadable (a share gone): the next round retries
            log.warning("numérisations laissées non balayées : %s", exc.strerror or exc)
            return
        if deleted:
            log.info(
                "%d numérisation(s) laissée(s) dans le dossier du scanner supprimée(s)", deleted
            )


def start_purge_schedule(
    store: Store,
    documents: Path | DocumentStore,
    *,
    policy: RetentionPolicy,
    hours: float,
    scans: ScanSource | None = None,
) -> PurgeSchedule | None:
    """The automatic purge every ``hours`` hours with ``policy`` (``None`` when ``hours`` is 0),
    sweeping ``scans`` of its leftovers at each round.

    Both come from the settings (app/settings/options.py), checked when they were resolved.
    """
    if hours == 0:
        return None
    retention = RetentionService(store, documents, policy=policy)
    return PurgeSchedule(retention, interval=hours * 3600.0, scans=scans).start()
