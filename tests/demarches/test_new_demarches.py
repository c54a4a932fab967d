"""The démarches added for issue 15, each filled through the real service and filed at the counter.

Each test answers what makes its case, lets ``fill`` answer the rest as an agent would, then checks
what the person sees (the documents to bring, the information given, what it costs) and files the
dossier with the mandate signed (real SQLite file, tests/conftest.py). The fees' public sources are
named in the tariff files (assets/tarifs/) and in the definitions' header comments.
"""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.demarches import Catalog, FieldError, applicable_notes
from kiosk.dossiers.fees import DossierFees
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.dossiers.views import DossierView
from kiosk.fees import Estimate, default_tariffs_dir, load_tariffs
from kiosk.store import Store
from tests.support import file_dossier, fill

IN_2026 = date(2026, 12, 4)  # the tariff of 1 April 2026


@pytest.fixture
def service(store: Store, catalog: Catalog) -> DossierService:
    return DossierService(store, catalog)


@pytest.fixture
def fees(store: Store, catalog: Catalog) -> DossierFees:
    return DossierFees(store, catalog, tariffs=load_tariffs(default_tariffs_dir()))


def filled(
    service: DossierService, catalog: Catalog, demarche_id: str, **answers: str
) -> DossierView:
    """A dossier of ``demarche_id`` with ``answers`` given first, then completed by ``fill``."""
    reference = service.create(demarche_id).reference
    for path, raw in answers.items():
        service.answer(reference, path, raw)
    fill(service, reference, catalog.latest(demarche_id))
    view = service.show(reference)
    assert view.complete
    return view


def kinds(view: DossierView) -> set[str]:
    return {d.kind for d in view.documents}


def notes(catalog: Catalog, view: DossierView) -> set[str]:
    demarche = catalog.latest(view.summary.demarche_id)
    return {n.id for n in applicable_notes(demarche, view.answers)}


def cost(fees: DossierFees, view: DossierView) -> Estimate:
    return fees.estimate(view.summary.reference, at=IN_2026)


def files(service: DossierService, view: DossierView) -> bool:
    return file_dossier(service, view.summary.reference).state is DossierState.EN_FILE


