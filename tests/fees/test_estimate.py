"""The estimate against worked examples from public pages (each named where it is used).

The pages were read on 2026-12-04 in stored copies; their addresses are in the tariff files'
``[[sources]]`` (assets/tarifs/). Amounts are in cents.
"""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.demarches import Catalog, JSONValue
from kiosk.fees import Estimate, TariffBook, Tax, default_tariffs_dir, estimate, load_tariffs

IN_2025 = date(2025, 6, 2)  # the tariff of 1 May 2025
IN_2026 = date(2026, 12, 4)  # the tariff of 1 April 2026


@pytest.fixture(scope="module")
def tariffs() -> TariffBook:
    book = load_tariffs(default_tariffs_dir())
    assert book.errors == []
    return book


def address(postcode: str) -> dict[str, JSONValue]:
    return {"adresse": {"ligne": "1 rue de la Paix", "code_postal": postcode, "commune": "X"}}


def car(postcode: str, cv: str, **more: JSONValue) -> dict[str, JSONValue]:
    return {
        **address(postcode),
        "genre_vehicule": "voiture",
        "puissance_fiscale": cv,
        "energie": "essence",
        "date_premiere_immatriculation": "2022-03-01",
        **more,
    }


def amounts(result: Estimate) -> dict[str, int]:
    return {line.code.value: line.amount for line in result.lines}


def used_car(
    catalog: Catalog, tariffs: TariffBook, answers: dict[str, JSONValue], at: date
) -> Estimate:
    return estimate(catalog.latest("changement_titulaire"), answers, at, tariffs)


