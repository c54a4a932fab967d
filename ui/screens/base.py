"""Common base of the screens: a title, translated text refreshed on language change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.i18n import Translator
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from ui.services import UiServices


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


class MessageLabel(QLabel):
    """A word-wrapped label that takes no room while it has nothing to say."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.hide()

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        super().clear()
        self.hide()


class Screen(QWidget):
    """A full-window page of the flow."""

    def __init__(self, services: UiServices | None, runner: TaskRunner, tr: Translator) -> None:
        super().__init__()
        self.setObjectName("screen")
        self._services = services
        #: The signed-in agent, for the audit journal (set by the window at sign-in).
        self.agent_id: int | None = None
        self.runner = runner
        self.tr_ = tr
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(32, 24, 32, 24)
        self.layout_.setSpacing(14)
        self.title = QLabel()
        self.title.setObjectName("title")
        self.title.setWordWrap(True)
        # Never taller than its text: spare room goes to the screen's body, not above the title.
        self.title.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.layout_.addWidget(self.title)
        tr.changed.connect(lambda _lang: self.retranslate())

    # Building blocks the screens share (added to the screen's column, in call order).
    def add_label(self, object_name: str, *, hide_when_empty: bool = False) -> QLabel:
        """A word-wrapped label styled by ``object_name`` ("muted", "error", …)."""
        label = MessageLabel() if hide_when_empty else QLabel()
        label.setWordWrap(True)
        label.setObjectName(object_name)
        self.layout_.addWidget(label)
        return label

    def add_scroll_area(self) -> QScrollArea:
        """The screen's scrolling body (see :func:`scrolling_area`)."""
        area = scrolling_area()
        self.layout_.addWidget(area, 1)
        return area

    def add_nav(self) -> tuple[QPushButton, QPushButton]:
        """The bottom row: a secondary button on one side, the primary one on the other."""
        row = QHBoxLayout()
        secondary = QPushButton()
        primary = QPushButton()
        primary.setObjectName("primary")
        row.addWidget(secondary)
        row.addStretch(1)
        row.addWidget(primary)
        self.layout_.addLayout(row)
        return secondary, primary

    @property
    def services(self) -> UiServices:
        """The services (only the sign-in screen exists before they are loaded)."""
        assert self._services is not None, "services used before the kiosk finished starting"
        return self._services

    @property
    def ready(self) -> bool:
        """Whether the services are loaded."""
        return self._services is not None

    def attach(self, services: UiServices) -> None:
        """Hand the services over once they are loaded (start-up runs them off the UI thread)."""
        self._services = services

    def retranslate(self) -> None:
        """Refresh every translated text (called on language change)."""

    def clear_personal_data(self) -> None:
        """Forget anything about the current person (inactivity lock, sign-out)."""
