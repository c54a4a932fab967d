"""Builds the services one kiosk process uses, from resolved paths (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Paths
from kiosk.demarches import Catalog, load_catalog
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.settings import CounterSettings
from kiosk.store import Store, open_store


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
