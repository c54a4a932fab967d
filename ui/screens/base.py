"""Common base of the screens: a title, translated text refreshed on language change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.accessibility import LiveLabel
from ui.i18n import Translator
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from PySide6.QtWidgets import QScrollArea


#: The least height of a screen's scrolling body (pixels): a question's label on two lines at
#: twice the text size, its box and the margins kept around the box typed in.
MIN_BODY_HEIGHT = 200


class MessageLabel(LiveLabel):
    """A word-wrapped label that takes no room while it has nothing to say, and is heard by a
    screen reader when it says something new."""

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


class WhyLabel(MessageLabel):
    """A short line beside a disabled button saying why it cannot be pressed yet, in the
    person's language; the same words go to the button's tooltip and accessible description,
    for a screen reader. Nothing is shown while there is no reason."""

    #: Not announced: the button's description says it when the button is reached.
    live = False

    def __init__(self, button: QPushButton) -> None:
        super().__init__()
        self.setObjectName("why")
        self._button = button

    def explain(self, reason: str) -> None:
        """Say ``reason`` (``""``: the button can be pressed, or is busy: say nothing).

        The line keeps its room while it says nothing: were it to go, the row of buttons above
        it would move down under a finger on its way to the button just enabled (« Valider la
        signature » once the person has signed), and that tap would be lost.
        """
        self.setText(reason or "\u00a0")
        self._button.setToolTip(reason)
        self._button.setAccessibleDescription(reason)


class Screen(QWidget):
    """A full-window page of the flow."""

    def __init__(self, runner: TaskRunner, tr: Translator) -> None:
        super().__init__()
        self.setObjectName("screen")
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
        self._scroll_areas: list[QScrollArea] = []
        tr.changed.connect(lambda _lang: self._retranslate_all())

    # Building blocks the screens share (added to the screen's column, in call order).
    def add_label(self, object_name: str, *, hide_when_empty: bool = False) -> QLabel:
        """A word-wrapped label styled by ``object_name`` ("muted", "error", …)."""
        # An error line is heard when it says something (a live region); others are read
        # with the screen.
        label = (
            MessageLabel()
            if hide_when_empty
            else LiveLabel()
            if object_name == "error"
            else QLabel()
        )
        label.setWordWrap(True)
        label.setObjectName(object_name)
        self.layout_.addWidget(label)
        return label

    def add_scroll_area(self) -> QScrollArea:
        """The screen's scrolling body (see :func:`ui.widgets.scrolling.scrolling_area`)."""
        # Imported on first use: the sign-in screen, painted at start, scrolls nothing.
        from PySide6.QtCore import Qt

        from ui.widgets.scrolling import scrolling_area

        area = scrolling_area()
        # Not a Tab stop of its own (its questions and buttons are); named for a screen reader.
        area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        area.setAccessibleName(self.tr_.t("a11y.content"))
        # Never squeezed below a question and its box: at twice the text size with the on-screen
        # keyboard up, the window's page scrolls instead (it keeps the field typed in in view).
        area.setMinimumHeight(MIN_BODY_HEIGHT)
        self._scroll_areas.append(area)
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

    def add_why(self, button: QPushButton) -> WhyLabel:
        """The reason line of ``button``, under the screen's last row, on the button's side (the
        primary one: right, or left in Arabic)."""
        # Imported here: the sign-in screen, painted at start, has no button to explain.
        from PySide6.QtCore import Qt

        why = WhyLabel(button)
        # The whole width, its text on the button's side: a label placed by the layout's
        # alignment would be measured before wrapping, and its second line cut off.
        why.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.layout_.addWidget(why)
        return why

    def _retranslate_all(self) -> None:
        for area in self._scroll_areas:
            area.setAccessibleName(self.tr_.t("a11y.content"))
        self.retranslate()

    def take_focus(self) -> None:
        """Where the focus goes when the screen is shown or moves on to another step: its title
        (a heading to a screen reader, not a Tab stop), so that the next Tab goes to what comes
        after it on the screen, never back to the top bar; a screen with a better place (the
        home screen's search) says so. Nothing is typed into a title, and no on-screen keyboard
        comes up for it."""
        from PySide6.QtCore import Qt

        self.title.setFocus(Qt.FocusReason.OtherFocusReason)

    def order_tabs(self) -> None:
        """Tab through the screen in its reading order (see :func:`ui.accessibility.order_tabs`);
        called when the screen is shown and when its page is built again."""
        from ui.accessibility import order_tabs

        order_tabs(self)

    def retranslate(self) -> None:
        """Refresh every translated text (called on language change)."""

    def clear_personal_data(self) -> None:
        """Forget anything about the current person (inactivity lock, sign-out)."""
