"""Loading the tariff files of ``assets/tarifs/`` and choosing the one in force at a date.

Checked as strictly as the démarches (kiosk/demarches/loader.py): an unknown key, a missing
figure, an amount that is not whole cents, a source that is not listed, a region left out, two
tariffs in force the same day are errors naming the file, the place and the reason, in French:

    assets/tarifs/tarif.2026-04-01.toml: regions.occitanie.cv: nombre entier de centimes attendu

A broken file does not stop the kiosk: the others are loaded and the error is listed beside them;
a day no tariff covers gets an estimate that says so, never a figure from another period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.demarches import DefinitionError, read_toml
from kiosk.fees.model import (
    CATEGORIES,
    ENERGIES,
    DemarcheFees,
    FeeCase,
    MalusGrid,
    MassGrid,
    MassMalus,
    Region,
    Source,
    Tariff,
    Tax,
    WeightBand,
)
from kiosk.fees.regions import REGION_OF_DEPARTMENT
from kiosk.settings.paths import assets_dir

__all__ = [
    "FILE_NAME_RE",
    "REASONS",
    "TariffBook",
    "TariffError",
    "default_tariffs_dir",
    "load_tariff",
    "load_tariffs",
]

#: ``tarif.<AAAA-MM-JJ>.toml``: the day it comes into force is its version.
FILE_NAME_RE = re.compile(r"^tarif\.(\d{4}-\d{2}-\d{2})\.toml$")
#: The reasons a tariff file may give for a case (their sentences are in kiosk/fees/estimate.py).
REASONS = frozenset(
    {
        "etiquette_adresse",
        "nouvelle_carte_adresse",
        "vente_sans_nouvelle_carte",
        "declaration_sans_carte",
        "instruction_manuelle",
        "renouvellement_gratuit",
        "cotitulaire_conjoint",
        "cotitulaire_changement_titulaire",
        "permis_gratuit",
        "echange_gratuit",
    }
)
_REGION_IDS = frozenset(REGION_OF_DEPARTMENT.values())


class TariffError(DefinitionError):
    """A tariff file that cannot be used: ``str()`` gives ``fichier: endroit: raison``."""


def default_tariffs_dir() -> Path:
    """The tariffs shipped with the kiosk (``assets/tarifs``)."""
    return assets_dir() / "tarifs"


class _Table:
    """A TOML table being read: every key must be read once, the rest is an error."""

    def __init__(self, path: Path, place: str, data: object) -> None:
        if not isinstance(data, dict):
            raise TariffError(path, place or "fichier", "table attendue")
        self.path, self.place, self.data = path, place, data
        self.read: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self.place}.{key}" if self.place else key

    def error(self, key: str, reason: str) -> TariffError:
        return TariffError(self.path, self.at(key), reason)

    def raw(self, key: str, *, required: bool = True) -> object:
        self.read.add(key)
        if key not in self.data:
            if required:
                raise TariffError(self.path, self.at(key), "clé obligatoire absente")
            return None
        return self.data[key]

    def opt_text(self, key: str) -> str | None:
        return None if self.raw(key, required=False) is None else self.text(key)

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "texte non vide attendu")
        return value

    def cents(self, key: str) -> int:
        return _cents(self.raw(key), self.path, self.at(key))

    def whole(self, key: str, low: int, high: int) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(key, f"nombre entier de {low} à {high} attendu")
        return value

    def opt_day(self, key: str) -> date | None:
        return None if self.raw(key, required=False) is None else self.day(key)

    def day(self, key: str) -> date:
        value = self.raw(key)
        if not isinstance(value, date) or isinstance(value, datetime):
            raise self.error(key, "date attendue, écrite AAAA-MM-JJ sans guillemets")
        return value

    def opt_table(self, key: str) -> _Table | None:
        return None if self.raw(key, required=False) is None else self.table(key)

    def table(self, key: str) -> _Table:
        return _Table(self.path, self.at(key), self.raw(key))

    def tables(self, key: str) -> list[_Table]:
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise self.error(key, "liste de tables attendue ([[…]]), au moins une")
        return [_Table(self.path, f"{self.at(key)}[{i}]", item) for i, item in enumerate(value)]

    def source(self, key: str, sources: Mapping[str, Source]) -> str:
        name = self.text(key)
        if name not in sources:
            known = ", ".join(sorted(sources))
            raise self.error(key, f"source « {name} » absente de [[sources]] ({known})")
        return name

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            known = ", ".join(sorted(self.read))
            raise self.error(
                unknown[0], f"clé inconnue « {unknown[0]} » (clés possibles : {known})"
            )


def _cents(value: object, path: Path, place: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TariffError(path, place, "nombre entier de centimes attendu (11 € s'écrit 1100)")
    return value


def _taxes(table: _Table, key: str) -> tuple[Tax, ...]:
    value = table.raw(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise table.error(key, 'liste de taxes attendue (ex. ["y4", "y5"])')
    # The weight malus is due wherever Y.3 is: not a tax a démarche lists on its own.
    known = {tax.value for tax in Tax if tax is not Tax.Y3_MASS}
    for i, name in enumerate(value):
        if name not in known:
            choices = ", ".join(sorted(known))
            raise TariffError(
                table.path, f"{table.at(key)}[{i}]", f"taxe « {name} » inconnue ({choices})"
            )
    if len(set(value)) != len(value):
        raise table.error(key, "taxe citée deux fois")
    return tuple(Tax(name) for name in value)


def _reason(table: _Table, key: str) -> str | None:
    reason = table.opt_text(key)
    if reason is not None and reason not in REASONS:
        raise table.error(key, f"motif « {reason} » inconnu ({', '.join(sorted(REASONS))})")
    return reason


def _sources(root: _Table) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for table in root.tables("sources"):
        name = table.text("id")
        if name in sources:
            raise table.error("id", f"source « {name} » déjà définie")
        url = table.text("url")
        if not url.startswith("https://"):
            raise table.error("url", "adresse https://… attendue")
        title, read_on = table.text("titre"), table.day("lu_le")
        table.done()
        sources[name] = Source(name, title, url, read_on)
    return sources


def _regions(root: _Table, sources: Mapping[str, Source]) -> dict[str, Region]:
    table = root.table("regions")
    regions: dict[str, Region] = {}
    for region_id in table.data:
        if region_id not in _REGION_IDS:
            raise table.error(
                region_id, f"région « {region_id} » inconnue ({', '.join(sorted(_REGION_IDS))})"
            )
        entry = table.table(region_id)
        exemptions: dict[str, int] = {}
        listed = entry.opt_table("exonerations")
        if listed is not None:
            for energy in listed.data:
                if energy not in ENERGIES:
                    raise listed.error(
                        energy, f"énergie « {energy} » inconnue ({', '.join(ENERGIES)})"
                    )
                exemptions[energy] = listed.whole(energy, 0, 100)
        name = entry.text("nom")
        regions[region_id] = Region(
            id=region_id,
            name=name,
            rate_per_cv=entry.cents("cv"),
            exemptions=exemptions,
            source=entry.source("source", sources),
            to_check=entry.opt_text("a_verifier"),
        )
        entry.done()
    missing = sorted(_REGION_IDS - set(regions))
    if missing:
        raise root.error("regions", f"région absente : {', '.join(missing)}")
    return regions


def _malus(root: _Table, sources: Mapping[str, Source]) -> MalusGrid:
    table = root.table("malus")
    amounts = table.raw("montants")
    if not isinstance(amounts, list) or not amounts:
        raise table.error("montants", "liste de montants en centimes attendue, un par g/km")
    grid = tuple(
        _cents(a, table.path, f"{table.at('montants')}[{i}]") for i, a in enumerate(amounts)
    )
    for i in range(1, len(grid)):
        if grid[i] < grid[i - 1]:
            raise TariffError(
                table.path,
                f"{table.at('montants')}[{i}]",
                "montant plus bas que celui du gramme précédent",
            )
    malus = MalusGrid(
        threshold=table.whole("seuil", 1, 1000),
        amounts=grid,
        yearly_reduction=table.whole("reduction_par_an", 0, 100),
        source=table.source("source", sources),
    )
    table.done()
    return malus


def _mass_malus(root: _Table, sources: Mapping[str, Source]) -> MassMalus | None:
    table = root.opt_table("malus_poids")
    if table is None:
        return None
    exempt = table.raw("exonerations")
    if not isinstance(exempt, list) or any(e not in ENERGIES for e in exempt):
        raise table.error("exonerations", f"liste d'énergies attendue ({', '.join(ENERGIES)})")
    allowances: dict[str, int] = {}
    listed = table.opt_table("abattements")
    if listed is not None:
        for energy in listed.data:
            if energy not in ENERGIES:
                raise listed.error(energy, f"énergie « {energy} » inconnue ({', '.join(ENERGIES)})")
            allowances[energy] = listed.whole(energy, 0, 5000)
        listed.done()
    grids: list[MassGrid] = []
    for grid in table.tables("baremes"):
        year = grid.whole("annee", 2000, 2100)
        if grids and year <= grids[-1].year:
            raise grid.error(
                "annee", "les barèmes vont de l'année la plus ancienne à la plus récente"
            )
        bands: list[tuple[int, int]] = []
        for band in grid.tables("tranches"):
            first = band.whole("a_partir_de_kg", 1, 100_000)
            if bands and first <= bands[-1][0]:
                raise band.error("a_partir_de_kg", "les tranches vont du plus léger au plus lourd")
            bands.append((first, band.cents("par_kg")))
            band.done()
        grids.append(MassGrid(year, tuple(bands), grid.source("source", sources)))
        grid.done()
    malus = MassMalus(
        grids=tuple(grids),
        exempt=frozenset(exempt),
        allowances=allowances,
        yearly_reduction=table.whole("reduction_par_an", 0, 100),
        source=table.source("source", sources),
        to_check=table.opt_text("a_verifier"),
    )
    table.done()
    return malus


def _y2(root: _Table, sources: Mapping[str, Source]) -> tuple[tuple[WeightBand, ...], str]:
    table = root.table("y2")
    bands: list[WeightBand] = []
    items = table.tables("tranches")
    for i, band in enumerate(items):
        last = i == len(items) - 1
        if last and "jusqu_a_kg" in band.data:
            raise band.error(
                "jusqu_a_kg", "la dernière tranche n'a pas de limite (tous les poids au-delà)"
            )
        up_to = None if last else band.whole("jusqu_a_kg", 1, 100_000)
        if (
            up_to is not None
            and bands
            and bands[-1].up_to_kg is not None
            and up_to <= bands[-1].up_to_kg
        ):
            raise band.error("jusqu_a_kg", "les tranches vont du plus léger au plus lourd")
        bands.append(WeightBand(up_to, band.cents("montant")))
        band.done()
    source = table.source("source", sources)
    table.done()
    return tuple(bands), source


def _demarches(root: _Table, sources: Mapping[str, Source]) -> dict[str, DemarcheFees]:
    table = root.table("demarches")
    result: dict[str, DemarcheFees] = {}
    for demarche_id in table.data:
        entry = table.table(demarche_id)
        not_estimated = _reason(entry, "non_estimee")
        reason = _reason(entry, "motif")
        taxes: tuple[Tax, ...] | None = None
        if not_estimated is None and ("taxes" in entry.data or "cas" not in entry.data):
            taxes = _taxes(entry, "taxes")
        cases: list[FeeCase] = []
        if "cas" in entry.data:
            for case in entry.tables("cas"):
                when_table = case.table("si")
                when: dict[str, tuple[str | bool, ...]] = {}
                for field_id, value in when_table.data.items():
                    values = value if isinstance(value, list) else [value]
                    if not values or not all(isinstance(v, str | bool) for v in values):
                        raise when_table.error(
                            field_id, "réponse attendue : un texte, true/false ou une liste"
                        )
                    when[field_id] = tuple(values)
                    when_table.read.add(field_id)
                if not when:
                    raise case.error("si", "au moins une réponse à comparer")
                case_reason = case.text("motif")
                if case_reason not in REASONS:
                    raise case.error(
                        "motif", f"motif « {case_reason} » inconnu ({', '.join(sorted(REASONS))})"
                    )
                cases.append(FeeCase(when, _taxes(case, "taxes"), case_reason))
                case.done()
        result[demarche_id] = DemarcheFees(
            demarche_id=demarche_id,
            taxes=taxes,
            cases=tuple(cases),
            source=entry.source("source", sources),
            reason=reason,
            not_estimated=not_estimated,
        )
        entry.done()
    return result


def _read(path: Path, data: dict[str, Any], version: str) -> Tariff:
    root = _Table(path, "", data)
    if root.text("version") != version:
        raise root.error(
            "version", f"la version doit être « {version} », comme dans le nom du fichier"
        )
    valid_from = root.day("en_vigueur_du")
    valid_until = root.opt_day("en_vigueur_jusqu_au")
    if valid_from.isoformat() != version:
        raise root.error("en_vigueur_du", "la date d'entrée en vigueur est la version du fichier")
    if valid_until is not None and valid_until < valid_from:
        raise root.error("en_vigueur_jusqu_au", "fin avant le début")
    sources = _sources(root)
    y1 = root.table("y1")
    shares = y1.table("categories")
    category_share = {c: shares.whole(c, 0, 1000) for c in CATEGORIES}
    shares.done()
    old_reduction = y1.whole("reduction_plus_de_10_ans", 0, 100)
    old_after = y1.whole("apres_ans", 1, 100)
    y1_source = y1.source("source", sources)
    y1.done()
    fixed, delivery, permis = (
        root.table("taxe_fixe"),
        root.table("acheminement"),
        root.table("permis"),
    )
    by_department: dict[str, int] = {}
    listed = permis.opt_table("par_departement")
    if listed is not None:
        for department in listed.data:
            if department not in REGION_OF_DEPARTMENT:
                raise listed.error(department, f"département « {department} » inconnu")
            by_department[department] = listed.cents(department)
    bands, y2_source = _y2(root, sources)
    tariff = Tariff(
        version=version,
        valid_from=valid_from,
        valid_until=valid_until,
        file=path,
        sources=sources,
        regions=_regions(root, sources),
        category_share=category_share,
        old_reduction=old_reduction,
        old_after_years=old_after,
        y1_source=y1_source,
        y2_bands=bands,
        y2_source=y2_source,
        malus=_malus(root, sources),
        fixed_tax=fixed.cents("montant"),
        fixed_tax_source=fixed.source("source", sources),
        delivery_fee=delivery.cents("montant"),
        delivery_fee_source=delivery.source("source", sources),
        permis_timbre=permis.cents("timbre"),
        permis_timbre_by_department=by_department,
        permis_timbre_source=permis.source("source", sources),
        demarches=_demarches(root, sources),
        mass_malus=_mass_malus(root, sources),
    )
    for table in (fixed, delivery, permis):
        table.done()
    root.done()
    return tariff


def load_tariff(path: Path) -> Tariff:
    """Load and check one tariff file.

    Raises:
        TariffError: a bad name, unreadable or invalid TOML, or a figure out of the format.
    """
    match = FILE_NAME_RE.match(path.name)
    if match is None:
        raise TariffError(
            path,
            "nom du fichier",
            "le nom doit être tarif.<AAAA-MM-JJ>.toml (ex. tarif.2026-04-01.toml)",
        )
    try:
        data = read_toml(path)
    except TariffError:
        raise
    except DefinitionError as error:
        raise TariffError(error.file, error.place, error.reason, error.line) from error
    return _read(path, data, match.group(1))


class TariffBook:
    """Every loaded tariff, the one in force at a date, and the files that could not be loaded."""

    def __init__(self, tariffs: Iterable[Tariff] = (), errors: Iterable[TariffError] = ()) -> None:
        self.errors: list[TariffError] = list(errors)
        self._tariffs: list[Tariff] = []
        for tariff in sorted(tariffs, key=lambda t: t.valid_from):
            clash = next((t for t in self._tariffs if _overlap(t, tariff)), None)
            if clash is not None:
                self.errors.append(
                    TariffError(
                        tariff.file, "en_vigueur_du", f"période déjà couverte par {clash.file.name}"
                    )
                )
                continue
            self._tariffs.append(tariff)

    def in_force(self, day: date) -> Tariff | None:
        """The tariff that applies on ``day``, None when none covers it."""
        return next((t for t in self._tariffs if t.in_force(day)), None)

    def get(self, version: str) -> Tariff:
        """The tariff of a version (a dossier keeps the one it was estimated with); KeyError."""
        for tariff in self._tariffs:
            if tariff.version == version:
                return tariff
        raise KeyError(version)

    def all(self) -> list[Tariff]:
        """Every tariff, oldest first."""
        return list(self._tariffs)


def _overlap(a: Tariff, b: Tariff) -> bool:
    a_end, b_end = a.valid_until or date.max, b.valid_until or date.max
    return a.valid_from <= b_end and b.valid_from <= a_end


def load_tariffs(directory: Path) -> TariffBook:
    """Load every ``tarif.*.toml`` of a directory; broken ones end up in ``TariffBook.errors``."""
    tariffs: list[Tariff] = []
    errors: list[TariffError] = []
    if not directory.is_dir():
        return TariffBook((), [TariffError(directory, "dossier", "dossier des tarifs introuvable")])
    for path in sorted(directory.glob("*.toml")):
        try:
            tariffs.append(load_tariff(path))
        except TariffError as error:
            errors.append(error)
    return TariffBook(tariffs, errors)
