"""Buttons whose text wraps: the home screen's tiles, and the answers of a choice.

Qt never wraps a button's text: a long answer (« Attestation d'hébergement, avec la pièce
d'identité de l'hébergeant »), in English or at twice the text size, is cut at the button's
edge, or widens the window past the screen. A :class:`WrappingButton` holds a label that draws
its text instead: the label wraps, the button grows down to hold it (height for width), and a
screen reader still meets one button named by its text.

A button's own icon and text are also placed apart by Qt's style sheets in a right-to-left
window (the icon at the start, the text stuck to the other edge): a :class:`Tile` holds a row
of two labels, pictogram and title, which mirrors with the window.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

#: The pictogram's side, in lines of the tile's text: it grows with the chosen text size.
ICON_LINES = 2.2


class WrappingButton(QPushButton):
    """A push button whose text wraps onto as many lines as the width leaves it."""

    def __init__(
        self,
        text: str = "",
        *,
        alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
        margins: tuple[int, int] = (18, 6),
    ) -> None:
        super().__init__()
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(margins[0], margins[1], margins[0], margins[1])
        self.row.setSpacing(16)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setAlignment(alignment)
        self._passive(self.label)
        self.row.addWidget(self.label, 1)
        self.toggled.connect(self._mark_checked)
        self.set_text(text)

    @staticmethod
    def _passive(label: QWidget) -> None:
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # taps: the button's

    def set_text(self, text: str) -> None:
        """The text shown, and the button's name for a screen reader."""
        self.label.setText(text)
        self.setAccessibleName(text)
        self.updateGeometry()

    def setText(self, text: str) -> None:
        self.set_text(text)

    def text(self) -> str:
        """The text shown (the button's own text stays empty: the label draws it)."""
        return self.label.text()

    def _mark_checked(self, checked: bool) -> None:
        # The style sheet colours a checked button's own text; its label is told by a property
        # (``QLabel[on="true"]``), a child's selector cannot see its parent's state.
        self.label.setProperty("on", checked)
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)

    def sizeHint(self) -> QSize:
        # The button's own hint (the style sheet's touch-target size) grown to hold the row.
        return super().sizeHint().expandedTo(self.row.sizeHint())

    def minimumSizeHint(self) -> QSize:
        # As narrow as the longest word allows: the label wraps the rest.
        own = super().minimumSizeHint()
        return QSize(self.row.minimumSize().width(), own.height())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return max(super().sizeHint().height(), self.row.heightForWidth(width))


class Tile(WrappingButton):
    """A large button with a pictogram (optional) and a title that wraps."""

    def __init__(self, icon: QIcon | None = None) -> None:
        super().__init__(alignment=Qt.AlignmentFlag.AlignVCenter, margins=(18, 10))
        self.setObjectName("tile")
        self.picture = QLabel()
        self._passive(self.picture)
        self.row.insertWidget(0, self.picture, 0, Qt.AlignmentFlag.AlignVCenter)
        self.title = self.label
        self._icon = icon
        self.picture.setVisible(icon is not None)
        self._draw_icon()

    def set_title(self, title: str, summary: str) -> None:
        """The démarche's title on the tile (and for screen readers), its summary as tooltip."""
        self.set_text(title)
        self.picture.setAccessibleName(title)  # the pictogram says what the tile says
        self.setToolTip(summary)

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
