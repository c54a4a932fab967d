"""The « Payer sans carte bancaire » block: printed once the national service has asked for a
payment and given its reference, so that anyone can pay from a phone (the QR code) or at an
approved tobacconist's; one page always; both QR codes scan (pdftoppm + zbarimg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kiosk.receipt import Contact, ContactMode, ReceiptPayment
from tests.receipt.test_receipt_pdf import (
    LONG,
    assert_laid_out_cleanly,
    page_text,
    succession,
    tool,
    write,
)

URL = "https://paiement.service-national.example/p/PAY-7K3M-Q9TX-2026"
PAYMENT = ReceiptPayment(
    amount="433,76\u00a0€", amount_cents=43376, reference="PAY-7K3M-Q9TX-2026", url=URL
)


def _scanned(pdf: Path, tmp_path: Path) -> set[str]:
    subprocess.run(
        [tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    scan = subprocess.run(
        [tool("zbarimg"), "--raw", "-q", str(tmp_path / "page.png")],
        check=True,
        capture_output=True,
        text=True,
    )
    return {line for line in scan.stdout.splitlines() if line}


def test_the_payment_reference_amount_and_where_to_pay_are_printed_and_its_code_scans(
    tmp_path: Path,
) -> None:
    pdf = write(tmp_path, succession(payment=PAYMENT))
    text = " ".join(page_text(pdf).split())
    assert "Payer sans carte bancaire" in text
    assert "PAY-7K3M-Q9TX-2026" in text and "433,76" in text
    assert "buraliste" in text and "300 €" in text and "téléphone" in text
    assert URL in _scanned(pdf, tmp_path)  # the phone's code, beside the counter's own


def test_above_the_cash_limit_the_tobacconist_takes_a_card_only(tmp_path: Path) -> None:
    big = ReceiptPayment(
        amount="1\u202f200,00\u00a0€", amount_cents=120000, reference="R1", url=URL
    )
    text = " ".join(page_text(write(tmp_path, succession(payment=big))).split())
    assert "par carte (plus de 300 €, pas en espèces)" in text


def test_no_payment_asked_no_block(tmp_path: Path) -> None:
    assert "Payer sans carte bancaire" not in page_text(write(tmp_path, succession()))


def test_the_payment_block_never_pushes_a_full_receipt_onto_a_second_page(tmp_path: Path) -> None:
    data = succession(
        payment=PAYMENT,
        filed=tuple((LONG, LONG) for _ in range(20)),
        missing_documents=(LONG,) * 10,
        contact=Contact(ContactMode.COURRIER, adresse=(LONG,) * 4),
        training=True,
    )
    text = page_text(write(tmp_path, data))  # asserts one page
    assert "Payer sans carte bancaire" in text and "PN-7K3M-Q9TX" in text
    assert_laid_out_cleanly(data, tmp_path)
