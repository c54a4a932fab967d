"""A dossier keeps the estimate it was filed with; a tariff published later never changes it.

Real SQLite file; the tariffs are the shipped ones, then the shipped ones plus a newer file
(tests/fees/support.py), as an update would install it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.fees import Tax, default_tariffs_dir, load_tariffs
from kiosk.store import Store
from tests.fees.support import with_newer_tariff
from tests.support import file_dossier, fill

FILED = datetime(2027, 6, 1, 8, 30, tzinfo=UTC)
LATER = datetime(2027, 8, 2, 9, 0, tzinfo=UTC)
NEWER = date(2027, 7, 1)


def _filed(store: Store, catalog: Catalog) -> str:
    service = DossierService(
        store, catalog, clock=lambda: FILED, tariffs=load_tariffs(default_tariffs_dir())
    )
    reference = service.create("changement_titulaire").reference
    fill(service, reference, catalog.latest("changement_titulaire"))
    file_dossier(service, reference)
    return reference


def test_a_filed_dossier_shows_its_kept_estimate_not_one_with_a_newer_tariff(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    reference = _filed(store, catalog)
    newer = with_newer_tariff(tmp_path / "tarifs", NEWER, fixed_tax=1500)
    later = DossierService(store, catalog, clock=lambda: LATER, tariffs=newer)
    # The newer tariff is in force now: computed today, the taxe fixe is 15 €.
    today = later.estimate(reference)
    assert today.tariff_version == "2027-07-01"
    assert next(line.amount for line in today.lines if line.code is Tax.Y4) == 1500

    fees = later.fees(reference)
    assert fees.kept and fees.kept_at == FILED
    assert fees.estimate.tariff_version == "2026-12-05"
    assert fees.estimate.at == date(2027, 6, 1)
    assert [(line.code, line.amount) for line in fees.estimate.lines] == [
        (Tax.Y1, 42000),  # 7 CV × 60 € (Bretagne: the sample address is in Vannes)
        (Tax.Y4, 1100),
        (Tax.Y5, 276),
    ]
    assert fees.estimate.total == 43376
    # Kept as templates: the same lines read in the person's language.
    y1 = fees.estimate.lines[0]
    assert y1.label.localized("ar") == "الضريبة الجهوية (Y.1)"
    assert y1.basis_text("en") == "7 CV × €60.00 (Bretagne)"
    assert fees.amount_due is None and not fees.differs


def test_before_filing_the_estimate_follows_the_tariff_of_the_day(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    newer = with_newer_tariff(tmp_path / "tarifs", NEWER, fixed_tax=1500)
    service = DossierService(store, catalog, clock=lambda: LATER, tariffs=newer)
    reference = service.create("changement_titulaire").reference
    fill(service, reference, catalog.latest("changement_titulaire"))
    fees = service.fees(reference)
    assert not fees.kept
    assert fees.estimate.tariff_version == "2027-07-01" and fees.estimate.total == 43776


def test_a_dossier_sent_back_keeps_the_tariff_of_its_first_filing(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    reference = _filed(store, catalog)
    newer = with_newer_tariff(tmp_path / "tarifs", NEWER, fixed_tax=1500)
    later = DossierService(store, catalog, clock=lambda: LATER, tariffs=newer)
    later.transition(reference, DossierState.A_COMPLETER, reason="Pièce illisible.")
    later.answer(reference, "puissance_fiscale", "5")  # corrected at the counter
    before = later.fees(reference)
    assert not before.kept
    assert before.estimate.tariff_version == "2026-12-05" and before.estimate.total == 31376
    file_dossier(later, reference)
    again = later.fees(reference)
    assert again.kept and again.kept_at == LATER
    assert again.estimate.tariff_version == "2026-12-05" and again.estimate.total == 31376


def test_the_acknowledgement_keeps_the_amount_due_and_a_difference_shows(
    store: Store, catalog: Catalog
) -> None:
    reference = _filed(store, catalog)
    service = DossierService(store, catalog, clock=lambda: LATER)
    service.acknowledge(reference, national_number="NAT-00000001", amount_due_cents=43776)
    fees = service.fees(reference)
    assert service.show(reference).summary.state is DossierState.TRANSMIS
    assert fees.amount_due == 43776 and fees.amount_due_at == LATER
    assert fees.estimate.total == 43376 and fees.differs
