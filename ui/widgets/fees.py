"""A dossier's fees on screen: each line with its label, amount and basis, the total in bold.

The review shows it to the person before filing, the dossier's card to the agent afterwards
(with the amount the national service says is due, when it differs). Every sentence is in the
person's language: the kiosk's own words from the screens' catalogue, the lines' from the
domain's messages (kiosk/fees/); the amounts are written the language's way
(:func:`~kiosk.fees.format_euros`) and kept left to right inside an Arabic line.
"""

from __future__ import annotations

import html
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk.fees import format_euros
from kiosk.messages import format_date, format_time
from ui.i18n import Translator

if TYPE_CHECKING:
    from kiosk.dossiers.fees import FeesView


def _label(text: str, object_name: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    if object_name:
        label.setObjectName(object_name)
    return label


def _tariff_day(version: str, lang: str) -> str:
    """A tariff's version is the day it came into force: written as a date of the language."""
    try:
        return format_date(date.fromisoformat(version), lang)
    except ValueError:
        return version


class FeesPanel(QWidget):
    """The fees of one dossier, built once from a :class:`~kiosk.dossiers.fees.FeesView`."""

    def __init__(self, fees: FeesView, tr: Translator, *, agent: bool = False) -> None:
        """``agent``: also say what the national service says is due (the dossier's card)."""
        super().__init__()
        self.setObjectName("fees")
        lang = tr.lang
        result = fees.estimate
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 8, 0, 8)
        column.addWidget(_label(tr.t("fees.title"), "subtitle"))
        #: One (label, amount, basis) per line, then the total: what a test reads.
        self.rows: list[tuple[str, str, str]] = []
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        # Labels and bases share the room left by the amounts (a long label, « Taxe pour la
        # formation professionnelle… », wraps rather than squeeze its basis to a word a line).
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(2, 3)
        for row, line in enumerate(result.lines):
            cells = (
                line.label.localized(lang),
                tr.data(format_euros(line.amount, lang)),
                line.basis_text(lang),
            )
            self.rows.append(cells)
            self._add_row(grid, row, cells)
        if result.total is not None:
            cells = (tr.t("fees.total"), tr.data(format_euros(result.total, lang)), "")
            self.rows.append(cells)
            self._add_row(grid, len(result.lines), cells, bold=True)
        column.addLayout(grid)
        self.total = None if result.total is None else self.rows[-1][1]
        if result.note is not None:
            column.addWidget(_label(result.note.localized(lang)))
        #: The missing lines, each explained in the person's language.
        self.missing: list[str] = []
        if result.missing:
            column.addWidget(_label(tr.t("fees.missing"), "error"))
            for item in result.missing:
                text = item.reason.localized(lang)
                self.missing.append(text)
                column.addWidget(_label(tr.line(f"• {text}")))
            column.addWidget(_label(tr.t("fees.no_total")))
        #: What the national service says is due, as shown (the agent's card only).
        self.amount_due: str | None = None
        self._add_tariff_and_amount_due(column, fees, tr, agent=agent)

    def _add_tariff_and_amount_due(
        self, column: QVBoxLayout, fees: FeesView, tr: Translator, *, agent: bool
    ) -> None:
        """Which tariff, when kept; and the amount the national service says (agent only)."""
        lang = tr.lang
        result = fees.estimate
        if result.tariff_version is not None and result.estimated:
            tariff = _tariff_day(result.tariff_version, lang)
            if fees.kept_at is not None:
                said = tr.t(
                    "fees.kept",
                    date=format_date(fees.kept_at, lang),
                    time=format_time(fees.kept_at),
                    tariff=tariff,
                )
            else:
                said = tr.t("fees.tariff", tariff=tariff)
            column.addWidget(_label(said, "muted"))
        if agent and fees.amount_due is not None:
            due = tr.data(format_euros(fees.amount_due, lang))
            if not fees.differs:
                self.amount_due = tr.t("fees.amount_due", due=due)
            elif result.total is None:
                self.amount_due = tr.t("fees.amount_due_unestimated", due=due)
            else:
                estimate = tr.data(format_euros(result.total, lang))
                self.amount_due = tr.t("fees.amount_due_differs", due=due, estimate=estimate)
            # A difference is for the agent to notice: in the error colour, bold.
            column.addWidget(_label(self.amount_due, "error" if fees.differs else ""))
        elif result.lines or result.missing:
            column.addWidget(_label(tr.t("fees.authoritative"), "muted"))

    @staticmethod
    def _add_row(
        grid: QGridLayout, row: int, cells: tuple[str, str, str], *, bold: bool = False
    ) -> None:
        label, amount, basis = cells
        name = _label(label)
        money = _label(amount, wrap=False)
        # Trailing edge: the amounts line up on their last digit, mirrored in Arabic.
        money.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        if bold:  # as rich text: the style sheet's font rules would override a QFont's weight
            for widget, text in ((name, label), (money, amount)):
                widget.setTextFormat(Qt.TextFormat.RichText)
                widget.setText(f"<b>{html.escape(text)}</b>")
        grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(money, row, 1)
        grid.addWidget(_label(basis, "muted"), row, 2, Qt.AlignmentFlag.AlignTop)
