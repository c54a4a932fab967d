"""The receipt prints the fees kept at filing: each line, the tariff's date, the total, and that
the national service's amount is the one due (the PDF's own text, read back with pypdf)."""

from __future__ import annotations

from pathlib import Path

from kiosk.demarches import Catalog
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.receipt import Contact, ContactMode, FeeRow, ReceiptFees
from kiosk.site.counter import CounterSettings
from kiosk.store import Store
from tests.receipt.test_receipt_pdf import (
    LONG,
    assert_laid_out_cleanly,
    page_text,
    succession,
    write,
)
from tests.support import file_dossier, fill


def test_the_receipt_prints_each_fee_the_tariff_date_the_total_and_who_says_the_amount(
    store: Store, catalog: Catalog, service: DossierService, tmp_path: Path
) -> None:
    reference = service.create("changement_titulaire").reference
    fill(service, reference, catalog.latest("changement_titulaire"))
    file_dossier(service, reference)
    receipts = ReceiptService(service, CounterSettings(store))
    pdf = tmp_path / "recu.pdf"
    pdf.write_bytes(receipts.render(reference))
    text = page_text(pdf)
    lines = text.splitlines()
    section = lines[lines.index("Frais estimés") + 1 :][:11]
    assert section == [
        "Taxe régionale (Y.1)",
        "420,00 €",
        "7 CV × 60,00 € (Bretagne)",
        "Taxe fixe (Y.4)",
        "11,00 €",
        "montant fixe, quelle que soit la région",
        "Redevance d'acheminement (Y.5)",
        "2,76 €",
        "envoi du certificat à domicile",
        "Total",
        "433,76 €",
    ]
    assert "Estimation faite au dépôt avec le tarif en vigueur du 05/12/2026." in text
    assert (
        "C'est une estimation : le montant à payer est celui que donnera le service national."
        in text
    )
    assert "Montant dû selon le service national" not in text  # not said yet

    service.acknowledge(reference, national_number="NAT-00000003", amount_due_cents=45000)
    pdf.write_bytes(receipts.render(reference))  # a reprint says it
    assert "Montant dû selon le service national : 450,00 €." in page_text(pdf)


def test_a_fee_that_could_not_be_computed_is_printed_as_missing_without_a_total(
    tmp_path: Path,
) -> None:
    fees = ReceiptFees(
        rows=(
            FeeRow("Taxe fixe (Y.4)", "11,00\u00a0€", "montant fixe, quelle que soit la région"),
        ),
        tariff_day="01/04/2026",
        total=None,
        missing=(
            "Cette version de la démarche ne demande pas la puissance fiscale (case P.6 de la"
            " carte grise) : Taxe régionale (Y.1) ne peut pas être estimée ici.",
        ),
    )
    data = succession(fees=fees)
    text = page_text(write(tmp_path, data))
    assert "Manque pour calculer :" in text
    assert "ne demande pas la puissance fiscale" in text
    assert "Total pas encore calculable." in text
    assert "Total\n" not in text
    assert_laid_out_cleanly(data, tmp_path)


def test_the_fees_never_push_the_receipt_onto_a_second_page(tmp_path: Path) -> None:
    # The most an estimate holds: the five carte-grise taxes, a reason, two missing inputs, the
    # amount due; on a receipt already full (long lists, a postal address, the training banner).
    fees = ReceiptFees(
        rows=tuple(FeeRow(LONG, "99\u202f999,99\u00a0€", LONG) for _ in range(5)),
        tariff_day="01/04/2026",
        total="499\u202f999,95\u00a0€",
        missing=(LONG,) * 2,
        note=LONG,
        amount_due="1,00\u00a0€",
    )
    data = succession(
        fees=fees,
        filed=tuple((LONG, LONG) for _ in range(20)),
        missing_documents=(LONG,) * 10,
        contact=Contact(ContactMode.COURRIER, adresse=(LONG,) * 4),
        training=True,
    )
    text = page_text(write(tmp_path, data))  # asserts one page
    assert "Frais estimés" in text and "PN-7K3M-Q9TX" in text
    assert_laid_out_cleanly(data, tmp_path)
