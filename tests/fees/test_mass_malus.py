"""The weight malus (taxe sur la masse en ordre de marche) against the public worked examples.

Service-public F35950 (read in a communal copy on 2026-12-05): a car of 1 950 kg first registered
in 2024 pays 200 kg × 10 € + 100 kg × 15 € + 51 kg × 20 € = 4 520 €; the 2025 grid is the 2024
one (Verbaere Auto). La Tribune Auto (03/02/2026): 1 950 kg in 2026 pays 6 775 €. Amounts in cents.
"""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.demarches import Catalog, JSONValue
from kiosk.fees import Estimate, TariffBook, Tax, default_tariffs_dir, estimate, load_tariffs

CORRECTED = date(2026, 12, 5)  # tarif.2026-12-05: the first with the 2026 weight grid
JULY_2025 = date(2025, 7, 1)  # tarif.2025-07-01: the 2025 grid


@pytest.fixture(scope="module")
def tariffs() -> TariffBook:
    book = load_tariffs(default_tariffs_dir())
    assert book.errors == []
    return book


def imported(first: date, mass: str | None, **more: JSONValue) -> dict[str, JSONValue]:
    answers: dict[str, JSONValue] = {
        "adresse": {"ligne": "1 rue de la Paix", "code_postal": "31000", "commune": "TOULOUSE"},
        "genre_vehicule": "voiture",
        "puissance_fiscale": "8",
        "energie": "essence",
        "co2": "100",
        "date_premiere_immatriculation": first.isoformat(),
    }
    if mass is not None:
        answers["masse_ordre_marche"] = mass
    answers.update(more)
    return answers


def run(
    catalog: Catalog, tariffs: TariffBook, answers: dict[str, JSONValue], at: date, version: int = 3
) -> Estimate:
    return estimate(catalog.get("vehicule_importe", version), answers, at, tariffs)


def mass_line(result: Estimate) -> tuple[int, str]:
    line = next(line for line in result.lines if line.code is Tax.Y3_MASS)
    return line.amount, line.basis_text()


def test_a_new_car_of_1950_kg_in_2026_pays_6775_euros_la_tribune_auto(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    result = run(catalog, tariffs, imported(CORRECTED, "1950"), CORRECTED)
    assert result.tariff_version == "2026-12-05"
    amount, basis = mass_line(result)
    basis = basis.replace("\u202f", " ").replace("\xa0", " ")
    assert amount == 677500
    assert "1950 kg, barème 2026 (à partir de 1500 kg) : 6 775,00 €" in basis
    assert [
        line.label.localized("fr") for line in result.lines if line.code.value.startswith("y3")
    ] == [
        "Malus écologique (Y.3)",
        "Malus au poids (Y.3)",
    ]
    assert result.total is not None


def test_1950_kg_on_the_2024_grid_pays_4520_euros_service_public_f35950(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # The 2025 grid is the 2024 one: F35950's example, on a car first registered in July 2025.
    result = run(catalog, tariffs, imported(JULY_2025, "1950"), JULY_2025)
    assert mass_line(result)[0] == 452000


def test_a_used_import_pays_the_grid_of_its_first_year_less_10_percent_a_year(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    result = run(catalog, tariffs, imported(date(2025, 8, 1), "1950"), CORRECTED)
    amount, basis = mass_line(result)
    assert amount == 406800  # 4 520 € − 10 % (one full year)
    assert "barème 2025 (à partir de 1600 kg)" in basis and "10 % de moins" in basis


def test_electric_and_hydrogen_cars_owe_no_weight_malus(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    for energy in ("electrique", "hydrogene"):
        answers = imported(CORRECTED, None, energie=energy)
        del answers["co2"]
        result = run(catalog, tariffs, answers, CORRECTED)
        name = "véhicule électrique" if energy == "electrique" else "véhicule à hydrogène"
        assert mass_line(result) == (0, f"{name} : pas de malus au poids")
        assert result.total is not None


def test_a_hybrid_has_100_kg_taken_off_and_a_motorbike_owes_nothing(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    result = run(catalog, tariffs, imported(CORRECTED, "1600", energie="hybride"), CORRECTED)
    amount, basis = mass_line(result)
    assert amount == 1000  # 1 500 kg taxed: the first kg of the 2026 grid, 10 €
    assert basis.startswith("véhicule hybride : 100 kg de moins sur la masse")
    moto = imported(CORRECTED, None, genre_vehicule="moto")
    assert mass_line(run(catalog, tariffs, moto, CORRECTED))[0] == 0


def test_a_car_first_registered_before_2022_owes_no_weight_malus(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    result = run(catalog, tariffs, imported(date(2021, 5, 1), "2400"), CORRECTED)
    assert mass_line(result)[0] == 0


def test_both_malus_together_are_capped_at_the_co2_grids_highest_amount(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    result = run(catalog, tariffs, imported(CORRECTED, "2300", co2="250"), CORRECTED)
    co2 = next(line.amount for line in result.lines if line.code is Tax.Y3)
    amount, basis = mass_line(result)
    basis = basis.replace("\u202f", " ").replace("\xa0", " ")
    assert co2 + amount == 8_000_000  # 80 000 €, the 2026 cap
    assert "plafonnés ensemble à 80 000,00 €" in basis


def test_the_mass_not_answered_is_a_missing_line_and_no_total(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    result = run(catalog, tariffs, imported(CORRECTED, None), CORRECTED)
    assert result.total is None
    [missing] = [m for m in result.missing if m.code is Tax.Y3_MASS]
    assert missing.field == "masse_ordre_marche"
    assert "Masse en ordre de marche, en kg" in missing.reason.localized("fr")


def test_a_v2_dossier_says_its_version_does_not_ask_the_mass(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    answers = imported(CORRECTED, None)
    result = run(catalog, tariffs, answers, CORRECTED, version=2)
    [missing] = [m for m in result.missing if m.code is Tax.Y3_MASS]
    assert "ne demande pas la masse en ordre de marche (case G)" in missing.reason.localized("fr")
    # Under the tariff it was estimated with (before the weight malus), its total stands.
    assert run(catalog, tariffs, answers, date(2026, 12, 4), version=2).total is not None
