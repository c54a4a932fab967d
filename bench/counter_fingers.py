"""The agent's fingers on the real kiosk window, for `bench/counter_bench.py`.

Every touch goes through :class:`Fingers` (``tap``, ``type_text``, ``drag``, ``swipe``): the only
place where taps and characters are counted. A tap is a press and a release at the widget's
centre *in window coordinates*, sent to the window as a touchscreen's driver would: Qt routes it
to whatever is under the finger then, so a button that moves, or is disabled, while the finger
is down loses the tap as it would on the counter. :class:`PaintClock` times a tap until the frame
that paints what it brought.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QEventLoop, QObject, QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QScrollArea, QWidget

if TYPE_CHECKING:
    from ui.main_window import MainWindow

#: How long a finger stays down on a tap (events are processed meanwhile, as on the counter).
FINGER_MS = 60


class BenchError(RuntimeError):
    """The driver cannot go on: the message says on which screen, and what it looked for."""


@dataclass
class Tally:
    """What one dossier cost."""

    taps: int = 0
    characters: int = 0
    swipes: int = 0
    screens: int = 0
    lost_taps: int = 0
    suivant_ms: list[float] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    #: Every counted action, in order, with its screen (printed by ``--trace``).
    actions: list[str] = field(default_factory=list)


class Fingers:
    """The agent's fingers on the window: the one place where taps and characters are counted."""

    def __init__(self, window: MainWindow, wait: Waiter) -> None:
        self.window = window
        self.wait = wait
        self.tally = Tally()
        self.counting = False  # off for the sign-in
        self.released_at = 0.0

    def _count(self, where: str, what: str, taps: int = 0, characters: int = 0) -> None:
        if self.counting:
            self.tally.taps += taps
            self.tally.characters += characters
            self.tally.actions.append(f"{where} : {what}")

    def _under_finger(self, widget: QWidget) -> QPoint | None:
        """Where to put the finger (window coordinates), or None if the widget is not there."""
        if not widget.isVisible():
            return None
        point = widget.mapTo(self.window, widget.rect().center())
        hit = self.window.childAt(point)
        if hit is not None and (hit is widget or widget.isAncestorOf(hit)):
            return point
        return None

    def reveal(self, widget: QWidget, what: str) -> QPoint:
        """Bring ``widget`` under the finger: a swipe of its scrolling area per screenful."""
        for _ in range(8):
            point = self._under_finger(widget)
            if point is not None:
                return point
            area = _scroll_area_of(widget)
            if area is None or not widget.isVisible():
                hit = self.window.childAt(widget.mapTo(self.window, widget.rect().center()))
                raise BenchError(
                    f"{self.where()} : {what} n'est pas sous le doigt "
                    f"(visible : {widget.isVisible()}, à sa place : {_name(hit)})"
                )
            self.swipe(area, widget)
        raise BenchError(f"{self.where()} : {what} reste hors de vue après 8 glissements")

    def swipe(self, area: QScrollArea, widget: QWidget) -> None:
        """One swipe of the area toward ``widget`` (at most a screenful), counted as a gesture.

        The page is moved through its scroll bar: QScroller's kinetic flick depends on the
        finger's speed, which a bench should not fake; the count is what matters here.
        """
        content = area.widget()
        if content is None:
            raise BenchError(f"{self.where()} : zone de défilement vide")
        bar, room = area.verticalScrollBar(), area.viewport().height()
        middle = widget.mapTo(content, widget.rect().center()).y()
        wanted = min(max(middle - room // 2, bar.minimum()), bar.maximum())
        step = max(-room, min(room, wanted - bar.value()))
        if step == 0:
            raise BenchError(f"{self.where()} : le glissement ne rapproche pas {_name(widget)}")
        bar.setValue(bar.value() + step)
        self._count(self.where(), f"glissement vers {_name(widget)}", taps=1)
        if self.counting:
            self.tally.swipes += 1
        self.wait.events()

    def tap(self, widget: QWidget, what: str) -> bool:
        """Press and release on ``widget``; True if it took the tap (click, or focus for a box)."""
        point = self.reveal(widget, what)
        where = self.where()
        clicked: list[bool] = []

        def took(*_: object) -> None:
            clicked.append(True)

        if isinstance(widget, QAbstractButton):
            widget.clicked.connect(took)
        handle = self.window.windowHandle()
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mousePress(handle, left, none, point)
        self.wait.for_ms(FINGER_MS)  # the finger is down: whatever a press causes, happens
        self.released_at = time.perf_counter()
        QTest.mouseRelease(handle, left, none, point)
        self._count(where, f"tap {what}", taps=1)
        self.wait.events()
        if not shiboken6.isValid(widget):
            return True  # the tap rebuilt the screen it was on: it was taken
        if isinstance(widget, QAbstractButton):
            widget.clicked.disconnect(took)  # only ours: the screen's own stay
            return bool(clicked)
        return widget.hasFocus()

    def tap_button(self, button: QAbstractButton, what: str, *, tries: int = 3) -> None:
        """Tap a button until it takes the tap (each try counted); a lost tap is a defect."""
        for attempt in range(tries):
            if not button.isEnabled():
                raise BenchError(f"{self.where()} : {what} est désactivé")
            if self.tap(button, what):
                return
            self.lost(what, attempt)
        raise BenchError(f"{self.where()} : {what} ne répond pas après {tries} taps")

    def lost(self, what: str, attempt: int) -> None:
        """Note a tap the flow did not take."""
        if self.counting:
            self.tally.lost_taps += 1
            self.tally.defects.append(f"tap perdu ({attempt + 1}) : {self.where()} : {what}")

    def type_text(self, box: QWidget, text: str, what: str, *, enter: bool = False) -> None:
        """Type ``text`` on the keys into ``box``: straight away if the flow already put the
        focus there (the keyboard is up on it), else after a tap into it (again if the first
        tap is lost). ``enter``: then the keyboard's Enter key, one more key typed, which
        leaves the box for the next question."""
        for attempt in range(3):
            if QApplication.focusWidget() is box and self._under_finger(box) is not None:
                break
            if self.tap(box, what) and QApplication.focusWidget() is box:
                break
            self.lost(what, attempt)
        else:
            raise BenchError(f"{self.where()} : {what} ne prend pas le focus")
        for char in text:
            if char.isascii():
                QTest.keyClicks(box, char)
            else:  # QTest's own table stops at ASCII: the key of an accented letter, with its text
                key = Qt.Key(ord(char.upper()))
                QTest.sendKeyEvent(
                    QTest.KeyAction.Click, box, key, char, Qt.KeyboardModifier.NoModifier
                )
        if enter:
            QTest.keyClick(box, Qt.Key.Key_Return)
        typed = text + ("⏎" if enter else "")
        self._count(self.where(), f"frappe {typed!r}", characters=len(typed))
        self.wait.events()

    def drag(self, widget: QWidget, points: list[QPoint], what: str) -> None:
        """One finger stroke across ``widget`` (points in its coordinates): one gesture."""
        self.reveal(widget, what)
        handle = self.window.windowHandle()
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        to_window = [widget.mapTo(self.window, p) for p in points]
        QTest.mousePress(handle, left, none, to_window[0])
        for point in to_window[1:]:
            QTest.mouseMove(handle, point)
            self.wait.events()
        QTest.mouseRelease(handle, left, none, to_window[-1])
        self._count(self.where(), f"trait {what}", taps=1)
        self.wait.events()

    def where(self) -> str:
        """The screen shown, for messages (with the wizard's step title)."""
        return screen_name(self.window)


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication), "the kiosk's QApplication is not running"
    return app


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def _name(widget: QObject | None) -> str:
    if widget is None:
        return "rien"
    return f"{type(widget).__name__}({widget.objectName() or '-'})"


def screen_name(window: MainWindow) -> str:
    """The current screen's class, and the wizard's step title when it is the wizard."""
    screen = window.stack.currentWidget()
    name = type(screen).__name__
    if screen is not None and screen is getattr(window, "wizard", None):
        return f"{name} « {window.wizard.title.text()} »"
    return name


class Waiter:
    """Runs the event loop until something is true, without spinning (a 2 ms tick wakes it)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._tick = QTimer()
        self._tick.setInterval(2)
        self._tick.start()

    def events(self) -> None:
        """Deliver what is pending (twice: a handler may post more, e.g. a deferred hide)."""
        for _ in range(2):
            QApplication.processEvents()

    def for_ms(self, ms: int) -> None:
        """Run the loop for ``ms`` milliseconds."""
        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)

    def until(self, predicate: Callable[[], object], what: str, limit: float = 30.0) -> None:
        """Run the loop until ``predicate()``; past ``limit`` seconds, say what was awaited."""
        end = time.monotonic() + limit
        while not predicate():
            if time.monotonic() > end:
                raise BenchError(f"{screen_name(self.window)} : délai dépassé : {what}")
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)

    def settle(self, limit: float = 30.0) -> None:
        """Until no background job runs or waits to report, and what it posted is delivered."""
        self.until(lambda: self.window.runner.idle, "travail en arrière-plan", limit)
        self.events()


class PaintClock(QObject):
    """From a tap's release to the frame that paints what the tap brought (the next step).

    While armed, an application event filter groups the paint events into frames (a frame ends
    at the next turn of the event loop, when Qt has flushed it). The step counts as painted at
    the end of the first frame that paints its content, after the last background job it waited
    for (a save, a load) reported. The filter is in Python and runs only while armed: its cost is
    included, so the figure is an upper bound.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        #: (start, end, widgets painted) of each frame since armed.
        self.frames: list[tuple[float, float, list[QObject]]] = []
        self._frame: list[QObject] | None = None
        self._frame_start = 0.0
        self.idle_at = 0.0
        window.runner.busy_changed.connect(self._busy)

    def _busy(self, busy: bool) -> None:
        if not busy:
            self.idle_at = time.perf_counter()  # before the job's callback changes the screen

    def arm(self) -> None:
        """Watch the paints from now on."""
        self.frames = []
        self._frame = None
        self.idle_at = 0.0
        _app().installEventFilter(self)

    def disarm(self) -> None:
        """Stop watching (the filter costs every event a call into Python)."""
        _app().removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            if self._frame is None:
                self._frame = []
                self._frame_start = time.perf_counter()
                QTimer.singleShot(0, self._end_frame)
            self._frame.append(watched)
        return False

    def _end_frame(self) -> None:
        if self._frame is not None:
            self.frames.append((self._frame_start, time.perf_counter(), self._frame))
            self._frame = None

    def painted(self, content: QWidget, since: float) -> float | None:
        """The end of the first frame begun after ``since`` that painted ``content`` (or a
        child of it)."""
        for start, end, widgets in self.frames:
            if start < since:
                continue
            for widget in widgets:
                if shiboken6.isValid(widget) and (
                    widget is content
                    or (isinstance(widget, QWidget) and content.isAncestorOf(widget))
                ):
                    return end
        return None
