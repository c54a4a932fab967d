"""A scroll area for touch: kinetic scrolling, the field typed in kept in view above the
on-screen keyboard, and a page built anew put back where the old one was."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFrame,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QScroller,
    QTextEdit,
    QWidget,
)
from shiboken6 import isValid

MARGIN = 12  # pixels kept between the field typed in and the keyboard
#: What the on-screen keyboard types into (what must stay in view above it).
TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)


class _KeepFocusVisible(QObject):
    """Scrolls the field being typed in back into view when it takes focus and whenever the area
    shrinks (the on-screen keyboard coming up takes the bottom of the window)."""

    def __init__(self, area: QScrollArea) -> None:
        super().__init__(area)
        self._area = area
        area.viewport().installEventFilter(self)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            # A bound method of this object: disconnected when the area (its parent) is deleted.
            app.focusChanged.connect(self._focus_changed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            # After the area has updated its scroll range for the new size.
            QTimer.singleShot(0, self, self._show_focused)
        return False

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        self._show(new)

    def _show_focused(self) -> None:
        self._show(self._area.window().focusWidget())

    def _show(self, widget: QWidget | None) -> None:
        content = self._area.widget()
        if not isinstance(widget, TEXT_INPUTS) or content is None:
            return  # a button taking focus (after a sign-in, a tab) must not scroll the page
        if not self._area.isAncestorOf(widget):
            return
        # The whole field, not only its cursor (what QScrollArea.ensureWidgetVisible shows).
        top = widget.mapTo(content, QPoint(0, 0)).y()
        bar, room = self._area.verticalScrollBar(), self._area.viewport().height()
        if top + widget.height() + MARGIN > bar.value() + room:
            bar.setValue(top + widget.height() + MARGIN - room)
        if top - MARGIN < bar.value():
            bar.setValue(top - MARGIN)


def bring_into_view(*widgets: QWidget) -> None:
    """Scroll the page holding ``widgets`` so that they are in view, once it is laid out (the
    next turn of the event loop), the last one first if they do not all fit: for what a button
    press fills in, which the focus alone does not bring into view (a button taking the focus
    does not scroll the page, above)."""

    def scroll() -> None:
        for widget in widgets:
            if not isValid(widget):
                continue
            parent = widget.parentWidget()
            while parent is not None and not isinstance(parent, QScrollArea):
                parent = parent.parentWidget()
            if parent is not None:
                parent.ensureWidgetVisible(widget, 16, 16)

    QTimer.singleShot(0, scroll)


def scroll_back(area: QScrollArea, value: int) -> None:
    """Put the page just set in ``area`` back at the vertical position ``value`` (where the old
    page was), at once: its layout is done now rather than at the next turn of the event loop,
    so that the scroll range already fits the new page and the page never shows at its top."""
    page = area.widget()
    if page is not None and (layout := page.layout()) is not None:
        layout.activate()
    area.verticalScrollBar().setValue(value)


def scrolling_area(content: QWidget | None = None) -> QScrollArea:
    """A frameless scroll area for touch (kinetic scrolling) that keeps the focused field in
    view above the on-screen keyboard."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.TouchGesture)
    _KeepFocusVisible(area)
    if content is not None:
        area.setWidget(content)
    return area


def drop_page(area: QScrollArea) -> None:
    """Take the page off ``area`` and delete it: ``takeWidget`` alone hands it back to Python,
    where it lives on as a hidden window holding a person's data (their photo, their answers)."""
    page = area.takeWidget()
    if page is not None:
        page.deleteLater()
