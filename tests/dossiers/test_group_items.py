"""Items of a repeatable group (a succession's co-heirs) are numbered one way only: ASCII digits
from 0, no sign, no space, no leading zero, below the most items the démarche allows. Any other
index would store a second answer for the same co-heir, or a co-heir that cannot exist."""

from __future__ import annotations

import pytest

from kiosk.demarches import Catalog, parse_path
from kiosk.dossiers.errors import UnknownField
from kiosk.dossiers.service import DossierService

ODD_INDEXES = {
    "١": "n'est pas valide",  # Arabic-Indic one
    "１": "n'est pas valide",  # fullwidth one
    "۱": "n'est pas valide",  # Persian one
    "01": "n'est pas valide",  # the same item as 1, written another way
    "-1": "n'est pas valide",
    "+1": "n'est pas valide",
    " 1": "n'est pas valide",
    "1 ": "n'est pas valide",
    "": "n'est pas valide",
    "1.0": "n'est pas valide",
    "20": "20 au plus, numérotés de 0 à 19",  # succession allows 20 co-heirs: 0 to 19
    "999": "20 au plus",
    "9" * 5000: "20 au plus",  # past the int() digit limit: still one sentence
}


@pytest.mark.parametrize("index", list(ODD_INDEXES))
def test_an_odd_or_out_of_range_item_index_is_refused_and_nothing_is_stored(
    service: DossierService, index: str
) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "autres_heritiers", "oui")
    with pytest.raises(UnknownField, match=ODD_INDEXES[index]) as refused:
        service.answer(ref, f"coheritiers[{index}].coheritier_nom", "DUPONT")
    assert "« Cohéritiers »" in str(refused.value)
    assert set(service.show(ref).answers) == {"autres_heritiers"}


def test_the_refusal_is_translated_for_the_person(service: DossierService) -> None:
    ref = service.create("succession").reference
    with pytest.raises(UnknownField) as refused:
        service.answer(ref, "coheritiers[٣].coheritier_nom", "DUPONT")
    assert "is not valid" in refused.value.localized("en")
    assert "غير صالح" in refused.value.localized("ar")


def test_the_last_allowed_item_and_the_first_are_accepted(service: DossierService) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "coheritiers[0].coheritier_nom", "DUPONT")
    service.answer(ref, "coheritiers[19].coheritier_nom", "MARTIN")
    assert {"coheritiers[0].coheritier_nom", "coheritiers[19].coheritier_nom"} <= set(
        service.show(ref).answers
    )


def test_a_path_with_a_final_newline_is_no_path(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="chemin de réponse invalide"):
        parse_path("coheritiers[1].coheritier_nom\n")
    with pytest.raises(KeyError):
        catalog.latest("succession").field_for_path("nom\n")


@pytest.mark.parametrize("index", [-1, 20])
def test_removing_an_item_that_cannot_exist_removes_nothing(
    service: DossierService, index: int
) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "coheritiers[0].coheritier_nom", "DUPONT")
    with pytest.raises(UnknownField, match="n'a pas d'élément"):
        service.remove_group_item(ref, "coheritiers", index)
    assert service.show(ref).answers["coheritiers[0].coheritier_nom"] == "DUPONT"
