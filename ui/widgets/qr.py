"""A QR code on screen, as large as its room allows, black on white with its quiet zone, for a
camera to read off the touchscreen (the enrolment code, ui/screens/supervision.py)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

#: Light modules around the code (the standard's quiet zone).
QUIET = 4


class QrView(QWidget):
    """Paints the modules it is given (True = dark), whole modules of whole pixels: a code drawn
    with blurred edges is read less well by a camera."""

    def __init__(self) -> None:
        super().__init__()
        self._modules: tuple[tuple[bool, ...], ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)

    def sizeHint(self) -> QSize:
        return QSize(420, 420)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    @property
    def modules(self) -> tuple[tuple[bool, ...], ...]:
        """What is painted (empty: nothing)."""
        return self._modules

    def show_modules(self, modules: tuple[tuple[bool, ...], ...]) -> None:
        """Paint these modules (an empty tuple clears the view)."""
        self._modules = modules
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._modules:
            return
        painter = QPainter(self)
        count = len(self._modules) + 2 * QUIET
        module = max(1, min(self.width(), self.height()) // count)
        side = module * count
        left, top = (self.width() - side) // 2, (self.height() - side) // 2
        painter.fillRect(left, top, side, side, QColor("#FFFFFF"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#000000"))
        for y, row in enumerate(self._modules):
            for x, dark in enumerate(row):
                if dark:
                    painter.drawRect(
                        QRectF(
                            left + (x + QUIET) * module,
                            top + (y + QUIET) * module,
                            module,
                            module,
                        )
                    )
        painter.end()
