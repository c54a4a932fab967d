"""The services of one screen, on a real SQLite store in a temporary folder, with no card reader,
no network and a printer that writes PDF files: enough to test a screen on its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from app.container import build
from app.settings import Settings
from devices.capture import FolderSource
from devices.printing import FolderPrinter
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.mandate import MandateService
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.ports.devices import Printer
from kiosk.security.agents import AgentService
from tests.support import file_dossier, fill
from ui.services import UiServices


@contextmanager
def screen_services(
    folder: Path,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    printer: Printer | None = None,
) -> Iterator[UiServices]:
    """Services on a fresh store in ``folder``; dossiers and mandates dated by ``clock``."""
    container = build(Settings(database=folder / "kiosk.sqlite3", data_dir=folder))
    try:
        store = container.store
        dossiers = DossierService(store, container.catalog, clock=clock)
        yield UiServices(
            catalog=container.catalog,
            dossiers=dossiers,
            receipts=ReceiptService(dossiers, container.counter, training=True),
            agents=AgentService(store),
            printer=printer or FolderPrinter(folder / "recus"),
            attachments=Attachments(store, container.catalog, container.documents),
            mandates=MandateService(store, clock=clock),
            scans=FolderSource(folder / "numerisations"),
            counter=container.counter,
            training=True,
        )
    finally:
        container.close()


def filed_dossier(services: UiServices, demarche_id: str) -> str:
    """A dossier answered in full and filed (« en file d'envoi »), its documents not brought."""
    reference = services.dossiers.create(demarche_id).reference
    fill(services.dossiers, reference, services.catalog.latest(demarche_id))
    file_dossier(services.dossiers, reference)
    return reference
