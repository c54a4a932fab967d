"""Builds the services one kiosk process uses, from resolved paths (the composition root)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from devices.capture import FolderSource, write_sample_scans
from devices.printing import CupsPrinter, FolderPrinter
from kiosk.agents import AgentService
from kiosk.config import Paths
from kiosk.demarches import Catalog, load_catalog
from kiosk.documents import Attachments, DocumentStore
from kiosk.dossiers.mandate import MandateService
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.ports import Printer
from kiosk.settings import CounterSettings
from kiosk.store import Store, open_store
from ui.services import UiServices


@dataclass
class Container:
    """The open store and the services built on it; close it when the process ends."""

    paths: Paths
    store: Store
    catalog: Catalog
    dossiers: DossierService
    counter: CounterSettings
    receipts: ReceiptService

    def close(self) -> None:
        """Release the database."""
        self.store.close()


def build_ui(
    *, database: Path | None = None, data_dir: Path | None = None, training: bool = False
) -> tuple[UiServices, Container]:
    """Everything the touchscreen application needs.

    Training mode (``--demo``) works in its own data folder, so that practice dossiers never mix
    with real ones, creates a "formation" agent (PIN 0000) if there is none, and "prints" receipts
    into a folder.
    """
    paths = Paths.resolve(database=database, data_dir=data_dir)
    if training:
        folder = paths.data_dir / "formation"
        container = build(database=folder / "kiosk.sqlite3", data_dir=folder, training=True)
    else:
        container = build(database=database, data_dir=data_dir)
    agents = AgentService(container.store)
    if training and not agents.list():
        agents.add("formation", "Agent de formation", "0000")
    printer: Printer
    if training:
        printer = FolderPrinter(container.paths.data_dir / "recus")
    else:
        printer = CupsPrinter(os.environ.get("PN_KIOSK_PRINTER") or None)
    documents = DocumentStore(container.paths.data_dir / "documents")
    scan_dir = os.environ.get("PN_KIOSK_SCAN_DIR")
    scans = FolderSource(Path(scan_dir) if scan_dir else container.paths.data_dir / "numerisations")
    if training:
        write_sample_scans(scans.folder)
    services = UiServices(
        catalog=container.catalog,
        dossiers=container.dossiers,
        receipts=container.receipts,
        agents=agents,
        printer=printer,
        attachments=Attachments(container.dossiers, documents, container.store),
        mandates=MandateService(container.store),
        scans=scans,
        counter=container.counter,
        training=training,
    )
    return services, container


def build(
    *, database: Path | None = None, data_dir: Path | None = None, training: bool = False
) -> Container:
    """Open the store (migrating it) and load the procedure catalogue."""
    paths = Paths.resolve(database=database, data_dir=data_dir)
    catalog = load_catalog(paths.demarches_dir)
    store = open_store(paths.database)
    dossiers = DossierService(store, catalog)
    counter = CounterSettings(store)
    receipts = ReceiptService(dossiers, counter, training=training)
    return Container(
        paths=paths,
        store=store,
        catalog=catalog,
        dossiers=dossiers,
        counter=counter,
        receipts=receipts,
    )
