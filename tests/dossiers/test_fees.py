"""The estimate of a dossier by its reference, from its stored answers (real SQLite file)."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.demarches import Catalog
from kiosk.dossiers.errors import DossierNotFound
from kiosk.dossiers.fees import DossierFees
from kiosk.dossiers.service import DossierService
from kiosk.fees import Tax, default_tariffs_dir, load_tariffs
from kiosk.store import Store


def test_a_dossiers_fees_come_from_its_answers_and_say_what_is_missing(
    store: Store, catalog: Catalog, service: DossierService
) -> None:
    fees = DossierFees(store, catalog, tariffs=load_tariffs(default_tariffs_dir()))
    ref = service.create("changement_titulaire").reference
    service.answer(ref, "adresse", "12 rue de la Paix | 76600 | Le Havre")
    service.answer(ref, "genre_vehicule", "voiture")
    service.answer(ref, "energie", "essence")
    service.answer(ref, "date_premiere_immatriculation", "01/03/2022")
    day = date(2025, 6, 2)
    before = fees.estimate(ref.lower().replace("-", " "), at=day)  # typed as an agent types it
    assert before.total is None
    assert [(m.code, m.field) for m in before.missing] == [(Tax.Y1, "puissance_fiscale")]
    service.answer(ref, "puissance_fiscale", "7")
    after = fees.estimate(ref, at=day)
    # Le Méridien (janvier 2025): a 7 CV SUV in Normandie, 420 € of regional tax.
    assert [(line.code, line.amount) for line in after.lines] == [
        (Tax.Y1, 42000),
        (Tax.Y4, 1100),
        (Tax.Y5, 276),
    ]
    assert after.total == 43376
    assert after.tariff_version == "2025-05-01"
    arabic = fees.estimate(ref, at=day, lang="ar")
    assert arabic.lines[0].label.localized("ar") == "الضريبة الجهوية (Y.1)"


def test_an_unknown_reference_is_refused(store: Store, catalog: Catalog) -> None:
    fees = DossierFees(store, catalog, tariffs=load_tariffs(default_tariffs_dir()))
    with pytest.raises(DossierNotFound):
        fees.estimate("PN-0000-0000")
