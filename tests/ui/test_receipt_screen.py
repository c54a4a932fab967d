"""The receipt screen in the person's language, and never a file path."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytestqt.qtbot import QtBot

from devices.printing import CupsPrinter
from kiosk.ports.devices import PrintError
from kiosk.receipt import decode_qr_payload
from tests.cups import CupsServer, PdfQueue
from tests.receipt.test_receipt_pdf import tool
from tests.ui.screens import filed_dossier, screen_services
from ui.i18n import Translator
from ui.screens.receipt import ReceiptScreen
from ui.tasks import TaskRunner


def test_the_receipt_reads_in_arabic_then_english_and_names_no_file(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with screen_services(tmp_path) as services:
        reference = filed_dossier(services, "succession")
        runner, tr = TaskRunner(), Translator("ar")
        screen = ReceiptScreen(services.receipt(), runner, tr)
        qtbot.addWidget(screen)
        screen.open(reference)
        qtbot.waitUntil(lambda: runner.idle)
        printed = list((tmp_path / "recus").glob("*.pdf"))
        assert len(printed) == 1  # training mode « prints » into a folder…
        assert screen.status.text() == "تمت طباعة الإيصال."  # …and says it printed, not where
        assert str(tmp_path) not in screen.status.text()

        arabic = services.catalog.latest("succession", lang="ar")
        details = screen.details.text()
        assert arabic.title in details
        assert "تم الإيداع: في انتظار الإرسال إلى الخدمة الوطنية" in details  # the state
        assert "الوثائق التي يجب إحضارها:" in details
        to_bring = {d.label for d in arabic.documents}
        assert any(label in details for label in to_bring)
        assert "Déposé" not in details and "Carte grise" not in details

        tr.set_language("en")
        english = services.catalog.latest("succession", lang="en")
        assert english.title in screen.details.text()
        assert "Submitted: waiting to be sent to the national service" in screen.details.text()
        assert screen.status.text() == "Receipt printed."


class _JammedPrinter:
    """A printer that refuses, naming the folder it could not write to."""

    name = "/var/spool/recus"

    def print_pdf(self, pdf: bytes, *, title: str) -> str:
        raise PrintError("Impossible d'enregistrer le reçu dans /var/spool/recus.")


def test_a_failed_print_is_said_in_the_persons_language_without_the_path(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with screen_services(tmp_path, printer=_JammedPrinter()) as services:
        reference = filed_dossier(services, "cas_complexe")
        runner = TaskRunner()
        screen = ReceiptScreen(services.receipt(), runner, Translator("en"))
        qtbot.addWidget(screen)
        screen.open(reference)
        qtbot.waitUntil(lambda: runner.idle)
        assert screen.status.objectName() == "error"
        assert screen.status.text().startswith("The receipt could not be printed")
        assert "/var/spool" not in screen.status.text()
        assert screen.print_button.isEnabled()  # to try again


def test_a_stopped_cups_queue_is_told_and_the_receipt_prints_once_it_is_started(
    qtbot: QtBot, tmp_path: Path, cups_server: CupsServer, pdf_queue: PdfQueue
) -> None:
    cups_server.run("cupsdisable", pdf_queue.name)
    printer = CupsPrinter(pdf_queue.name, server=cups_server.address)
    with screen_services(tmp_path, printer=printer) as services:
        reference = filed_dossier(services, "succession")
        runner = TaskRunner()
        screen = ReceiptScreen(services.receipt(), runner, Translator("en"))
        qtbot.addWidget(screen)
        screen.open(reference)  # prints once by itself
        qtbot.waitUntil(lambda: runner.idle and screen.print_button.isEnabled())

        assert screen.status.text().startswith("The receipt could not be printed")
        # The agent reads why, in French, over the status (never a traceback).
        assert screen.status.toolTip().startswith(f"L'imprimante « {pdf_queue.name} » est arrêtée")
        assert cups_server.pending(pdf_queue) == []
        assert services.dossiers.show(reference).summary.reference == reference  # kept

        cups_server.run("cupsenable", pdf_queue.name)
        screen.print_button.click()
        qtbot.waitUntil(lambda: runner.idle and screen.print_button.isEnabled())
        assert screen.status.text() == "Receipt printed."
        [printed] = cups_server.wait_printed(pdf_queue)
        # Training mode's receipt comes out of cups-pdf as drawings (its watermark): its QR
        # code, scanned from the printed page, says whose receipt it is.
        subprocess.run(
            [tool("pdftoppm"), "-r", "150", "-png", "-singlefile", printed, tmp_path / "page"],
            check=True,
        )
        scan = subprocess.run(
            [tool("zbarimg"), "--raw", "-q", tmp_path / "page.png"],
            check=True,
            capture_output=True,
            text=True,
        )
        assert decode_qr_payload(scan.stdout)[0] == reference
