"""The receipt printed through a real CUPS server (tests/cups.py) onto a virtual PDF printer,
and what the agent is told when the print server or its queue cannot print: never a
traceback, and nothing queued that would come out later unasked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from devices.printing import CupsPrinter
from kiosk.demarches import Catalog
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.ports.devices import PrintError
from kiosk.site.counter import CounterSettings
from kiosk.store import Store
from tests.cups import CupsServer, PdfQueue, free_port
from tests.support import file_dossier, fill


def _receipt(store: Store, catalog: Catalog, service: DossierService) -> tuple[str, bytes]:
    reference = service.create("succession").reference
    fill(service, reference, catalog.latest("succession"))
    file_dossier(service, reference)
    return reference, ReceiptService(service, CounterSettings(store)).render(reference)


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_receipt_comes_out_of_the_cups_pdf_printer_with_its_reference(
    store: Store,
    catalog: Catalog,
    service: DossierService,
    cups_server: CupsServer,
    pdf_queue: PdfQueue,
) -> None:
    reference, pdf = _receipt(store, catalog, service)
    # Through the server's own socket: the setting's other form (host:port below).
    printer = CupsPrinter(pdf_queue.name, server=cups_server.socket_path)

    confirmation = printer.print_pdf(pdf, title=reference)

    assert confirmation == f"Reçu envoyé à l'imprimante ({pdf_queue.name})."
    [printed] = cups_server.wait_printed(pdf_queue)
    text = _text(printed)
    assert reference in text
    # (The accented letters do not survive cups-pdf's PostScript round trip as text.)
    assert "POINT NUM" in text and "de dossier" in text
    assert len(PdfReader(printed).pages) == len(PdfReader(io.BytesIO(pdf)).pages)


def test_a_stopped_queue_is_refused_at_once_and_keeps_nothing_for_later(
    store: Store,
    catalog: Catalog,
    service: DossierService,
    cups_server: CupsServer,
    pdf_queue: PdfQueue,
) -> None:
    reference, pdf = _receipt(store, catalog, service)
    cups_server.run("cupsdisable", pdf_queue.name)  # as CUPS does when the printer jams
    printer = CupsPrinter(pdf_queue.name, server=cups_server.address)

    with pytest.raises(PrintError) as refused:
        printer.print_pdf(pdf, title=reference)

    assert str(refused.value).startswith(f"L'imprimante « {pdf_queue.name} » est arrêtée")
    assert "imprimez de nouveau" in str(refused.value)
    assert cups_server.pending(pdf_queue) == []  # no receipt waiting to come out unasked
    # Started again, the same receipt prints (the screen's « Imprimer » again).
    cups_server.run("cupsenable", pdf_queue.name)
    printer.print_pdf(pdf, title=reference)
    [printed] = cups_server.wait_printed(pdf_queue)
    assert reference in _text(printed)


def test_a_queue_refusing_jobs_an_unknown_queue_and_no_default_say_so(
    cups_server: CupsServer, pdf_queue: PdfQueue
) -> None:
    pdf = b"%PDF-1.4 not printed"
    cups_server.run("cupsreject", pdf_queue.name)
    with pytest.raises(PrintError) as rejecting:
        CupsPrinter(pdf_queue.name, server=cups_server.address).print_pdf(pdf, title="x")
    with pytest.raises(PrintError) as unknown:
        CupsPrinter("Accueil_Etage_3", server=cups_server.address).print_pdf(pdf, title="x")
    with pytest.raises(PrintError) as no_default:  # the server has no default queue
        CupsPrinter(None, server=cups_server.address).print_pdf(pdf, title="x")

    assert str(rejecting.value).startswith(
        f"L'imprimante « {pdf_queue.name} » refuse les impressions pour le moment"
    )
    assert str(unknown.value) == (
        "L'imprimante « Accueil_Etage_3 » n'existe pas sur le service d'impression : vérifiez"
        " son nom (réglage peripheriques.imprimante)."
    )
    assert str(no_default.value).startswith("Aucune imprimante par défaut n'est définie")
    assert pdf_queue.pdfs() == []


@pytest.mark.parametrize("kind", ["port", "socket"])
def test_a_print_server_that_does_not_answer_is_named_not_taken_for_a_missing_queue(
    kind: str, cups_server: CupsServer, pdf_queue: PdfQueue
) -> None:
    # Nobody listens there: the site's print server switched off.
    down = f"127.0.0.1:{free_port()}" if kind == "port" else str(cups_server.folder / "gone.sock")
    with pytest.raises(PrintError) as caught:
        CupsPrinter(pdf_queue.name, server=down).print_pdf(b"%PDF-1.4", title="x")
    assert str(caught.value) == (
        f"Le service d'impression ({down}) ne répond pas : vérifiez que le serveur"
        " d'impression est allumé et relié au réseau, puis imprimez de nouveau."
    )
