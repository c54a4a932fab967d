"""Home: start a démarche from large tiles, or resume a dossier (reference, receipt QR, name).

Nothing personal is on this screen until the agent searches; the results are cleared when the
session locks. A receipt's QR code scanned with a handheld scanner arrives as typed text ending
with Enter: it is recognised by its ``PN1-`` prefix and checked against its verification code.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScroller,
    QWidget,
)

from kiosk.demarches import Demarche
from kiosk.dossiers.views import DossierSummary
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import HomeServices
from ui.tasks import TaskRunner
from ui.widgets.fields import DATA_HINTS


class HomeScreen(Screen):
    """Start or resume."""

    start = Signal(str)  # démarche id
    resume = Signal(str)  # dossier reference
    supervise = Signal()

    def __init__(self, services: HomeServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        grid = QGridLayout()
        grid.setSpacing(12)
        self.tiles: dict[str, QPushButton] = {}
        demarches: list[Demarche] = sorted(
            {d.id: d for d in self.services.catalog.all()}.values(), key=lambda d: d.title
        )
        for i, demarche in enumerate(demarches):
            tile = QPushButton(demarche.title)
            tile.setObjectName("tile")
            tile.setAccessibleName(demarche.title)
            tile.setToolTip(demarche.summary)
            tile.clicked.connect(lambda _=False, d=demarche.id: self.start.emit(d))
            grid.addWidget(tile, i // 2, i % 2)
            self.tiles[demarche.id] = tile
        tiles = QWidget()
        tiles.setLayout(grid)
        # The tiles scroll: with the keyboard up on a 800-pixel tablet, the search field and its
        # results keep their room.
        self.tiles_area = self.add_scroll_area()
        self.tiles_area.setWidget(tiles)

        self.resume_label = QLabel()
        self.resume_label.setObjectName("subtitle")
        self.layout_.addWidget(self.resume_label)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setInputMethodHints(DATA_HINTS)  # names, plates, references: Latin
        self.search.returnPressed.connect(self._search)
        row.addWidget(self.search, 1)
        self.search_button = QPushButton()
        self.search_button.setObjectName("primary")
        self.search_button.clicked.connect(self._search)
        row.addWidget(self.search_button)
        self.layout_.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.layout_.addWidget(self.message)
        self.results = QListWidget()
        QScroller.grabGesture(self.results.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.results.itemClicked.connect(self._open)
        self.results.hide()  # nothing personal on the home screen until the agent searches
        self.layout_.addWidget(self.results, 1)
        self.supervision_button = QPushButton()
        self.supervision_button.clicked.connect(self.supervise.emit)
        self.supervision_button.hide()  # for supervisors only (MainWindow shows it at sign-in)
        self.layout_.addWidget(self.supervision_button, alignment=Qt.AlignmentFlag.AlignRight)
        self.retranslate()

    def show_supervision(self, visible: bool) -> None:
        """Offer the supervision screen (to a signed-in supervisor only)."""
        self.supervision_button.setVisible(visible)

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("home.title"))
        for demarche in self.services.catalog.current(lang=self.tr_.lang):
            tile = self.tiles.get(demarche.id)
            if tile is not None:
                tile.setText(demarche.title)
                tile.setAccessibleName(demarche.title)
                tile.setToolTip(demarche.summary)
        self.resume_label.setText(self.tr_.t("home.resume"))
        self.search.setPlaceholderText(self.tr_.t("home.resume_hint"))
        self.search.setAccessibleName(self.tr_.t("home.resume_hint"))
        self.search_button.setText(self.tr_.t("home.search"))
        self.supervision_button.setText(self.tr_.t("home.supervision"))

    def _search(self) -> None:
        text = self.search.text().strip()
        if not text:
            return
        self.message.setObjectName("")
        self.message.clear()
        if text.upper().startswith("PN1"):
            self.runner.run(
                lambda: self.services.receipts.lookup_qr(text),
                on_done=lambda summary: self.resume.emit(summary.reference),
                on_error=self._fail,
            )
            return
        self.runner.run(
            lambda: self.services.dossiers.list(search=text, limit=30),
            on_done=self._show_results,
            on_error=self._fail,
        )

    def _show_results(self, rows: list[DossierSummary]) -> None:
        self.results.clear()
        if not rows:
            self.message.setText(self.tr_.t("home.no_result"))
        if len(rows) == 1 and rows[0].reference.replace(
            "-", ""
        ) in self.search.text().upper().replace("-", "").replace(" ", ""):
            self.resume.emit(rows[0].reference)  # an exact reference opens at once
            return
        self.results.setVisible(bool(rows))
        for row in rows:
            text = f"{row.reference}   {row.demarche_title}   {row.state.label}"
            if row.usager:
                text += f"   {row.usager}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row.reference)
            self.results.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        self.resume.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def _fail(self, exc: Exception) -> None:
        self.message.setObjectName("error")
        self.message.style().polish(self.message)
        self.message.setText(str(exc))

    def clear_personal_data(self) -> None:
        self.search.clear()
        self.results.clear()
        self.results.hide()
        self.message.clear()
