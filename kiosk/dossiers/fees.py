"""The estimate of a dossier's fees, by its reference: one read transaction, then pure arithmetic.

The same call for the command line (``kiosk frais REF``) and, later, the review screen and the
receipt. The fees are estimated at the counter's date with the tariff in force that day
(kiosk/fees/); the tariff version comes back with the estimate so that the dossier can keep it.
"""

from __future__ import annotations

from datetime import date

from kiosk.demarches import Catalog
from kiosk.dossiers.base import Clock, DossierBase, utc_now
from kiosk.fees import Estimate, TariffBook, estimate
from kiosk.settings.timezone import counter_time
from kiosk.store.engine import Store

__all__ = ["DossierFees"]


class DossierFees(DossierBase):
    """What a dossier will cost, line by line (a query: nothing is written)."""

    def __init__(
        self, store: Store, catalog: Catalog, tariffs: TariffBook, *, clock: Clock = utc_now
    ) -> None:
        super().__init__(store, catalog, clock=clock)
        self._tariffs = tariffs

    def estimate(self, reference: str, *, lang: str = "fr", at: date | None = None) -> Estimate:
        """The fees of the dossier ``reference`` at ``at`` (the counter's today by default).

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
