"""What a dossier costs, by its reference: the estimate kept at filing, or computed live before.

The same call for the command line (``kiosk frais REF``), the review screen, the dossier's card
and the receipt. Before filing the fees are estimated at the counter's date with the tariff in
force that day (kiosk/fees/). Filing keeps that estimate with the dossier (:func:`keep_estimate`,
in the filing's own transaction), and from then on the kept one is shown — with the tariff it
used and when it was computed — never a recomputation with a tariff published since. The
national service's acknowledgement adds the amount actually due (:func:`record_amount_due`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche, JSONValue
from kiosk.dossiers.base import DossierBase
from kiosk.dossiers.states import DossierState
from kiosk.fees import Estimate, TariffBook, estimate
from kiosk.fees.kept import dump_lines, dump_message, dump_missing, load_estimate
from kiosk.settings.timezone import counter_time
from kiosk.store.models import Dossier, Estimation, Event

__all__ = ["DossierFees", "FeesView", "keep_estimate", "record_amount_due"]


@dataclass(frozen=True)
class FeesView:
    """A dossier's fees as the agent and the person see them."""

    estimate: Estimate
    #: When the estimate was kept (the dossier's filing); None: computed just now.
    kept_at: datetime | None = None
    #: What the national service said is due, in cents (authoritative), and when.
    amount_due: int | None = None
    amount_due_at: datetime | None = None

    @property
    def kept(self) -> bool:
        """Whether this is the estimate kept at filing (not a computation of today)."""
        return self.kept_at is not None

    @property
    def differs(self) -> bool:
        """Whether the national service's amount is not the estimated total (or no total was
        estimated): the agent is shown both."""
        return self.amount_due is not None and self.amount_due != self.estimate.total


class DossierFees(DossierBase):
    """What a dossier will cost, line by line (queries: nothing is written)."""

    def estimate(self, reference: str, *, lang: str = "fr", at: date | None = None) -> Estimate:
        """The fees of the dossier ``reference`` computed now, at ``at`` (the counter's today by
        default), whatever was kept: :meth:`fees` is what a dossier shows.

        Args:
            reference: the dossier's reference, as typed (forgiving, like everywhere).
            lang: the language of the questions named in the missing lines.
            at: the day the fees are due.

        Raises:
            DossierNotFound: no such dossier.
            UnknownDemarche: its démarche's version is not installed.
        """
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            answers = self._answers(s, dossier.id)
        day = at if at is not None else counter_time(self._now()).date()
        return estimate(self._catalog.localized(demarche, lang), answers, day, self._tariffs)

    def fees(self, reference: str, *, lang: str = "fr") -> FeesView:
        """The dossier's fees: kept at its filing once filed, computed live before.

        A dossier sent back « à compléter » is estimated again from its corrected answers, on
        the day of its first filing (so with the same tariff). A dossier filed before the kiosk
        kept estimates is estimated on the day of its filing.

        Raises:
            DossierNotFound: no such dossier.
            UnknownDemarche: its démarche's version is not installed (and nothing was kept).
            KeptEstimateError: the kept estimate is not one the kiosk wrote.
        """
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            dossier = self._load(s, ref)
            kept = s.get(Estimation, dossier.id)
            state = DossierState(dossier.state)
            if kept is not None and kept.computed_at is not None and not state.editable:
                return FeesView(
                    load_estimate(
                        demarche_id=dossier.demarche_id,
                        at=kept.fees_on or counter_time(kept.computed_at).date(),
                        tariff_version=kept.tariff_version,
                        lines=kept.lines or [],
                        missing=kept.missing or [],
                        note=kept.note,
                        estimated=kept.estimated,
                    ),
                    kept_at=kept.computed_at,
                    amount_due=kept.amount_due_cents,
                    amount_due_at=kept.amount_due_at,
                )
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            answers = self._answers(s, dossier.id)
            day = _fees_day(s, dossier, kept) or counter_time(self._now()).date()
            amount_due = None if kept is None else kept.amount_due_cents
            amount_due_at = None if kept is None else kept.amount_due_at
        live = estimate(self._catalog.localized(demarche, lang), answers, day, self._tariffs)
        return FeesView(live, amount_due=amount_due, amount_due_at=amount_due_at)


def _fees_day(s: Session, dossier: Dossier, kept: Estimation | None) -> date | None:
    """The day a dossier's fees were (or would have been) kept: its first filing's, if any."""
    if kept is not None and kept.fees_on is not None:
        return kept.fees_on
    filed = s.scalar(
        select(func.min(Event.at)).where(
            Event.dossier_id == dossier.id, Event.to_state == DossierState.EN_FILE.value
        )
    )
    return None if filed is None else counter_time(filed).date()


def keep_estimate(
    s: Session,
    dossier: Dossier,
    demarche: Demarche,
    answers: dict[str, JSONValue],
    tariffs: TariffBook,
    *,
    now: datetime,
) -> Estimate:
    """Estimate the fees of ``dossier`` being filed and keep them, in the caller's transaction.

    The day is the counter's today, or the first filing's day when the dossier comes back
    after « à compléter » (its tariff does not change); an amount due said for an earlier
    filing is dropped (the next acknowledgement says it again).
    """
    kept = s.get(Estimation, dossier.id)
    day = (kept.fees_on if kept is not None else None) or counter_time(now).date()
    result = estimate(demarche, answers, day, tariffs)
    if kept is None:
        kept = Estimation(dossier_id=dossier.id)
        s.add(kept)
    kept.tariff_version = result.tariff_version
    kept.fees_on = day
    kept.computed_at = now
    kept.estimated = result.estimated
    kept.lines = dump_lines(result.lines)
    kept.missing = dump_missing(result.missing)
    kept.note = None if result.note is None else dump_message(result.note)
    kept.total_cents = result.total
    kept.amount_due_cents = None
    kept.amount_due_at = None
    return result


def record_amount_due(s: Session, dossier: Dossier, cents: int, *, now: datetime) -> None:
    """Keep the amount the national service's acknowledgement says is due (caller's
    transaction); a dossier filed before estimates were kept gets a row with this alone."""
    kept = s.get(Estimation, dossier.id)
    if kept is None:
        kept = Estimation(dossier_id=dossier.id, estimated=True)
        s.add(kept)
    kept.amount_due_cents = cents
    kept.amount_due_at = now