def test_adding_the_spouse_after_the_wedding_costs_13_76_and_needs_the_marriage_certificate(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(service, catalog, "cotitulaire", operation="ajout", lien_ajout="conjoint_mariage")
    assert {"acte_mariage", "identite_cotitulaire", "cerfa_13750", "carte_grise"} <= kinds(view)
    assert "certificat_cession" not in kinds(view)
    # No regional-tax questions for the spouse: the step is not shown, nothing is asked.
    assert "puissance_fiscale" not in view.answers
    assert "delai_mariage" in notes(catalog, view)
    # Commentaider.fr: adding one's spouse « ne coûte que 13,76 € » (taxe fixe + acheminement).
    estimate = cost(fees, view)
    assert estimate.total == 1376
    assert "pas de taxe régionale" in str(estimate.note)
    assert files(service, view)


def test_removing_another_co_holder_is_a_change_of_holder_with_the_regional_tax(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(
        service,
        catalog,
        "cotitulaire",
        operation="retrait",
        motif_retrait="autre",
        adresse="1 rue de la Paix | 76600 | Le Havre",
        puissance_fiscale="7",
        date_premiere_immatriculation="01/03/2022",
    )
    assert "certificat_cession" in kinds(view)
    assert "identite_cotitulaire" not in kinds(view)
    assert "changement_titulaire" in notes(catalog, view)
    # As a changement de titulaire: 7 CV × 60 € in Normandie (Le Méridien, January 2025, still
    # the rate in the 2026 tariff) + 11 € + 2,76 €.
    estimate = cost(fees, view)
    assert [(line.code.value, line.amount) for line in estimate.lines][:1] == [("y1", 42000)]
    assert estimate.total == 42000 + 1376
    assert files(service, view)


def test_a_divorce_removal_asks_for_the_decision_and_pays_no_regional_tax(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(service, catalog, "cotitulaire", operation="retrait", motif_retrait="divorce")
    assert "decision_divorce" in kinds(view)
    assert view.answers["preuve_divorce"]["nature"] == "jugement_attribution"
    assert cost(fees, view).total == 1376
    assert files(service, view)


def test_a_name_change_on_the_carte_grise_after_a_wedding(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(
        service,
        catalog,
        "changement_etat_civil",
        motif_changement="mariage",
        format_immatriculation="fni",
        plus_de_4_ans="oui",
    )
    assert {"acte_mariage", "controle_technique", "carte_grise"} <= kinds(view)
    assert "decision_divorce" not in kinds(view)
    assert notes(catalog, view) == {"pas_obligatoire_mariage", "nouveau_numero_fni"}
    # CGI art. 1599 octodecies: a change of civil status pays the fixed tax, plus delivery.
    assert cost(fees, view).total == 1376
    assert files(service, view)


def test_a_transformed_vehicle_brings_its_approval_and_pays_the_fixed_tax(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(
        service,
        catalog,
        "modification_technique",
        nature_transformation="energie",
        attestation_transformation="attestation_installateur",
    )
    assert {"attestation_transformation", "cerfa_13750", "carte_grise"} <= kinds(view)
    assert "delai_un_mois" in notes(catalog, view)
    assert cost(fees, view).total == 1376
    assert files(service, view)


def test_a_damaged_licence_is_replaced_for_free(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(
        service, catalog, "permis_deterioration", encore_lisible="non", categories_lourdes="oui"
    )
    assert {"permis_abime", "ephoto", "avis_medical", "cerfa_14882"} <= kinds(view)
    assert "illisible" in notes(catalog, view)
    # Ornikar: « une démarche administrative totalement gratuite ».
    estimate = cost(fees, view)
    assert (estimate.lines, estimate.total) == ((), 0)
    assert "gratuite" in str(estimate.note)
    assert files(service, view)


def test_a_licence_in_a_new_name_needs_the_proof_and_is_free(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(service, catalog, "permis_etat_civil", motif_changement="divorce")
    assert {"preuve_etat_civil", "permis_actuel", "ephoto"} <= kinds(view)
    assert "avis_medical" not in kinds(view)
    assert cost(fees, view).total == 0
    assert files(service, view)


def test_an_international_permit_needs_the_photo_and_envelope_by_post(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(service, catalog, "permis_international", permis_valide="oui")
    assert {"permis_francais", "photo_identite", "enveloppe"} <= kinds(view)
    assert "permis_non_valable" not in notes(catalog, view)
    assert {"envoi_courrier", "validite"} <= notes(catalog, view)
    assert cost(fees, view).total == 0
    assert files(service, view)


def test_a_departure_date_in_the_past_is_refused(service: DossierService) -> None:
    reference = service.create("permis_international").reference
    with pytest.raises(FieldError):
        service.answer(reference, "date_depart", "01/01/2020")


def test_exchanging_a_licence_from_outside_europe_lists_the_translations_and_the_year_rule(
    service: DossierService, catalog: Catalog, fees: DossierFees
) -> None:
    view = filled(
        service,
        catalog,
        "permis_echange",
        pays_delivrance="Maroc",
        zone_pays="hors_europe",
        accord_echange="oui",
        permis_valide="oui",
        permis_en_francais="non",
        nationalite_pays="non",
        situation_sejour="titre_sejour",
        delai_installation="plus_un_an",
    )
    assert view.routage == "instruction_manuelle"  # the CERT de Nantes studies it
    assert {
        "permis_etranger",
        "traduction_permis",
        "attestation_droits",
        "titre_sejour",
        "preuve_residence_etranger",
        "justificatif_residence_normale",
    } <= kinds(view)
    assert {"delai_depasse", "traduction_a_vos_frais", "instruction_specialisee"} <= notes(
        catalog, view
    )
    estimate = cost(fees, view)
    assert estimate.total == 0
    assert "traduction" in str(estimate.note)
    assert files(service, view)


def test_exchanging_a_european_licence_asks_no_agreement_nor_translation_when_in_french(
    service: DossierService, catalog: Catalog
) -> None:
    view = filled(
        service,
        catalog,
        "permis_echange",
        zone_pays="europe",
        permis_en_francais="oui",
        situation_sejour="europeen",
    )
    assert "accord_echange" not in view.answers
    assert "delai_installation" not in view.answers
    assert not {"traduction_permis", "attestation_droits", "titre_sejour"} & kinds(view)
    assert "europe_pas_obligatoire" in notes(catalog, view)
    assert files(service, view)
