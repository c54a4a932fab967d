"""Home: start a démarche from large tiles, or resume a dossier (reference, receipt QR, name).

Each tile carries its démarche's pictogram; the démarches most started at this kiosk come first.

Nothing personal is on this screen until the agent searches; the results are cleared when the
session locks. A receipt's QR code scanned with a handheld scanner arrives as typed text ending
with Enter: it is recognised by its ``PN1-`` prefix and checked against its verification code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QIcon, QShowEvent
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

if TYPE_CHECKING:
    from kiosk.dossiers.receipts import FollowedReceipt
from kiosk.settings.paths import assets_dir
from ui.accessibility import LiveLabel
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import HomeServices
from ui.tasks import TaskRunner
from ui.theme import restyle
from ui.widgets.fields import DATA_HINTS
from ui.widgets.tile import Tile

#: How far back the dossiers started here are counted to put the most used démarches first.
USAGE_WINDOW = timedelta(days=90)


class HomeScreen(Screen):
    """Start or resume."""

    start = Signal(str)  # démarche id
    resume = Signal(str)  # dossier reference
    supervise = Signal()
    follow_up = Signal()  # the worklist of the dossiers to follow after the counter

    def __init__(self, services: HomeServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.grid = QGridLayout()
        self.grid.setSpacing(12)
        self.tiles: dict[str, Tile] = {}
        self._demarches: list[Demarche] = self.services.catalog.current()  # the latest versions
        self._usage: dict[str, int] = {}
        pictograms = assets_dir() / "pictogrammes"
        for demarche in self._demarches:
            # Drawn by Qt's SVG icon engine, at the size of the tile's text.
            icon = (
                QIcon(str(pictograms / f"{demarche.pictogram}.svg")) if demarche.pictogram else None
            )
            tile = Tile(icon)
            tile.set_title(demarche.title, demarche.summary)
            tile.clicked.connect(lambda _=False, d=demarche.id: self.start.emit(d))
            self.tiles[demarche.id] = tile
        self._arrange()
        tiles = QWidget()
        tiles.setLayout(self.grid)
        # The tiles scroll: with the keyboard up on a 800-pixel tablet, the search field and its
        # results keep their room.
        self.tiles_area = self.add_scroll_area()
        self.tiles_area.setWidget(tiles)

        self.resume_label = QLabel()
        self.resume_label.setObjectName("subtitle")
        # The agent's own screens share the line of « Reprendre un dossier »: a row of their
        # own would push the search field under the on-screen keyboard on an 800-pixel screen.
        resume_row = self._agent_buttons()
        resume_row.insertWidget(0, self.resume_label)
        self.layout_.addLayout(resume_row)
        # What can be searched, in sight while typing (it was the field's placeholder: gone
        # with the first letter, and too pale to read).
        self.search_hint = QLabel()
        self.search_hint.setObjectName("muted")
        self.search_hint.setWordWrap(True)
        self.layout_.addWidget(self.search_hint)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search_hint.setBuddy(self.search)
        self.search.setInputMethodHints(DATA_HINTS)  # names, plates, references: Latin
        self.search.returnPressed.connect(self._search)
        row.addWidget(self.search, 1)
        self.search_button = QPushButton()
        self.search_button.setObjectName("primary")
        self.search_button.clicked.connect(self._search)
        row.addWidget(self.search_button)
        self.layout_.addLayout(row)
        self.message = LiveLabel()
        self.message.setWordWrap(True)
        self.layout_.addWidget(self.message)
        self.results = QListWidget()
        QScroller.grabGesture(self.results.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.results.itemClicked.connect(self._open)
        self.results.hide()  # nothing personal on the home screen until the agent searches
        self.layout_.addWidget(self.results, 1)
        self.retranslate()

    def _agent_buttons(self) -> QHBoxLayout:
        """The agent's own screens, at the bottom: the worklist, the supervision."""
        row = QHBoxLayout()
        row.addStretch(1)
        self.follow_up_button = QPushButton()
        self.follow_up_button.clicked.connect(self.follow_up.emit)
        self.follow_up_button.hide()  # offered by MainWindow when the follow-up is set up
        row.addWidget(self.follow_up_button)
        self.supervision_button = QPushButton()
        self.supervision_button.clicked.connect(self.supervise.emit)
        self.supervision_button.hide()  # for supervisors only (MainWindow shows it at sign-in)
        row.addWidget(self.supervision_button)
        return row

    @property
    def tile_order(self) -> list[str]:
        """The démarche ids as the tiles read, row by row (first: the top one at the start side)."""
        placed = []
        for demarche_id, tile in self.tiles.items():
            position = self.grid.getItemPosition(self.grid.indexOf(tile))
            row, column, _, _ = cast("tuple[int, int, int, int]", position)
            placed.append((row, column, demarche_id))
        return [demarche_id for _, _, demarche_id in sorted(placed)]

    def _arrange(self) -> None:
        """Most started here in the last 90 days first, then the definitions' `rang` (a new
        kiosk's order), then the title."""
        last = len(self._demarches) + 1
        order = sorted(
            self._demarches,
            key=lambda d: (
                -self._usage.get(d.id, 0),
                d.rank if d.rank is not None else last,
                d.title.casefold(),
            ),
        )
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        for i, demarche in enumerate(order):
            self.grid.addWidget(self.tiles[demarche.id], i // 2, i % 2)

    def refresh_order(self) -> None:
        """Count the dossiers started per démarche (off the UI thread), then reorder the tiles."""
        since = datetime.now(UTC) - USAGE_WINDOW

        def counted(usage: dict[str, int]) -> None:
            if usage != self._usage:
                self._usage = usage
                self._arrange()

        self.runner.run(lambda: self.services.dossiers.usage_counts(since), on_done=counted)

    def showEvent(self, event: QShowEvent) -> None:
        # Each time the agent comes back to the home screen: the order follows the day's work,
        # but never moves under a finger while the screen is up.
        super().showEvent(event)
        self.refresh_order()

    def take_focus(self) -> None:
        """Put the keyboard focus on the first tile on arrival. Left to Qt, the stack gives it
        back to the search field the agent last typed in, and the on-screen keyboard then comes
        up by itself over the tiles, before anyone has touched the screen."""
        order = self.tile_order
        if order:
            self.tiles[order[0]].setFocus(Qt.FocusReason.OtherFocusReason)

    def show_supervision(self, visible: bool) -> None:
        """Offer the supervision screen (to a signed-in supervisor only)."""
        self.supervision_button.setVisible(visible)

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("home.title"))
        for demarche in self.services.catalog.current(lang=self.tr_.lang):
            tile = self.tiles.get(demarche.id)
            if tile is not None:
                tile.set_title(demarche.title, demarche.summary)
        self.resume_label.setText(self.tr_.t("home.resume"))
        self.search_hint.setText(self.tr_.t("home.resume_hint"))
        self.search.setAccessibleName(self.tr_.t("home.resume_hint"))
        self.search_button.setText(self.tr_.t("home.search"))
        self.supervision_button.setText(self.tr_.t("home.supervision"))
        self.follow_up_button.setText(self.tr_.t("home.follow_up"))

    def _search(self) -> None:
        text = self.search.text().strip()
        if not text:
            return
        restyle(self.message, "")
        self.message.clear()
        if text.upper().startswith("PN1"):
            follow = self.services.follow_receipt
            if follow is None:
                self.runner.run(
                    lambda: self.services.receipts.lookup_qr(text),
                    on_done=lambda summary: self.resume.emit(summary.reference),
                    on_error=self._fail,
                )
            else:  # here, or at the national service when another kiosk filed it
                self.runner.run(
                    lambda: follow.follow(text), on_done=self._followed, on_error=self._fail
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

    def _followed(self, found: DossierSummary | FollowedReceipt) -> None:
        if isinstance(found, DossierSummary):
            self.resume.emit(found.reference)
            return
        # Another kiosk's dossier: its state as the national service tells it, nothing to open.
        lang = self.tr_.lang
        lines = [found.message().localized(lang)] + [m.localized(lang) for m in found.details()]
        self.results.clear()
        self.results.hide()
        self.message.setText("\n".join(self.tr_.line(line) for line in lines))
        # The answer is read below the search field, where the on-screen keyboard would be.
        QGuiApplication.inputMethod().hide()

    def _fail(self, exc: Exception) -> None:
        restyle(self.message, "error")
        self.message.setText(self.tr_.error(exc))
        QGuiApplication.inputMethod().hide()  # the message is where the keyboard would be

    def clear_personal_data(self) -> None:
        self.search.clear()
        self.results.clear()
        self.results.hide()
        self.message.clear()
