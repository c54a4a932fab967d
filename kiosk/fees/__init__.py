"""What a carte grise or a permis costs: tariffs as dated data, and the estimate of a dossier.

No Qt, no HTTP, no store: the tariff files of ``assets/tarifs/`` (docs/fees.md) are loaded and
checked by :mod:`~kiosk.fees.loader`; :func:`estimate` computes a dossier's fees line by line
from its answers at a date; the use case that reads a dossier is kiosk/dossiers/fees.py.
"""

from kiosk.fees.estimate import REASON_TEXTS, Estimate, FeeLine, MissingInput, estimate
from kiosk.fees.loader import (
    TariffBook,
    TariffError,
    default_tariffs_dir,
    load_tariff,
    load_tariffs,
)
from kiosk.fees.model import Region, Source, Tariff, Tax
from kiosk.fees.money import format_euros
from kiosk.fees.regions import department_of, region_of

__all__ = [
    "REASON_TEXTS",
    "Estimate",
    "FeeLine",
    "MissingInput",
    "Region",
    "Source",
    "Tariff",
    "TariffBook",
    "TariffError",
    "Tax",
    "default_tariffs_dir",
    "department_of",
    "estimate",
    "format_euros",
    "load_tariff",
    "load_tariffs",
    "region_of",
]
