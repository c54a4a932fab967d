"""A home-screen tile: a démarche's pictogram and its title, side by side, in reading order.

A button's own icon and text are placed apart by Qt's style sheets in a right-to-left window
(the icon at the start, the text stuck to the other edge), and its text never wraps. Here the
button holds a row of two labels instead: the row mirrors with the window, and a long title (in
English, or at the largest text size) wraps instead of being cut.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy

#: The pictogram's side, in lines of the tile's text: it grows with the chosen text size.
ICON_LINES = 2.2


class Tile(QPushButton):
    """A large button with a pictogram (optional) and a title that wraps."""

    def __init__(self, icon: QIcon | None = None) -> None:
        super().__init__()
        self.setObjectName("tile")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout(self)
        row.setContentsMargins(18, 10, 18, 10)
        row.setSpacing(16)
        self.picture = QLabel()
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        for label in (self.picture, self.title):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # taps: the tile's
        row.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.title, 1)
        self._icon = icon
        self.picture.setVisible(icon is not None)
        self._draw_icon()

    def set_title(self, title: str, summary: str) -> None:
        """The démarche's title on the tile (and for screen readers), its summary as tooltip."""
        self.title.setText(title)
        self.setAccessibleName(title)
        self.picture.setAccessibleName(title)  # the pictogram says what the tile says
        self.setToolTip(summary)

    def text(self) -> str:
        """The title shown (the button's own text stays empty: the label draws it)."""
        return self.title.text()

    def icon(self) -> QIcon:
        """The pictogram (a null icon for none)."""
        return self._icon if self._icon is not None else QIcon()

    def changeEvent(self, event: QEvent) -> None:
        # A new text size comes as a style or font change: the pictogram follows it.
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._draw_icon()
        super().changeEvent(event)

    def _draw_icon(self) -> None:
        if self._icon is None:
            return
        side = round(self.title.fontMetrics().height() * ICON_LINES)
        self.picture.setPixmap(self._icon.pixmap(QSize(side, side), self.devicePixelRatioF()))

    def sizeHint(self) -> QSize:
        # The button's own hint (the style sheet's touch-target size) grown to hold the row.
        layout = self.layout()
        own = super().sizeHint()
        return own.expandedTo(layout.sizeHint()) if layout is not None else own
