"""What the screens are given by the composition root: services, never the store itself."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.agents import AgentService
from kiosk.demarches import Catalog
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.ports import Printer


@dataclass(frozen=True)
class UiServices:
    """Everything a screen may call (through the task runner, off the UI thread)."""

    catalog: Catalog
    dossiers: DossierService
    receipts: ReceiptService
    agents: AgentService
    printer: Printer
    training: bool = False
