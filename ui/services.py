"""What the screens are given by the composition root: services, never the store itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for the types only: the window must paint before these load
    from kiosk.demarches import Catalog
    from kiosk.dossiers.attachments import Attachments
    from kiosk.dossiers.mandate import MandateService
    from kiosk.dossiers.receipts import ReceiptService
    from kiosk.dossiers.service import DossierService
    from kiosk.ports.devices import Camera, ConnectionBadge, Printer, ScanSource
    from kiosk.ports.identity import IdentityReader
    from kiosk.security.agents import AgentService
    from kiosk.security.audit import AuditLog
    from kiosk.security.retention import RetentionService
    from kiosk.site.counter import CounterSettings


@dataclass(frozen=True)
class UiServices:
    """Everything a screen may call (through the task runner, off the UI thread)."""

    catalog: Catalog
    dossiers: DossierService
    receipts: ReceiptService
    agents: AgentService
    printer: Printer
    attachments: Attachments
    mandates: MandateService
    scans: ScanSource
    counter: CounterSettings
    identity: IdentityReader | None = None
    #: The camera that photographs documents (None: none configured, the scanner only).
    camera: Camera | None = None
    training: bool = False
    #: The CAN of the simulated card on the reader, in training mode.
    training_can: str | None = None
    #: ``subscribe(callback)``: ``callback(badge)`` is then called, from the sync thread, on
    #: every change of connection state or queue size (None: no sync configured).
    sync_subscribe: Callable[[Callable[[ConnectionBadge], None]], None] | None = None
    #: Ask the sync worker to send now (after a dossier is filed).
    sync_wake: Callable[[], None] | None = None
    #: The audit journal and the retention purge, for the supervision screen.
    audit: AuditLog | None = None
    retention: RetentionService | None = None
