"""The site's kiosks, as a supervisor sees them: their reports, what needs someone, revocation.

The national service lists the kiosks of this kiosk's site with each one's last report
(docs/national-api.json, ``GET /v1/bornes``). Two things make a kiosk stand out, judged here,
on this kiosk's clock (the same rule for the screen and ``kiosk bornes``):

- **silent**: no report received for :data:`SILENT_AFTER` (48 hours), or none ever: a tablet
  switched off, lost, or cut from the network;
- **dossiers waiting too long**: its oldest dossier not sent yet was queued more than
  :data:`WAITING_TOO_LONG` (a day) ago.

A revoked kiosk is listed with the references of the dossiers it had not sent, as it last
reported them: what the site must take up again (on a site's shared store they are still there,
sent by the other counters). Revoking is a supervisor's action, journalled.

When the service cannot be reached, the last listing fetched by this process is kept, with the
time it was fetched (also kept in the store, for after a restart) and the reason.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from kiosk.ports.national import (
    FleetApi,
    KioskRevoked,
    Refused,
    ServiceUnavailable,
    SiteKiosk,
    SiteKiosks,
)
from kiosk.security.agents import AgentInfo
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.security.revocation import Withdrawal
from kiosk.store.engine import Store, StoreError
from kiosk.store.models import Setting

#: No report for this long: the kiosk is flagged silent.
SILENT_AFTER = timedelta(hours=48)
#: A dossier waiting to be sent for this long: the kiosk is flagged.
WAITING_TOO_LONG = timedelta(days=1)
T = TypeVar("T")

#: When the site's kiosks were last fetched (ISO time), kept for after a restart.
FETCHED_KEY = "sync.bornes_lues_le"


class FleetError(Exception):
    """A revocation not done (the message says why, in French, for the supervisor); nothing
    changed."""


@dataclass(frozen=True)
class KioskRow:
    """One kiosk of the site, with what a supervisor must notice."""

    kiosk: SiteKiosk
    #: No report for :data:`SILENT_AFTER`, or none ever (a revoked kiosk is not flagged).
    silent: bool
    #: Its oldest unsent dossier waits for more than :data:`WAITING_TOO_LONG`.
    waiting_too_long: bool
    #: The kiosk this process runs on.
    this_kiosk: bool


@dataclass(frozen=True)
class SiteView:
    """The site's kiosks as last fetched, and whether this fetch failed."""

    site: str | None
    rows: tuple[KioskRow, ...]
    #: When the rows were fetched (``None``: never).
    fetched_at: datetime | None
    #: Why this fetch failed, in French (``None``: the rows are fresh).
    error: str | None = None


def rows_of(listing: SiteKiosks, *, now: datetime, own_id: str | None) -> tuple[KioskRow, ...]:
    """The site's kiosks with their flags as of ``now``: revoked ones last."""
    rows = []
    for kiosk in listing.kiosks:
        report = kiosk.report
        silent = not kiosk.revoked and (
            kiosk.received_at is None or now - kiosk.received_at > SILENT_AFTER
        )
        waiting = (
            not kiosk.revoked
            and report is not None
            and report.oldest_unsent is not None
            and now - report.oldest_unsent > WAITING_TOO_LONG
        )
        rows.append(KioskRow(kiosk, silent, waiting, kiosk.id == own_id))
    return tuple(sorted(rows, key=lambda r: (r.kiosk.revoked, r.kiosk.id)))


class SiteKiosksService:
    """The site's kiosks for the supervisor's screen and ``kiosk bornes`` (blocking calls to the
    national service: run them off the UI thread)."""

    def __init__(
        self,
        store: Store,
        api: FleetApi,
        *,
        own_id: str | None,
        clock: Callable[[], datetime],
        withdrawal: Withdrawal | None = None,
    ) -> None:
        self._store = store
        self._api = api
        self._own_id = own_id
        self._clock = clock
        self._withdrawal = withdrawal
        self._lock = threading.Lock()
        self._last: SiteKiosks | None = None
        self._fetched: datetime | None = None

    def view(self) -> SiteView:
        """The site's kiosks, fetched now; when the service cannot be reached, the last ones
        fetched and the reason.

        Raises:
            KioskWithdrawn: this kiosk itself was revoked (its keys are destroyed now).
        """
        try:
            listing = self._guarded(self._api.site_kiosks)
        except ServiceUnavailable as exc:
            with self._lock:
                last, fetched = self._last, self._fetched or self._saved_time()
            rows = rows_of(last, now=self._clock(), own_id=self._own_id) if last else ()
            return SiteView(last.site if last else None, rows, fetched, str(exc))
        now = self._clock()
        with self._lock:
            self._last, self._fetched = listing, now
        self._save_time(now)
        return SiteView(listing.site, rows_of(listing, now=now, own_id=self._own_id), now)

    def revoke(self, kiosk_id: str, *, by: AgentInfo | None) -> SiteKiosk:
        """Withdraw the kiosk ``kiosk_id`` of this site from service, for the supervisor ``by``
        (``None``: the console); journalled once the service did it.

        Raises:
            FleetError: not a supervisor, this kiosk itself, unknown here, or the service not
                reached (nothing changed).
            KioskWithdrawn: this kiosk itself was revoked meanwhile.
        """
        if by is not None and not by.supervisor:
            raise FleetError("Seul un superviseur peut révoquer une borne.")
        if kiosk_id == self._own_id:
            raise FleetError(
                "Une borne ne se révoque pas elle-même : faites-le depuis une autre borne du site."
            )
        who = by.identifiant if by is not None else "console"
        try:
            revoked = self._guarded(lambda: self._api.revoke(kiosk_id, by=who))
        except Refused as exc:
            raise FleetError(f"Révocation refusée par le service national : {exc}") from exc
        except ServiceUnavailable as exc:
            raise FleetError(
                f"Révocation non faite : {exc} Rien n'a changé ; réessayez quand le service"
                " national répond."
            ) from exc
        with self._store.write() as s:
            audit(
                s,
                AuditAction.KIOSK_REVOKED,
                at=self._clock(),
                agent_id=by.id if by is not None else None,
                detail={"par": who, "borne": kiosk_id},
            )
        return revoked

    def _guarded(self, call: Callable[[], T]) -> T:
        """``call()``; this kiosk revoked: its withdrawal carried out, and said."""
        try:
            return call()
        except KioskRevoked:
            if self._withdrawal is None:
                raise
            raise self._withdrawal.carry_out() from None

    def _saved_time(self) -> datetime | None:
        try:
            with self._store.read() as s:
                row = s.get(Setting, FETCHED_KEY)
                saved = None if row is None else row.value
        except StoreError:
            return None
        try:
            return None if saved is None else datetime.fromisoformat(json.loads(saved))
        except (ValueError, TypeError):
            return None

    def _save_time(self, at: datetime) -> None:
        text = json.dumps(at.isoformat())  # JSON, as the sync's other markers
        with self._store.write() as s:
            row = s.get(Setting, FETCHED_KEY)
            if row is None:
                s.add(Setting(key=FETCHED_KEY, value=text))
            else:
                row.value = text
