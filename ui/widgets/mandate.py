"""The mandate's widgets: the choices made with the person before signing (how long, what it
covers), and its state on a dossier's card with its revocation, confirmed before it is done.

Neither reads the store: the consent screen and the card hand them what the mandate use cases
gave (kiosk/dossiers/mandate.py), and act on what they emit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.dossiers.mandate_text import DEFAULT_DAYS, DURATIONS
from kiosk.messages import format_date
from ui.i18n import Translator
from ui.widgets.tile import WrappingButton

if TYPE_CHECKING:
    from kiosk.dossiers.mandate import MandateStatus


class MandateChoices(QWidget):
    """Two rows of large buttons: the duration (1 day … 1 year) and the scope (this démarche, or
    every démarche of its theme). ``changed`` is emitted on every choice."""

    changed = Signal()

    def __init__(self, tr: Translator) -> None:
        super().__init__()
        self.tr_ = tr
        self.days = DEFAULT_DAYS
        self.portee: str | None = None
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        self.duration_label = QLabel()
        self.durations: dict[int, QPushButton] = {}
        self._durations = QButtonGroup(self)
        rows.addLayout(self._row(self.duration_label, self._duration_buttons()))
        self.scope_label = QLabel()
        self.scopes: dict[str | None, QPushButton] = {}
        self._scopes = QButtonGroup(self)
        self._scope_row = QWidget()
        self.scope_buttons = QHBoxLayout()
        self.scope_buttons.setContentsMargins(0, 0, 0, 0)
        scope_layout = self._row(self.scope_label, self.scope_buttons)
        scope_layout.setContentsMargins(0, 0, 0, 0)
        self._scope_row.setLayout(scope_layout)
        rows.addWidget(self._scope_row)
        self.offer((None,))

    @staticmethod
    def _row(label: QLabel, buttons: QHBoxLayout) -> QHBoxLayout:
        row = QHBoxLayout()
        label.setObjectName("subtitle")
        row.addWidget(label)
        row.addLayout(buttons, 1)
        return row

    def _duration_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        for days in DURATIONS:
            button = WrappingButton()  # « 6 أشهر » on two lines rather than cut, at 2×
            button.setCheckable(True)
            button.setChecked(days == self.days)
            button.clicked.connect(lambda _checked=False, d=days: self._choose_days(d))
            self._durations.addButton(button)
            self.durations[days] = button
            buttons.addWidget(button, 1)
        return buttons

    def offer(self, scopes: tuple[str | None, ...]) -> None:
        """The scopes the dossier's démarche allows (its theme's row hidden when it has none);
        the choices go back to six months and this démarche."""
        for button in self.scopes.values():
            self._scopes.removeButton(button)
            self.scope_buttons.removeWidget(button)
            button.hide()  # at once: deleteLater waits for the event loop's next turn
            button.deleteLater()
        self.scopes = {}
        for portee in scopes:
            button = WrappingButton()
            button.setCheckable(True)
            button.clicked.connect(lambda _checked=False, p=portee: self._choose_scope(p))
            self._scopes.addButton(button)
            self.scopes[portee] = button
            self.scope_buttons.addWidget(button, 1)
        self._scope_row.setVisible(len(scopes) > 1)
        self.days, self.portee = DEFAULT_DAYS, None
        self.durations[DEFAULT_DAYS].setChecked(True)
        self.scopes[None].setChecked(True)
        self.retranslate()

    def _choose_days(self, days: int) -> None:
        self.days = days
        self.changed.emit()

    def _choose_scope(self, portee: str | None) -> None:
        self.portee = portee
        self.changed.emit()

    def retranslate(self) -> None:
        t = self.tr_.t
        self.duration_label.setText(t("consent.duration"))
        self.scope_label.setText(t("consent.scope"))
        for days, button in self.durations.items():
            button.setText(t(f"consent.duration.{days}"))
        for portee, button in self.scopes.items():
            button.setText(t(f"consent.scope.{portee or 'demarche'}"))


class MandatePanel(QFrame):
    """The mandate on a dossier's card: until when it holds, or since when it is revoked, and
    « Révoquer le mandat », which asks for confirmation first. ``revoke`` is emitted once the
    agent confirmed."""

    revoke = Signal()

    def __init__(self, status: MandateStatus, tr: Translator) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.tr_ = tr
        self.status = status
        layout = QVBoxLayout(self)
        self.state = QLabel()
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        self.revoke_button = QPushButton()
        self.revoke_button.clicked.connect(self._ask)
        self.question = QLabel()
        self.question.setWordWrap(True)
        self.question.setObjectName("subtitle")
        self.confirm_button = QPushButton()
        self.confirm_button.setObjectName("primary")
        self.confirm_button.clicked.connect(self._confirmed)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self._cancel)
        row = QHBoxLayout()
        row.addWidget(self.revoke_button)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.confirm_button)
        layout.addWidget(self.question)
        layout.addLayout(row)
        for widget in (self.question, self.confirm_button, self.cancel_button):
            widget.hide()
        self.revoke_button.setVisible(not status.revoked)
        self.retranslate()

    def state_text(self) -> str:
        """« Mandat valable jusqu'au … », « … arrivé à sa fin le … », « … révoqué le … »."""
        t, lang, status = self.tr_.t, self.tr_.lang, self.status
        if status.revoked_at is not None:
            return t("card.mandate_revoked", date=format_date(status.revoked_at, lang))
        if status.valid_until is None:
            return ""
        day = format_date(status.valid_until, lang)
        if status.expired:
            return t("card.mandate_ended", date=day)
        return t("card.mandate_valid", date=day)

    def _ask(self) -> None:
        self.revoke_button.hide()
        for widget in (self.question, self.confirm_button, self.cancel_button):
            widget.show()

    def _cancel(self) -> None:
        for widget in (self.question, self.confirm_button, self.cancel_button):
            widget.hide()
        self.revoke_button.setVisible(not self.status.revoked)

    def _confirmed(self) -> None:
        self.confirm_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.revoke.emit()

    def show_message(self, text: str, object_name: str = "") -> None:
        """What came of the revocation or of printing its attestation."""
        self.message.setObjectName(object_name)
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def retranslate(self) -> None:
        t = self.tr_.t
        self.state.setText(self.tr_.line(self.state_text()))
        self.revoke_button.setText(t("card.revoke"))
        self.question.setText(t("card.revoke_confirm"))
        self.confirm_button.setText(t("card.revoke_yes"))
        self.cancel_button.setText(t("card.revoke_no"))
