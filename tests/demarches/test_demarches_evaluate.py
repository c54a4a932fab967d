"""Evaluation on the shipped démarches: what is asked, what is missing, which documents to bring."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.demarches import (
    Catalog,
    Demarche,
    JSONValue,
    applicable_notes,
    bound_values,
    default_demarches_dir,
    effective_answers,
    group_item_count,
    invalid_answers,
    is_complete,
    is_visible,
    load_catalog,
    missing_required,
    remove_group_item,
    required_documents,
    visible_fields,
    visible_steps,
)

IDENTITY: dict[str, JSONValue] = {
    "piece_identite": {"nature": "cni", "numero": "X4RTBPFW4"},
    "nom": "MARTIN",
    "prenoms": "Maëlys Gaëlle Marie",
    "date_naissance": "1990-07-13",
    "lieu_naissance": "Toulouse",
    "adresse": {"ligne": "1 place du Capitole", "code_postal": "31000", "commune": "TOULOUSE"},
    "justificatif_domicile": {"nature": "facture"},
    "mode_contact": "guichet",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(default_demarches_dir())


def kinds(demarche: Demarche, answers: dict[str, JSONValue]) -> list[str]:
    return [doc.kind for doc in required_documents(demarche, answers)]


def note_ids(demarche: Demarche, answers: dict[str, JSONValue]) -> list[str]:
    return [note.id for note in applicable_notes(demarche, answers)]


def test_succession_sold_within_three_months_needs_no_reregistration(catalog: Catalog) -> None:
    succession = catalog.latest("succession")
    base = {**IDENTITY, "plus_de_4_ans": False, "communaute_biens": False}
    sold = kinds(succession, {**base, "vente_sous_3_mois": True})
    kept = kinds(succession, {**base, "vente_sous_3_mois": False})
    assert "cerfa_13750" not in sold
    assert "justificatif_domicile" not in sold
    assert "certificat_cession" in sold
    assert "cerfa_13750" in kept
    assert "certificat_cession" not in kept
    for common in ("preuve_qualite_heritier", "certificat_situation", "carte_grise_defunt"):
        assert common in sold
        assert common in kept
    assert note_ids(succession, {**base, "vente_sous_3_mois": True}) == ["pas_de_reimmatriculation"]


def test_succession_community_of_property_needs_the_livret_de_famille(catalog: Catalog) -> None:
    succession = catalog.latest("succession")
    assert "livret_famille" in kinds(succession, {"communaute_biens": True})
    assert "livret_famille" not in kinds(succession, {"communaute_biens": False})


def test_coheirs_are_a_repeatable_group_with_a_minimum(catalog: Catalog) -> None:
    succession = catalog.latest("succession")
    answers: dict[str, JSONValue] = {"vente_sous_3_mois": False, "autres_heritiers": True}
    issues = {issue.path: issue.message for issue in missing_required(succession, answers)}
    assert "au moins 1" in issues["coheritiers"]
    answers |= {
        "coheritiers[0].coheritier_nom": "MARTIN",
        "coheritiers[0].coheritier_prenoms": "Paul",
        "coheritiers[0].coheritier_role": "desistement",
        "coheritiers[1].coheritier_nom": "MARTIN",
    }
    issues = {issue.path: issue.message for issue in missing_required(succession, answers)}
    assert "coheritiers" not in issues
    assert "coheritiers[1].coheritier_prenoms" in issues
    assert "Cohéritier 2" in issues["coheritiers[1].coheritier_prenoms"]
    assert "coheritiers[0].coheritier_prenoms" not in issues
    # One désistement per co-heir stepping aside, tied to that co-heir.
    desistements = [
        doc.item_path
        for doc in required_documents(succession, answers)
        if doc.kind == "desistement"
    ]
    assert desistements == ["coheritiers[0]"]


def test_no_coheirs_means_no_group_and_no_minimum(catalog: Catalog) -> None:
    succession = catalog.latest("succession")
    answers: dict[str, JSONValue] = {"autres_heritiers": False}
    assert all(issue.path != "coheritiers" for issue in missing_required(succession, answers))
    assert not any(
        path.startswith("coheritiers[") for path, _ in visible_fields(succession, answers)
    )


def test_coheir_role_is_not_asked_when_the_car_is_sold(catalog: Catalog) -> None:
    succession = catalog.latest("succession")
    answers: dict[str, JSONValue] = {
        "vente_sous_3_mois": True,
        "autres_heritiers": True,
        "coheritiers[0].coheritier_nom": "MARTIN",
        "coheritiers[0].coheritier_role": "desistement",  # left over from an earlier answer
    }
    assert not is_visible(succession, answers, "coheritiers[0].coheritier_role")
    assert is_visible(succession, answers, "coheritiers[0].coheritier_nom")
    assert "desistement" not in kinds(succession, answers)


def test_import_documents_differ_between_eu_and_non_eu(catalog: Catalog) -> None:
    imported = catalog.latest("vehicule_importe")
    base: dict[str, JSONValue] = {"preuve_conformite": "coc", "documents_en_francais": True}
    eu = kinds(imported, {**base, "origine": "ue"})
    non_eu = kinds(imported, {**base, "origine": "hors_ue"})
    assert "quitus_fiscal" in eu
    assert "dedouanement_846a" not in eu
    assert "dedouanement_846a" in non_eu
    assert "quitus_fiscal" not in non_eu
    assert "traductions" not in eu
    assert "traductions" in kinds(imported, {**base, "documents_en_francais": False})
    dreal = kinds(imported, {**base, "preuve_conformite": "dreal"})
    assert "reception_dreal" in dreal
    assert "certificat_conformite" not in dreal


def test_theft_requires_the_police_declaration(catalog: Catalog) -> None:
    duplicata = catalog.latest("duplicata_carte_grise")
    assert "declaration_vol" in kinds(duplicata, {"motif": "vol"})
    assert "declaration_vol" not in kinds(duplicata, {"motif": "perte"})
    assert "declaration_perte" in kinds(duplicata, {"motif": "perte"})
    assert "vol" in [step.id for step in visible_steps(duplicata, {"motif": "vol"})]
    assert "vol" not in [step.id for step in visible_steps(duplicata, {"motif": "perte"})]
    assert "vol_a_declarer" in note_ids(duplicata, {"motif": "vol", "vol_declare": False})


def test_changing_theft_to_loss_drops_the_stale_theft_answers(catalog: Catalog) -> None:
    duplicata = catalog.latest("duplicata_carte_grise")
    answers: dict[str, JSONValue] = {"motif": "perte", "vol_declare": False}
    assert "vol_a_declarer" not in note_ids(duplicata, answers)  # vol_declare is hidden now
    assert "vol_declare" not in effective_answers(duplicata, answers)


def test_fni_address_change_announces_a_new_siv_number(catalog: Catalog) -> None:
    move = catalog.latest("changement_adresse")
    fni: dict[str, JSONValue] = {
        "format_immatriculation": "fni",
        "immatriculation_fni": "1234 AB 56",
    }
    siv: dict[str, JSONValue] = {
        "format_immatriculation": "siv",
        "immatriculation_siv": "AB-123-CD",
        "changements_precedents": "moins_de_3",
    }
    assert "nouveau_numero_fni" in note_ids(move, fni)
    assert "nouveau_numero_fni" not in note_ids(move, siv)
    assert "etiquette" in note_ids(move, siv)
    assert "cerfa_13750" in kinds(move, fni)
    assert "cerfa_13750" not in kinds(move, siv)
    assert bound_values(move, fni)["vehicule.immatriculation"] == "1234 AB 56"
    assert bound_values(move, siv)["vehicule.immatriculation"] == "AB-123-CD"


def test_heavy_licence_categories_need_a_medical_opinion(catalog: Catalog) -> None:
    for demarche_id in ("permis_renouvellement", "permis_perte", "permis_vol"):
        demarche = catalog.latest(demarche_id)
        assert "avis_medical" in kinds(demarche, {"categories_lourdes": True})
        assert "avis_medical" not in kinds(demarche, {"categories_lourdes": False})
        assert "ephoto" in kinds(demarche, {})


def test_sms_contact_asks_for_a_mobile_and_other_modes_do_not(catalog: Catalog) -> None:
    demarche = catalog.latest("permis_perte")
    by_sms = {path for path, _ in visible_fields(demarche, {"mode_contact": "telephone"})}
    by_post = {path for path, _ in visible_fields(demarche, {"mode_contact": "courrier"})}
    assert "telephone_portable" in by_sms
    assert "telephone_portable" not in by_post
    missing = [i.path for i in missing_required(demarche, {"mode_contact": "telephone"})]
    assert "telephone_portable" in missing
    assert "email" not in missing  # never required


def test_complete_dossier(catalog: Catalog) -> None:
    demarche = catalog.latest("permis_vol")
    today = date(2024, 5, 15)
    answers: dict[str, JSONValue] = {
        **IDENTITY,
        "date_declaration_vol": "2024-05-20",
        "service_declaration_vol": "Commissariat de Toulouse",
        "categories_lourdes": False,
        "code_ephoto": "AB12CD34EF56GH78IJ90KL",
    }
    assert missing_required(demarche, answers) == []
    # A stored receipt date in the future is caught when answers are re-validated.
    assert [i.path for i in invalid_answers(demarche, answers, today=today)] == [
        "date_declaration_vol"
    ]
    assert not is_complete(demarche, answers, today=today)
    answers["date_declaration_vol"] = "2024-05-12"
    assert is_complete(demarche, answers, today=today)
    # The same receipt is too old three months later: it is only valid for 2 months.
    assert not is_complete(demarche, answers, today=date(2024, 8, 15))
    needed = kinds(demarche, answers)
    assert not is_complete(demarche, answers, provided_documents=needed[:-1], today=today)
    assert is_complete(demarche, answers, provided_documents=needed, today=today)
    del answers["code_ephoto"]
    assert not is_complete(demarche, answers, provided_documents=needed, today=today)


def test_bound_values_project_answers_for_the_service(catalog: Catalog) -> None:
    demarche = catalog.latest("changement_titulaire")
    answers: dict[str, JSONValue] = {
        **IDENTITY,
        "qui_depose": "titulaire",
        "mandataire_nom": "DUPONT",  # stale: the mandataire step is hidden
        "mode_contact": "telephone",
        "telephone_portable": "+33612345678",
    }
    bound = bound_values(demarche, answers)
    assert bound["usager.nom"] == "MARTIN"
    assert bound["contact.mode"] == "telephone"
    assert bound["usager.telephone"] == "+33612345678"
    assert "mandataire.nom" not in bound
    assert "mandat" not in kinds(demarche, answers)
    assert "mandat" in kinds(demarche, {**answers, "qui_depose": "mandataire"})


def test_group_items_are_counted_and_removed_with_renumbering() -> None:
    answers: dict[str, JSONValue] = {
        "autres_heritiers": True,
        "coheritiers[0].coheritier_nom": "A",
        "coheritiers[1].coheritier_nom": "B",
        "coheritiers[2].coheritier_nom": "C",
    }
    assert group_item_count("coheritiers", answers) == 3
    assert group_item_count("coheritiers", {"coheritiers": 2}) == 2  # two items still empty
    after = remove_group_item(answers, "coheritiers", 1)
    assert after == {
        "autres_heritiers": True,
        "coheritiers[0].coheritier_nom": "A",
        "coheritiers[1].coheritier_nom": "C",
    }


def test_manual_route_for_complex_cases(catalog: Catalog) -> None:
    complexe = catalog.latest("cas_complexe")
    assert complexe.routage == "instruction_manuelle"
    answers: dict[str, JSONValue] = {
        "pieces_apportees[0].piece_nature": "Jugement",
        "pieces_apportees[1].piece_nature": "Facture",
    }
    per_item = [
        doc.item_path
        for doc in required_documents(complexe, answers)
        if doc.kind == "piece_apportee"
    ]
    assert per_item == ["pieces_apportees[0]", "pieces_apportees[1]"]
