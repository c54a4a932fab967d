"""The inactivity lock: after a while without a touch, a warning, then the screen is cleared.

The next person at the counter must never see the previous person's data: when the delay runs
out, every screen forgets what it showed and the kiosk returns to the agent sign-in. Answers are
already saved; nothing is lost.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

_ACTIVITY = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.KeyPress,
    QEvent.Type.Wheel,
}


class InactivityWatcher(QObject):
    """While armed, an application event filter; emits ``warn(seconds_left)`` then ``expired``.

    It filters only while an agent is signed in: a Python filter on every event of the
    application costs, and at start-up its first event made the bindings build every Qt class
    (~170 enumerations) before the sign-in keypad could be painted.
    """

    warn = Signal(int)
    expired = Signal()
    active = Signal()

    def __init__(self, *, idle_ms: int, grace_ms: int) -> None:
        super().__init__()
        self._grace_ms = grace_ms
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_ms)
        self._idle.timeout.connect(self._start_grace)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._count_down)
        self._left_ms = 0
        self._armed = False

    def set_delays(self, *, idle_ms: int, grace_ms: int) -> None:
        """New delays (a supervisor's), from the next touch on."""
        self._idle.setInterval(idle_ms)
        self._grace_ms = grace_ms
        if self._armed and not self._tick.isActive():
            self._idle.start()  # counted again from now, with the new delay

    @property
    def delays_ms(self) -> tuple[int, int]:
        """The delay without a touch and the warning's count-down, in milliseconds."""
        return self._idle.interval(), self._grace_ms

    def arm(self) -> None:
        """Start watching (an agent signed in)."""
        if not self._armed:
            app = QCoreApplication.instance()
            if app is not None:
                app.installEventFilter(self)
        self._armed = True
        self.reset()

    def disarm(self) -> None:
        """Stop watching (back at sign-in: nothing personal on screen)."""
        if self._armed:
            app = QCoreApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
        self._armed = False
        self._idle.stop()
        self._tick.stop()

    def reset(self) -> None:
        """Activity seen: restart the delay and withdraw any warning."""
        if not self._armed:
            return
        warned = self._tick.isActive()
        self._tick.stop()
        self._idle.start()
        if warned:
            self.active.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._armed and event.type() in _ACTIVITY:
            self.reset()
        return False

    def _start_grace(self) -> None:
        self._left_ms = self._grace_ms
        self.warn.emit(max(1, self._left_ms // 1000))
        self._tick.setInterval(min(1000, self._grace_ms))
        self._tick.start()

    def _count_down(self) -> None:
        self._left_ms -= self._tick.interval()
        if self._left_ms <= 0:
            self.disarm()
            self.expired.emit()
        else:
            self.warn.emit(max(1, self._left_ms // 1000))
