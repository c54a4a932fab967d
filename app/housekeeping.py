"""The retention purge, run by the kiosk itself: shortly after start, then at a fixed interval.

A kiosk left on for weeks (a préfecture PC) and one switched on each morning (a loan tablet) both
purge without anyone scheduling ``kiosk purge``. The purge works one dossier per transaction, so an
autosave at the counter never waits for more than one dossier's erasure. ``PN_KIOSK_PURGE_HOURS``
sets the interval (default 6 h; 0 turns the automatic purge off, e.g. where a systemd timer runs
``kiosk purge`` instead).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from kiosk.security.retention import PurgeReport, RetentionPolicy, RetentionService
from kiosk.store import Store, StoreError

log = logging.getLogger(__name__)

ENV_PURGE_HOURS = "PN_KIOSK_PURGE_HOURS"
DEFAULT_HOURS = 6.0
FIRST_DELAY = 120.0  # after start-up: the first screens and the first sync come first


def interval_from_env(environ: Mapping[str, str] | None = None) -> float:
    """Seconds between two purges (0: off).

    Raises:
        ValueError: not a number of hours ≥ 0 (message in French).
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV_PURGE_HOURS, "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_HOURS
    except ValueError:
        hours = -1.0
    if not hours >= 0:  # also refuses NaN
        raise ValueError(
            f"{ENV_PURGE_HOURS} attend un nombre d'heures (0 pour désactiver), pas « {raw} »."
        )
    return hours * 3600.0


class PurgeSchedule:
    """Runs :meth:`RetentionService.purge` on a daemon thread until :meth:`stop`."""

    def __init__(
        self, retention: RetentionService, *, interval: float, first_delay: float = FIRST_DELAY
    ) -> None:
        self._retention = retention
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


def start_purge_schedule(
    store: Store, documents_dir: Path, environ: Mapping[str, str] | None = None
) -> PurgeSchedule | None:
    """The automatic purge with the retention times and interval configured (``None`` if off).

    A misconfigured value is logged and its default used: a typo must not keep a kiosk from
    starting, nor from purging.
    """
    try:
        interval = interval_from_env(environ)
    except ValueError as exc:
        log.warning("%s Intervalle par défaut (%g h) utilisé.", exc, DEFAULT_HOURS)
        interval = DEFAULT_HOURS * 3600.0
    if interval == 0:
        return None
    try:
        policy = RetentionPolicy.from_env(environ)
    except ValueError as exc:
        log.warning("%s Durées de conservation par défaut utilisées.", exc)
        policy = RetentionPolicy()
    retention = RetentionService(store, documents_dir, policy=policy)
    return PurgeSchedule(retention, interval=interval).start()
