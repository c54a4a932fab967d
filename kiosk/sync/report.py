"""The report a kiosk sends the national service about itself: nothing about any person.

Its version, how many dossiers wait to be sent and since when, its last successful exchange
with the service and its last error, and the *references* of the dossiers not sent yet (what a
supervisor must take up again if the tablet is lost). No name, no address, no answer: the
report is built here from the outbox and the dossiers' references only, and its fields are the
contract's ``RapportBorne``, which the service refuses to extend (docs/national-api.json).

On a site's shared store the queue is the site's: every counter reports it, and ``stockage``
says so (a revoked counter's unsent dossiers are still in the site's store, sent by the others).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from kiosk.ports.national import MAX_REPORTED_ERROR, MAX_REPORTED_UNSENT, KioskReport
from kiosk.store.engine import Store
from kiosk.store.models import Dossier, OutboxItem
from kiosk.sync.outbox import PENDING, SENDING


class Reporter:
    """Builds this kiosk's report from its store (a read unit of work; any thread)."""

    def __init__(self, store: Store, version: str) -> None:
        self._store = store
        self.version = version
        self.storage = "site" if store.site is not None else "borne"

    def build(self, *, last_sync: datetime | None, last_error: str | None) -> KioskReport:
        """The report as of now."""
        open_ = OutboxItem.state.in_((PENDING, SENDING))
        with self._store.read() as s:
            queued = s.scalar(select(func.count()).where(open_)) or 0
            rows = s.execute(
                select(Dossier.reference, OutboxItem.created_at)
                .join(Dossier, Dossier.id == OutboxItem.dossier_id)
                .where(open_)
                .order_by(OutboxItem.created_at, OutboxItem.id)
                .limit(MAX_REPORTED_UNSENT)
            ).all()
        return KioskReport(
            version=self.version,
            queued=queued,
            oldest_unsent=rows[0][1] if rows else None,
            last_sync=last_sync,
            last_error=_one_line(last_error),
            unsent=tuple(str(r[0]) for r in rows),
            storage=self.storage,
        )


def _one_line(error: str | None) -> str | None:
    """The error on one line, within the contract's length."""
    if not error:
        return None
    text = " ".join(error.split())
    return text if len(text) <= MAX_REPORTED_ERROR else text[: MAX_REPORTED_ERROR - 1] + "…"
