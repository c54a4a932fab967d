"""The services of one screen, on a real SQLite store in a temporary folder, with no card reader,
no network and a printer that writes PDF files: enough to test a screen on its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.container import build
from app.settings import Settings
from devices.capture import FolderSource
from devices.printing import FolderPrinter
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.mandate import MandateService
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.followup.letter_desk import LetterDesk
from kiosk.followup.letters import LetterService
from kiosk.followup.worklist import FollowUpService
from kiosk.ports.devices import Printer, Scanner
from kiosk.security.agents import AgentService
from tests.support import file_dossier, fill
from ui.i18n import Translator
from ui.screens.dossier import DossierCardScreen
from ui.services import UiServices
from ui.tasks import TaskRunner
from ui.theme import Look, load_fonts, stylesheet


@contextmanager
def screen_services(
    folder: Path,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    printer: Printer | None = None,
    scanner: Scanner | None = None,
) -> Iterator[UiServices]:
    """Services on a fresh store in ``folder``; dossiers and mandates dated by ``clock``;
    ``scanner``: a SANE scanner behind « Numériser » (none by default)."""
    container = build(Settings(database=folder / "kiosk.sqlite3", data_dir=folder))
    try:
        store = container.store
        dossiers = DossierService(store, container.catalog, clock=clock)
        printing = printer or FolderPrinter(folder / "recus")
        letters = LetterService(
            store, container.catalog, dossiers, container.counter, clock=clock, training=True
        )
        yield UiServices(
            catalog=container.catalog,
            dossiers=dossiers,
            receipts=ReceiptService(dossiers, container.counter, training=True),
            agents=AgentService(store),
            printer=printing,
            attachments=Attachments(store, container.catalog, container.documents),
            mandates=MandateService(store, clock=clock),
            scans=FolderSource(folder / "numerisations"),
            scanner=scanner,
            counter=container.counter,
            training=True,
            followup=FollowUpService(store, container.catalog, clock=clock),
            letters=LetterDesk(letters, printing),
        )
    finally:
        container.close()


def filed_dossier(services: UiServices, demarche_id: str) -> str:
    """A dossier answered in full and filed (« en file d'envoi »), its documents not brought."""
    reference = services.dossiers.create(demarche_id).reference
    fill(services.dossiers, reference, services.catalog.latest(demarche_id))
    file_dossier(services.dossiers, reference)
    return reference


def show_screen(qtbot: QtBot, screen: QWidget, lang: str) -> None:
    """Show a screen alone as the window shows it: 1280×800, the kiosk's style, right to left
    in Arabic."""
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.setStyleSheet(stylesheet(Look(), load_fonts()))
    if lang == "ar":
        screen.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    screen.show()


def card_screen(qtbot: QtBot, services: UiServices, lang: str, reference: str) -> DossierCardScreen:
    """The dossier card of ``reference`` in ``lang``, opened and loaded."""
    runner = TaskRunner()
    screen = DossierCardScreen(services.card(), runner, Translator(lang))
    show_screen(qtbot, screen, lang)
    screen.open(reference)
    qtbot.waitUntil(lambda: runner.idle and screen.current is not None)
    return screen