def test_an_electric_car_in_the_only_region_keeping_the_exemption_costs_13_76(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # Frandroid (avril 2025): an electric car's card « 11 € + 2,76 €, soit à peine 13,76 € »;
    # CNews (23/04/2025): from 1 May 2025 only the Hauts-de-France keep that exemption.
    answers = car("59000", "5", energie="electrique")
    result = used_car(catalog, tariffs, answers, IN_2025)
    assert amounts(result) == {"y1": 0, "y4": 1100, "y5": 276}
    assert result.total == 1376
    assert "véhicule électrique : exonéré dans cette région" in result.lines[0].basis_text()
    # The same car in Normandie pays its horsepower since then.
    assert (
        amounts(used_car(catalog, tariffs, car("76000", "5", energie="electrique"), IN_2025))["y1"]
        == 5 * 6000
    )


def test_a_7_cv_suv_in_normandie_in_2025_pays_420_of_regional_tax(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # Le Méridien / TF1 (janvier 2025): « un SUV de 7 chevaux … devra payer sa carte grise 420
    # euros contre 322 l'an dernier » (60 € par CV en Normandie).
    result = used_car(catalog, tariffs, car("76600", "7"), IN_2025)
    assert amounts(result)["y1"] == 42000
    assert result.lines[0].basis_text() == "7 CV × 60,00\u00a0€ (Normandie)"
    assert result.total == 42000 + 1100 + 276


def test_an_8_cv_car_in_bretagne_after_february_2025_pays_480(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # mesdemarchesadministratives.fr: « une voiture de 8 chevaux fiscaux immatriculée en Bretagne
    # après le 1ᵉʳ février 2025 : 480 € ».
    assert amounts(used_car(catalog, tariffs, car("35000", "8"), IN_2025))["y1"] == 48000


def test_a_fleet_of_6_cv_cars_in_ile_de_france_after_march_2026(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # Caradisiac (28/02/2026): 50 vehicles of 6 CV in Île-de-France « vont au total coûter
    # 21 373 € » once the CV is at 68,95 € (54,95 € + 14 €).
    result = used_car(catalog, tariffs, car("75011", "6"), IN_2026)
    assert result.total is not None
    assert 50 * result.total == 2_137_300


def test_a_vehicle_over_10_years_pays_half_the_regional_tax(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # ANTS, « Coût et taxes additionnelles »: over 10 years « le montant de la taxe Y.1 est
    # réduit de moitié ». 7 CV in Occitanie at 59,50 €: 416,50 € new, 208,25 € old.
    young = used_car(catalog, tariffs, car("31000", "7"), IN_2026)
    old = used_car(
        catalog, tariffs, car("31000", "7", date_premiere_immatriculation="2016-12-04"), IN_2026
    )
    assert amounts(young)["y1"] == 41650
    assert amounts(old)["y1"] == 20825
    assert old.lines[0].basis_text() == (
        "7 CV × 59,50\u00a0€ (Occitanie), véhicule de plus de 10 ans : moitié"
    )
    # One day short of ten years: the full rate.
    nearly = car("31000", "7", date_premiere_immatriculation="2016-12-05")
    assert amounts(used_car(catalog, tariffs, nearly, IN_2026))["y1"] == 41650


def test_a_motorbike_pays_half_and_a_heavy_van_the_transport_tax(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # ANTS: Y.1 halved for L3e/L4e (motorbikes) and N2/N3 (over 3.5 t); Eplaque: Y.2 is 34 € up
    # to 3.5 t, 127 € up to 6 t.
    moto = used_car(catalog, tariffs, car("13001", "4", genre_vehicule="moto"), IN_2026)
    assert amounts(moto)["y1"] == 4 * 6000 // 2
    van = car("13001", "8", genre_vehicule="utilitaire", ptac="3500")
    assert amounts(used_car(catalog, tariffs, van, IN_2026)) == {
        "y1": 8 * 6000,
        "y2": 3400,
        "y4": 1100,
        "y5": 276,
    }
    lorry = car("13001", "10", genre_vehicule="utilitaire", ptac="5000")
    assert amounts(used_car(catalog, tariffs, lorry, IN_2026))["y2"] == 12700
    assert amounts(used_car(catalog, tariffs, lorry, IN_2026))["y1"] == 10 * 6000 // 2


def test_a_duplicata_costs_the_fixed_tax_and_the_delivery(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # LegalPlace, « Le coût du duplicata de la carte grise »: taxe de gestion 11 € and
    # redevance d'acheminement 2,76 €.
    result = estimate(catalog.latest("duplicata_carte_grise"), {}, IN_2026, tariffs)
    assert amounts(result) == {"y4": 1100, "y5": 276}
    assert result.total == 1376


def test_a_change_of_address_is_free_with_a_sticker_and_2_76_with_a_new_card(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # Comparateur-assurances.net: the first 3 changes are free; the 4th costs 2,76 €. A FNI card
    # gets a new SIV number, hence a new card.
    demarche = catalog.latest("changement_adresse")
    sticker = estimate(
        demarche,
        {"format_immatriculation": "siv", "changements_precedents": "moins_de_3"},
        IN_2026,
        tariffs,
    )
    assert (sticker.lines, sticker.total) == ((), 0)
    assert sticker.note is not None
    assert "sans frais" in str(sticker.note)
    fourth = {"format_immatriculation": "siv", "changements_precedents": "trois_ou_plus"}
    assert estimate(demarche, fourth, IN_2026, tariffs).total == 276
    fni = estimate(demarche, {"format_immatriculation": "fni"}, IN_2026, tariffs)
    assert fni.total == 276
    unknown = estimate(demarche, {}, IN_2026, tariffs)
    assert unknown.total is None
    assert [m.field for m in unknown.missing] == ["format_immatriculation"]


def imported(co2: str, first: str) -> dict[str, JSONValue]:
    return car("69001", "6", co2=co2, date_premiere_immatriculation=first)


def test_a_new_car_bought_abroad_pays_the_2026_malus(catalog: Catalog, tariffs: TariffBook) -> None:
    # Caradisiac (janvier 2026): « la nouvelle Renault Clio …, donnée pour 114 g/km, doit
    # s'acquitter d'une taxe de 190 € » (seuil 108 g/km, La Tribune Auto).
    result = estimate(
        catalog.latest("vehicule_importe"), imported("114", "2026-11-20"), IN_2026, tariffs
    )
    assert amounts(result)["y3"] == 19000
    assert amounts(result)["y1"] == 6 * 4300
    low = estimate(
        catalog.latest("vehicule_importe"), imported("107", "2026-11-20"), IN_2026, tariffs
    )
    assert amounts(low)["y3"] == 0


def test_a_used_import_pays_the_grid_of_its_first_registration_less_10_percent_a_year(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # Reezocar (février 2024): a used import pays the grid « en vigueur lors de la première
    # année d'immatriculation », with « un abattement annuel de 10 % ». Legipermis: 130 g/km
    # in the grid of 1 March 2025 is 540 €. First registered on 15 June 2025, imported on
    # 4 December 2026: one full year, 486 €.
    result = estimate(
        catalog.latest("vehicule_importe"), imported("130", "2025-06-15"), IN_2026, tariffs
    )
    malus = next(line for line in result.lines if line.code is Tax.Y3)
    assert malus.amount == 48600
    assert malus.basis_text() == (
        "130 g/km de CO2, barème du 01/05/2025 : 540,00\u00a0€,"
        " première immatriculation il y a 1 an(s) : 10 % de moins"
    )
    # First registered when no installed tariff covers the day: said, not guessed.
    older = estimate(
        catalog.latest("vehicule_importe"), imported("130", "2019-06-15"), IN_2026, tariffs
    )
    assert older.total is None
    assert any(m.code is Tax.Y3 and "n'est pas installé" in str(m.reason) for m in older.missing)


def test_an_electric_import_owes_no_malus(catalog: Catalog, tariffs: TariffBook) -> None:
    answers = imported("", "2026-11-20")
    answers["energie"] = "electrique"
    del answers["co2"]
    result = estimate(catalog.latest("vehicule_importe"), answers, IN_2026, tariffs)
    assert amounts(result)["y3"] == 0
    assert result.complete


def test_a_lost_or_stolen_permis_costs_a_25_euro_stamp_12_50_in_guyane(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # Service-public F34118: « Vous devez régler 25 € (12,5 € en Guyane) par timbre fiscal ».
    for demarche_id in ("permis_perte", "permis_vol"):
        demarche = catalog.latest(demarche_id)
        assert estimate(demarche, address("75001"), IN_2026, tariffs).total == 2500
        assert estimate(demarche, address("97300"), IN_2026, tariffs).total == 1250
    renewal = estimate(catalog.latest("permis_renouvellement"), {}, IN_2026, tariffs)
    assert renewal.total == 0


def test_the_issue_15_demarches_cost_what_their_sources_say(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    def total(demarche_id: str, answers: dict[str, JSONValue]) -> int | None:
        return estimate(catalog.latest(demarche_id), answers, IN_2026, tariffs).total

    # Commentaider.fr: adding one's spouse « ne coûte que 13,76 € »; Service-public F10613: any
    # other person is a changement de titulaire (here 7 CV × 60 € in Normandie, + 13,76 €).
    spouse: dict[str, JSONValue] = {"operation": "ajout", "lien_ajout": "conjoint_mariage"}
    assert total("cotitulaire", spouse) == 1376
    other = car("76600", "7", operation="ajout", lien_ajout="autre")
    assert total("cotitulaire", other) == 42000 + 1376
    divorce: dict[str, JSONValue] = {"operation": "retrait", "motif_retrait": "divorce"}
    assert total("cotitulaire", divorce) == 1376
    unanswered = estimate(catalog.latest("cotitulaire"), {}, IN_2026, tariffs)
    assert [m.field for m in unanswered.missing] == ["operation"]
    # CGI art. 1599 octodecies: the fixed tax for a civil-status change or a technical change.
    assert total("changement_etat_civil", {}) == 1376
    assert total("modification_technique", {}) == 1376
    # Ornikar (damaged), F34118 (the stamp is for loss and theft only), Voyagenbus
    # (international), F1460 (exchange): nothing to pay the State.
    for free in ("permis_deterioration", "permis_etat_civil", "permis_international"):
        assert total(free, address("75001")) == 0
    exchange = estimate(catalog.latest("permis_echange"), {}, IN_2026, tariffs)
    assert exchange.total == 0
    assert "traduction par un traducteur agréé" in str(exchange.note)


def test_a_missing_horsepower_is_a_missing_line_never_a_total(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    answers = car("31000", "7")
    del answers["puissance_fiscale"]
    result = used_car(catalog, tariffs, answers, IN_2026)
    assert result.total is None
    assert [(m.code, m.field) for m in result.missing] == [(Tax.Y1, "puissance_fiscale")]
    assert str(result.missing[0].reason) == (
        "Pour calculer Taxe régionale (Y.1), répondez à « Puissance fiscale, en chevaux fiscaux"
        " (CV) »."
    )
    # The fees that do not need it are still shown.
    assert amounts(result) == {"y4": 1100, "y5": 276}
    typo = used_car(catalog, tariffs, car("31000", "sept"), IN_2026)
    assert typo.total is None
    assert "un nombre entier est attendu" in str(typo.missing[0].reason)


def test_a_missing_question_is_named_in_the_persons_language(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    answers = car("31000", "7")
    del answers["energie"]
    english = catalog.localized(catalog.latest("changement_titulaire"), "en")
    result = estimate(english, answers, IN_2026, tariffs)
    assert result.missing[0].reason.localized("en") == (
        "To calculate Regional tax (Y.1), answer “Fuel or energy of the vehicle”."
    )


def test_an_older_demarche_version_without_the_questions_says_so(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    result = estimate(catalog.get("changement_titulaire", 1), car("31000", "7"), IN_2026, tariffs)
    assert result.total is None
    assert all(m.field is None for m in result.missing)
    assert "ne demande pas la puissance fiscale" in " ".join(str(m.reason) for m in result.missing)


def test_a_postcode_outside_the_regions_is_not_guessed(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # Saint-Barthélemy (97133) shares Guadeloupe's 971 but is a collectivité of its own.
    result = used_car(catalog, tariffs, car("97133", "7"), IN_2026)
    assert result.total is None
    assert "97133" in str(result.missing[0].reason)
    corse = used_car(catalog, tariffs, car("20200", "7"), IN_2026)  # Haute-Corse, 2B
    assert amounts(corse)["y1"] == 7 * 5300


def test_the_tariff_is_chosen_by_date_and_a_day_without_one_says_so(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    answers = car("75011", "6")
    assert used_car(catalog, tariffs, answers, IN_2025).tariff_version == "2025-05-01"
    assert amounts(used_car(catalog, tariffs, answers, IN_2025))["y1"] == 6 * 5495
    assert used_car(catalog, tariffs, answers, IN_2026).tariff_version == "2026-04-01"
    assert amounts(used_car(catalog, tariffs, answers, IN_2026))["y1"] == 6 * 6895
    gap = used_car(catalog, tariffs, answers, date(2026, 2, 15))
    assert (gap.tariff_version, gap.total, gap.lines) == (None, None, ())
    assert str(gap.note) == (
        "Aucun tarif n'est en vigueur le 15/02/2026 sur cette borne : les frais ne peuvent pas"
        " être estimés."
    )


def test_a_complex_case_is_not_estimated_and_a_sale_declaration_is_free(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    complex_case = estimate(catalog.latest("cas_complexe"), {}, IN_2026, tariffs)
    assert complex_case.total is None
    assert "la préfecture dit ce qu'il y a à payer" in str(complex_case.note)
    assert estimate(catalog.latest("declaration_cession"), {}, IN_2026, tariffs).total == 0
    sold = estimate(catalog.latest("succession"), {"vente_sous_3_mois": True}, IN_2026, tariffs)
    assert sold.total == 0


def test_the_json_gives_cents_and_the_french_amounts(catalog: Catalog, tariffs: TariffBook) -> None:
    data = used_car(catalog, tariffs, car("76600", "7"), IN_2025).to_json()
    assert data["total_centimes"] == 43376
    assert data["total"] == "433,76\u00a0€"
    assert data["lignes"][0]["source"].startswith("https://")
    assert data["tarif"] == "2025-05-01"


def test_amounts_are_written_the_french_way() -> None:
    from kiosk.fees import format_euros

    assert format_euros(123456) == "1\u202f234,56\u00a0€"
    assert format_euros(276) == "2,76\u00a0€"
    assert format_euros(0) == "0,00\u00a0€"
    assert format_euros(7_000_000) == "70\u202f000,00\u00a0€"


def test_an_heir_keeping_the_car_pays_like_a_buyer_once_succession_asks_the_horsepower(
    catalog: Catalog, tariffs: TariffBook
) -> None:
    # succession v2 asks what Y.1 needs (the same questions as changement de titulaire v2): a
    # 7 CV petrol car in Occitanie, kept by the heir, costs what a buyer's carte grise costs.
    answers = car("31000", "7", vente_sous_3_mois=False)
    heir = estimate(catalog.latest("succession"), answers, IN_2026, tariffs)
    assert catalog.latest("succession").version == 2
    assert heir.missing == ()
    assert heir.total == used_car(catalog, tariffs, car("31000", "7"), IN_2026).total
    # A dossier started on v1 says what its version does not ask, as before.
    older = estimate(catalog.get("succession", 1), answers, IN_2026, tariffs)
    assert older.total is None
    # Sold within three months: no new carte grise, nothing to pay.
    sold = estimate(
        catalog.latest("succession"), {**answers, "vente_sous_3_mois": True}, IN_2026, tariffs
    )
    assert sold.total == 0
