"""The agent's worklist: the dossiers that need someone after the counter (sent back « à
compléter », waiting for payment, accepted or refused and not yet told), most urgent first, with
how to reach each person and what was already tried. A need's button narrows the list; a tap
opens the dossier's card, where the next attempt is recorded and a correction starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QScroller

from kiosk.followup.worklist import Need
from kiosk.messages import format_date
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import FollowUpServices
from ui.tasks import TaskRunner
from ui.widgets.followup import contact_text, need_text, told_text
from ui.widgets.tile import WrappingButton

if TYPE_CHECKING:
    from kiosk.followup.letter_desk import Printed
    from kiosk.followup.worklist import WorkItem, Worklist


class FollowUpScreen(Screen):
    """Whom to call, write to or wait for."""

    open_dossier = Signal(str)  # reference
    home = Signal()

    def __init__(self, services: FollowUpServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.need: Need | None = None
        self._worklist: Worklist | None = None
        filters = QHBoxLayout()
        self.filter_buttons: dict[Need | None, QPushButton] = {}
        for need in (None, *Need):
            button = WrappingButton()  # five side by side: they wrap at twice the text size
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, n=need: self.show_need(n))
            self.filter_buttons[need] = button
            filters.addWidget(button)
        self.layout_.addLayout(filters)
        self.message = self.add_label("muted", hide_when_empty=True)
        self.items = QListWidget()
        self.items.setWordWrap(True)
        QScroller.grabGesture(self.items.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.items.itemClicked.connect(self._open)
        self.items.itemActivated.connect(self._open)  # Enter on the keyboard
        self.layout_.addWidget(self.items, 1)
        self._due_letters = 0
        self.letters_message = self.add_label("muted", hide_when_empty=True)
        row = QHBoxLayout()
        self.home_button = QPushButton()
        self.home_button.clicked.connect(self.home.emit)
        self.letters_button = QPushButton()
        self.letters_button.clicked.connect(self.print_letters)
        self.refresh_button = QPushButton()
        self.refresh_button.setObjectName("primary")
        self.refresh_button.clicked.connect(self._ask_for_news)
        row.addWidget(self.home_button)
        row.addStretch(1)
        row.addWidget(self.letters_button)
        row.addWidget(self.refresh_button)
        self.layout_.addLayout(row)
        # Hidden only once in the layout: shown before it has a parent, a button is a window.
        self.letters_button.setVisible(services.letters is not None)
        self.retranslate()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def _ask_for_news(self) -> None:
        """« Actualiser »: the list read again now, and again once the sync has pulled the
        national decisions (the window calls :meth:`refresh` when new ones were applied)."""
        if self.services.sync_refresh is not None:
            self.services.sync_refresh()
        self.refresh()

    def show_need(self, need: Need | None) -> None:
        """List only the dossiers of ``need`` (None: all of them)."""
        self.need = need
        self.refresh()

    def refresh(self) -> None:
        """Read the worklist again (off the UI thread)."""
        need = self.need
        for key, button in self.filter_buttons.items():
            button.setChecked(key is need)

        def shown(worklist: Worklist) -> None:
            if need is self.need:
                self._show(worklist)

        self.runner.run(
            lambda: self.services.followup.worklist(need=need),
            on_done=shown,
            on_error=lambda exc: self.message.setText(self.tr_.error(exc)),
        )
        letters = self.services.letters
        if letters is not None:
            self.runner.run(letters.due, on_done=self._show_due)

    def _show_due(self, count: int) -> None:
        self._due_letters = count
        self.letters_button.setText(self.tr_.t("followup.print_day", count=count))
        self.letters_button.setEnabled(count > 0)

    def print_letters(self) -> None:
        """Print the day's letters on the counter's printer (off the UI thread)."""
        letters, agent_id = self.services.letters, self.agent_id
        if letters is None:
            return
        self.letters_button.setEnabled(False)

        def printed(result: Printed) -> None:
            t = self.tr_.t
            lines = [t("followup.day_printed", count=len(result.references))]
            lines += result.not_made  # the agent's language is French: said as written
            self.letters_message.setObjectName("saved" if not result.not_made else "error")
            self.letters_message.setText("\n".join(lines))
            self.refresh()

        def failed(exc: Exception) -> None:
            self.letters_message.setObjectName("error")
            self.letters_message.setText(self.tr_.error(exc))
            self.letters_button.setEnabled(self._due_letters > 0)

        self.runner.run(
            lambda: letters.print_due(agent_id=agent_id), on_done=printed, on_error=failed
        )

    def _show(self, worklist: Worklist) -> None:
        self._worklist = worklist
        self._label_filters()
        self.items.clear()
        for item in worklist.items:
            row = QListWidgetItem(self._row_text(item))
            row.setData(Qt.ItemDataRole.UserRole, item.reference)
            self.items.addItem(row)
        shown = len(worklist.items)
        total = worklist.counts.get(self.need, 0) if self.need else worklist.total
        if not shown:
            self.message.setText(self.tr_.t("followup.empty"))
        elif shown < total:
            self.message.setText(self.tr_.t("followup.more", shown=shown, total=total))
        else:
            self.message.clear()

    def _row_text(self, item: WorkItem) -> str:
        tr = self.tr_
        head = f"{item.reference} · {tr.data(item.usager or tr.t('followup.unnamed'))}"
        second = f"{need_text(item, tr)} · {item.demarche_title}"
        if item.deadline is not None:
            second += " · " + tr.t("followup.deadline", date=format_date(item.deadline, tr.lang))
        third = f"{contact_text(item, tr)} · {told_text(item, tr)}"
        return "\n".join(tr.line(line) for line in (head, second, third))

    def _label_filters(self) -> None:
        counts = self._worklist.counts if self._worklist is not None else {}
        t = self.tr_.t
        for need, button in self.filter_buttons.items():
            if need is None:
                button.setText(t("followup.filter.all", count=sum(counts.values())))
            else:
                button.setText(t(f"followup.filter.{need.value}", count=counts.get(need, 0)))

    def _open(self, row: QListWidgetItem) -> None:
        self.open_dossier.emit(str(row.data(Qt.ItemDataRole.UserRole)))

    def retranslate(self) -> None:
        t = self.tr_.t
        self.title.setText(t("followup.screen_title"))
        self.home_button.setText(t("card.home"))
        self.refresh_button.setText(t("followup.refresh"))
        self.letters_button.setText(t("followup.print_day", count=self._due_letters))
        self._label_filters()
        if self._worklist is not None:
            self._show(self._worklist)

    def clear_personal_data(self) -> None:
        self.letters_message.clear()
        self._worklist = None
        self.items.clear()
        self.message.clear()
