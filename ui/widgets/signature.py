"""A signature pad: the person signs with a finger (or a stylus, or the mouse)."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

#: The pad's edge and signing line (the style sheet's field borders: 4.5:1 on white).
PAD_EDGE = "#767689"


class SignaturePad(QWidget):
    """Collects strokes; ``to_png()`` gives the signature as a PNG on white."""

    changed = Signal(bool)  # whether something is drawn

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self._paths: list[QPainterPath] = []
        self._current: QPainterPath | None = None
        # A Tab stop, so that a screen reader says what it holds (see :meth:`describe`); who
        # cannot sign here signs on paper (« Signé sur papier »).
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._words = ("", "")
        self.changed.connect(lambda _signed: self._say_state())

    def describe(self, name: str, empty: str, signed: str) -> None:
        """Name the pad and the words for its state (empty, signed), in the screen's language:
        its accessible description follows what is drawn."""
        self.setAccessibleName(name)
        self._words = (empty, signed)
        self._say_state()

    def _say_state(self) -> None:
        self.setAccessibleDescription(self._words[0] if self.empty else self._words[1])

    @property
    def empty(self) -> bool:
        """Whether nothing has been drawn (a dot or two is not a signature)."""
        return sum(p.length() for p in self._paths) < 20

    def clear(self) -> None:
        """Start again."""
        self._paths = []
        self._current = None
        self.update()
        self.changed.emit(False)

    def stroke(self, points: list[QPointF]) -> None:
        """Add a stroke from points (what a finger drag produces; used by tests and replays)."""
        if not points:
            return
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        self._paths.append(path)
        self.update()
        self.changed.emit(not self.empty)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._current = QPainterPath(event.position())
        self._paths.append(self._current)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._current is not None:
            self._current.lineTo(event.position())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._current = None
        self.changed.emit(not self.empty)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        # Its edge at 4.5:1 on white and on the page (WCAG 1.4.11 asks 3:1): white on the
        # page's light grey alone did not show where the pad ends.
        painter.setPen(QPen(QColor(PAD_EDGE), 2))
        painter.drawRect(self.rect().adjusted(1, 1, -1, -1))
        painter.setPen(QPen(QColor(PAD_EDGE), 1, Qt.PenStyle.DashLine))
        baseline = self.height() - 40
        painter.drawLine(20, baseline, self.width() - 20, baseline)
        self._draw(painter)
        painter.end()

    def _draw(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#000091"), 3)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        for path in self._paths:
            painter.drawPath(path)

    def to_png(self) -> bytes:
        """The strokes on a white background, as PNG bytes."""
        image = QImage(self.size(), QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        self._draw(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; only str works
        return bytes(data.data())
