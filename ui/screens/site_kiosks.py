"""Supervision « Bornes du site »: every kiosk of the site with its last report, what needs
someone (a tablet silent for 48 hours, dossiers unsent for more than a day), and revoking a
lost tablet at the national service (docs/sites.md, « A lost tablet »).

A tab of the supervision screen, which only a signed-in supervisor reaches; the use case
(kiosk/sync/fleet.py) refuses anyone else and journals the revocation. Revoking asks for a
confirmation first: it cannot be undone. Nothing personal is shown: dossiers by reference only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from ui.i18n import Translator
from ui.services import WatchesSiteKiosks
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from kiosk.ports.national import SiteKiosk
    from kiosk.security.agents import AgentInfo
    from kiosk.sync.fleet import KioskRow, SiteView


class SiteKiosksTab(QWidget):
    """The site's kiosks, fetched from the national service off the UI thread."""

    def __init__(
        self,
        kiosks: WatchesSiteKiosks,
        runner: TaskRunner,
        tr: Translator,
        *,
        supervisor: Callable[[], AgentInfo | None],
        say: Callable[[Callable[[], str], bool], None],
        changed: Callable[[], None],
    ) -> None:
        """``supervisor``: who is signed in; ``say(text, error)``: the screen's message line;
        ``changed``: something was journalled (the journal tab reads again)."""
        super().__init__()
        self.kiosks = kiosks
        self.runner = runner
        self.tr_ = tr
        self._supervisor = supervisor
        self._say = say
        self._changed = changed
        self._view: SiteView | None = None
        self._confirming: str | None = None
        column = QVBoxLayout(self)
        row = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.load)
        row.addWidget(self.refresh_button)
        column.addLayout(row)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        # Each kiosk's lines wrap to the list's width: never a sideways scroll on a tablet.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        QScroller.grabGesture(self.list.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.list.currentItemChanged.connect(lambda *_: self._selection_changed())
        column.addWidget(self.list, 1)
        self.revoke_button = QPushButton()
        self.revoke_button.clicked.connect(self._ask)
        column.addWidget(self.revoke_button, alignment=Qt.AlignmentFlag.AlignRight)
        # The confirmation: the consequence said in full, then two buttons.
        self.confirm_panel = QWidget()
        confirm = QVBoxLayout(self.confirm_panel)
        self.confirm_text = QLabel()
        self.confirm_text.setObjectName("error")
        self.confirm_text.setWordWrap(True)
        confirm.addWidget(self.confirm_text)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self._cancel)
        self.confirm_button = QPushButton()
        self.confirm_button.setObjectName("primary")
        self.confirm_button.clicked.connect(self._revoke)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.confirm_button)
        confirm.addLayout(buttons)
        column.addWidget(self.confirm_panel)
        self.confirm_panel.hide()
        self.retranslate()
        self._selection_changed()

    # ------------------------------------------------------------------ showing
    def retranslate(self) -> None:
        """Every text in the current language, the list included."""
        t = self.tr_.t
        self.refresh_button.setText(t("supervision.kiosks.refresh"))
        self.revoke_button.setText(t("supervision.kiosks.revoke"))
        self.cancel_button.setText(t("supervision.kiosks.cancel"))
        self.confirm_button.setText(t("supervision.kiosks.confirm_button"))
        self.list.setAccessibleName(t("supervision.tab.kiosks"))
        if self._confirming is not None:
            self.confirm_text.setText(t("supervision.kiosks.confirm", id=self._confirming))
        if self._view is not None:
            self._show(self._view)

    def load(self) -> None:
        """Fetch the site's kiosks (off the UI thread)."""
        self.refresh_button.setEnabled(False)

        def failed(exc: Exception) -> None:
            self.refresh_button.setEnabled(True)
            self._say(lambda: self.tr_.error(exc), True)

        self.runner.run(self.kiosks.view, on_done=self._show, on_error=failed)

    def _show(self, view: SiteView) -> None:
        self.refresh_button.setEnabled(True)
        self._view = view
        t = self.tr_.t
        when = _when(view.fetched_at, t)
        if view.error is not None:
            self.status.setObjectName("error")
            self.status.setText(t("supervision.kiosks.offline", error=view.error, time=when))
        else:
            self.status.setObjectName("muted")
            self.status.setText(t("supervision.kiosks.fetched", site=view.site or "", time=when))
        self.status.style().polish(self.status)
        selected = self._selected()
        self.list.clear()
        for row in view.rows:
            item = QListWidgetItem(self._row_text(row))
            item.setData(Qt.ItemDataRole.UserRole, row)
            self.list.addItem(item)
            if selected is not None and row.kiosk.id == selected.kiosk.id:
                self.list.setCurrentItem(item)
        self._selection_changed()

    def _row_text(self, row: KioskRow) -> str:
        t = self.tr_.t
        k = row.kiosk
        lines = [t("supervision.kiosks.this", id=k.id) if row.this_kiosk else k.id]
        if k.revoked:
            by = k.revoked_by or "—"
            lines.append(t("supervision.kiosks.revoked", time=_when(k.revoked_at, t), by=by))
        report = k.report
        if report is None:
            lines.append(t("supervision.kiosks.no_report"))
        else:
            none = t("supervision.kiosks.no_dossier")
            lines += [
                t("supervision.kiosks.version", version=report.version, queued=report.queued),
                t("supervision.kiosks.oldest", time=_when(report.oldest_unsent, t, none)),
                t("supervision.kiosks.sync", time=_when(report.last_sync, t)),
                t("supervision.kiosks.received", time=_when(k.received_at, t)),
            ]
            error = report.last_error or t("supervision.kiosks.none")
            lines.append(t("supervision.kiosks.last_error", error=error))
            if k.revoked:
                refs = ", ".join(report.unsent) or t("supervision.kiosks.no_dossier")
                lines.append(t("supervision.kiosks.unsent", refs=refs))
            if report.storage == "site":
                lines.append(t("supervision.kiosks.site_store"))
        if row.silent:
            lines.append(t("supervision.kiosks.silent"))
        if row.waiting_too_long:
            lines.append(t("supervision.kiosks.waiting"))
        return "\n".join(lines)

    def _selected(self) -> KioskRow | None:
        item = self.list.currentItem()
        if item is None:
            return None
        row: KioskRow = item.data(Qt.ItemDataRole.UserRole)
        return row

    def _selection_changed(self) -> None:
        row = self._selected()
        self.revoke_button.setEnabled(
            row is not None and not row.kiosk.revoked and not row.this_kiosk
        )
        if self._confirming is not None and (row is None or row.kiosk.id != self._confirming):
            self._cancel()

    # ------------------------------------------------------------------ revoking
    def _ask(self) -> None:
        row = self._selected()
        if row is None:
            return
        self._confirming = row.kiosk.id
        self.confirm_text.setText(self.tr_.t("supervision.kiosks.confirm", id=row.kiosk.id))
        self.confirm_panel.show()
        self.revoke_button.hide()

    def _cancel(self) -> None:
        self._confirming = None
        self.confirm_panel.hide()
        self.revoke_button.show()

    def _revoke(self) -> None:
        kiosk_id, by = self._confirming, self._supervisor()
        if kiosk_id is None:
            return
        self._cancel()
        self.confirm_button.setEnabled(False)

        def done(kiosk: SiteKiosk) -> None:
            self.confirm_button.setEnabled(True)
            self._say(lambda: self.tr_.t("supervision.kiosks.done", id=kiosk.id), False)
            self._changed()
            self.load()

        def failed(exc: Exception) -> None:
            self.confirm_button.setEnabled(True)
            self._say(lambda: self.tr_.error(exc), True)

        self.runner.run(lambda: self.kiosks.revoke(kiosk_id, by=by), on_done=done, on_error=failed)

    def clear(self) -> None:
        """Forget what was shown (sign-out, inactivity lock)."""
        self._view = None
        self._cancel()
        self.list.clear()
        self.status.clear()


def _when(at: datetime | None, t: Callable[..., str], missing: str | None = None) -> str:
    """``at`` in the counter's local time; ``missing`` (« jamais » by default) without one."""
    if at is None:
        return missing if missing is not None else t("supervision.kiosks.never")
    return f"{at.astimezone():%d/%m/%Y %H:%M}"
