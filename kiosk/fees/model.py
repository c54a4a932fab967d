"""What a tariff file says, once checked: frozen values, amounts in integer cents.

A tariff is one dated snapshot of every fee the kiosk estimates (the carte-grise taxes Y.1–Y.5,
the permis timbre), in force from ``valid_from`` to ``valid_until`` (both included). Each figure
names the public page it comes from (``sources``), so that an agent can check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

__all__ = [
    "CATEGORIES",
    "ENERGIES",
    "DemarcheFees",
    "FeeCase",
    "MalusGrid",
    "MassGrid",
    "MassMalus",
    "Region",
    "Source",
    "Tariff",
    "Tax",
    "WeightBand",
]


class Tax(StrEnum):
    """The fees a démarche may owe, by the box of the certificate they are printed in."""

    Y1 = "y1"  # taxe régionale
    Y2 = "y2"  # taxe pour la formation professionnelle dans les transports (utility vehicles)
    Y3 = "y3"  # malus (taxe sur les émissions de CO2), first registration in France only
    #: The weight malus (taxe sur la masse en ordre de marche), printed in Y.3 with the CO2 one;
    #: a line of its own so that each is shown with its basis. Due wherever Y.3 is.
    Y3_MASS = "y3_masse"
    Y4 = "y4"  # taxe fixe
    Y5 = "y5"  # redevance d'acheminement
    TIMBRE = "timbre"  # timbre fiscal of a lost or stolen permis


#: The vehicle kinds the démarches ask for (``genre_vehicule``), and the énergies (``energie``).
CATEGORIES = ("voiture", "utilitaire", "utilitaire_lourd", "moto")
ENERGIES = (
    "essence",
    "diesel",
    "hybride",
    "electrique",
    "hydrogene",
    "gpl",
    "superethanol",
    "autre",
)


@dataclass(frozen=True)
class Source:
    """A public page a figure was read on, and the day it was read."""

    id: str
    title: str
    url: str
    read_on: date


@dataclass(frozen=True)
class Region:
    """A region's Y.1: its rate per fiscal horsepower and its own exemptions."""

    id: str
    name: str
    rate_per_cv: int  # cents
    #: Percent taken off Y.1, by énergie (``{"electrique": 100}``: electric cars pay none).
    exemptions: dict[str, int]
    source: str
    #: Why a figure deserves a second look (sources disagree, or none newer was found).
    to_check: str | None = None


@dataclass(frozen=True)
class WeightBand:
    """A Y.2 amount for vehicles up to ``up_to_kg`` (None: any heavier one)."""

    up_to_kg: int | None
    amount: int


@dataclass(frozen=True)
class MalusGrid:
    """The CO2 malus: ``amounts[i]`` is due at ``threshold + i`` g/km; the last one beyond."""

    threshold: int
    amounts: tuple[int, ...]
    #: Used vehicles first registered abroad: percent off per full year since that registration.
    yearly_reduction: int
    source: str

    def amount_for(self, co2: int) -> int:
        """The malus in cents for ``co2`` g/km, before any reduction for age."""
        if co2 < self.threshold:
            return 0
        return self.amounts[min(co2 - self.threshold, len(self.amounts) - 1)]


@dataclass(frozen=True)
class MassGrid:
    """One year's weight malus: ``bands`` of (first kg, cents per kg), lightest first.

    Each band runs from its first kg to the kg before the next band's (the last one has no
    end); a mass pays, in each band, the rate for every kg of the band up to its own mass,
    both ends counted (service-public F35950: 1 950 kg in 2024 is 200 + 100 + 51 kg).
    """

    year: int
    bands: tuple[tuple[int, int], ...]
    source: str

    @property
    def threshold(self) -> int:
        """The lightest mass that pays (kg)."""
        return self.bands[0][0]

    def amount_for(self, mass: int) -> int:
        """The malus in cents for ``mass`` kg, before any reduction for age."""
        total = 0
        for i, (first, rate) in enumerate(self.bands):
            last = self.bands[i + 1][0] - 1 if i + 1 < len(self.bands) else mass
            total += max(0, min(mass, last) - first + 1) * rate
        return total


@dataclass(frozen=True)
class MassMalus:
    """The weight malus (taxe sur la masse en ordre de marche) of a tariff.

    A vehicle pays the grid of the year of its first registration (anywhere); a year before
    the first grid owes nothing (the tax began on 1 January 2022).
    """

    grids: tuple[MassGrid, ...]  # by year, oldest first
    #: Énergies that owe none (electric, hydrogen).
    exempt: frozenset[str]
    #: Kilograms taken off the mass, by énergie (hybrids).
    allowances: dict[str, int]
    #: Used vehicles first registered abroad: percent off per full year since then.
    yearly_reduction: int
    source: str
    to_check: str | None = None

    def grid_for(self, year: int) -> MassGrid | None:
        """The grid of ``year``; None when the kiosk has none for it."""
        return next((g for g in self.grids if g.year == year), None)


@dataclass(frozen=True)
class FeeCase:
    """Taxes owed instead of the démarche's usual ones when every answer in ``when`` matches."""

    when: dict[str, tuple[str | bool, ...]]
    taxes: tuple[Tax, ...]
    reason: str  # one of kiosk.fees.estimate.REASONS


@dataclass(frozen=True)
class DemarcheFees:
    """What one démarche owes (its « coefficient »): the taxes, and the cases that change them."""

    demarche_id: str
    #: The taxes when no case matches; None: the cases must decide (an answer is then missing).
    taxes: tuple[Tax, ...] | None
    cases: tuple[FeeCase, ...]
    source: str
    #: Why these taxes (the démarche costs nothing…), as a reason id.
    reason: str | None = None
    #: Not estimated at all (a cas complexe is priced by the préfecture): why, as a reason id.
    not_estimated: str | None = None


@dataclass(frozen=True)
class Tariff:
    """Every fee at a date: one checked tariff file."""

    version: str
    valid_from: date
    valid_until: date | None
    file: Path
    sources: dict[str, Source]
    regions: dict[str, Region]
    #: Percent of Y.1 by vehicle kind (a motorbike pays half), before the age reduction.
    category_share: dict[str, int]
    #: Y.1 for a vehicle first registered more than ``old_after_years`` ago: percent taken off.
    old_reduction: int
    old_after_years: int
    y1_source: str
    y2_bands: tuple[WeightBand, ...]
    y2_source: str
    malus: MalusGrid
    fixed_tax: int
    fixed_tax_source: str
    delivery_fee: int
    delivery_fee_source: str
    permis_timbre: int
    #: Departments with their own timbre (« 973 » : Guyane), in cents.
    permis_timbre_by_department: dict[str, int]
    permis_timbre_source: str
    demarches: dict[str, DemarcheFees] = field(default_factory=dict)
    #: The weight malus; None in a tariff written before the kiosk estimated it (that version
    #: keeps estimating without it: a version does not change).
    mass_malus: MassMalus | None = None

    def in_force(self, day: date) -> bool:
        """Whether this tariff applies on ``day``."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)
