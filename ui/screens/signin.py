"""Agent sign-in: pick your name, type your PIN on the on-screen keypad.

The keypad works from the first frame, while the kiosk's services load (issue 18): a PIN
confirmed before they are there is checked as soon as the agents are known, and only a right
one opens the home screen. From the fourth digit on, Argon2 runs on the PIN as typed, off the
UI thread, so that OK does not wait for it (``AgentService.check_pin``: its verdict is told to
no one, and OK still counts the attempt and applies the lockout).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.accessibility import LiveLabel
from ui.screens.base import MessageLabel, Screen

if TYPE_CHECKING:
    from kiosk.security.agents import AgentInfo, PinCheck
    from ui.i18n import Translator
    from ui.services import SignInServices
    from ui.tasks import TaskRunner


class SignInScreen(Screen):
    """The first screen, and the one the inactivity lock returns to."""

    signed_in = Signal(object)  # AgentInfo

    def __init__(self, services: SignInServices | None, runner: TaskRunner, tr: Translator) -> None:
        """``services`` None: the keypad paints at once, the agents come with :meth:`attach`."""
        super().__init__(runner, tr)
        self._services = services
        # Two columns: who and the PIN on one side, the keypad on the other; one above the
        # other, at twice the text size they needed more than the 800 pixels of a tablet.
        columns = QHBoxLayout()
        columns.setSpacing(32)
        self.layout_.addLayout(columns, 1)
        left = QVBoxLayout()
        columns.addLayout(left, 1)
        self.agents_row = QHBoxLayout()
        left.addLayout(self.agents_row)
        self.notice = MessageLabel()  # no room taken while there is no notice
        self.notice.setObjectName("muted")
        left.addWidget(self.notice)
        # The PIN's label stays in sight while it is typed (a placeholder goes with the first
        # digit, and its grey is too pale to read).
        self.pin_label = QLabel()
        self.pin_label.setWordWrap(True)
        left.addWidget(self.pin_label)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.returnPressed.connect(self._submit)
        self.pin.textChanged.connect(lambda _text: self._check_ahead())
        self.pin_label.setBuddy(self.pin)  # « labelled by » for a screen reader
        left.addWidget(self.pin)
        self.error = LiveLabel()  # a wrong PIN is heard, not only seen
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        left.addWidget(self.error)
        left.addStretch(1)
        columns.addLayout(self._keypad())
        self._agent: AgentInfo | None = None
        self._buttons: list[QPushButton] = []
        #: OK was tapped before the services were loaded: checked once the agents are known.
        self._waiting = False
        #: The PIN Argon2 is running on now (a worker job), the last verdict it gave, and
        #: whether OK was tapped meanwhile (then submitted with it).
        self._checking: str | None = None
        self._checked: PinCheck | None = None
        self._submit_when_checked = False
        self.retranslate()

    def _keypad(self) -> QVBoxLayout:
        """The digits, ⌫ and OK, at the top of their column."""
        pad = QGridLayout()
        for i, key in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]):
            button = QPushButton(key)
            if key == "⌫":
                self._erase = button  # named in the screen's language (retranslate)
            if key == "OK":
                button.setObjectName("primary")
                self._ok = button
            button.clicked.connect(lambda _=False, k=key: self._press(k))
            pad.addWidget(button, i // 3, i % 3)
        holder = QWidget()
        holder.setLayout(pad)
        holder.setMaximumWidth(420)
        keypad = QVBoxLayout()
        keypad.addWidget(holder)
        keypad.addStretch(1)
        return keypad

    @property
    def ready(self) -> bool:
        """Whether the services are loaded (start-up builds them off the UI thread)."""
        return self._services is not None

    @property
    def services(self) -> SignInServices:
        """The agents (only once loaded: see :attr:`ready`)."""
        assert self._services is not None, "services used before the kiosk finished starting"
        return self._services

    def attach(self, services: SignInServices) -> None:
        """Hand the services over once they are loaded."""
        self._services = services
        # The screen has its own keypad: no on-screen keyboard over the PIN (a real keyboard
        # works). Set here, with the services, not before the first paint: the keyboard comes
        # with them, and the Qt namespace's enumerations cost ~15 ms to build at start.
        from PySide6.QtCore import Qt

        self.pin.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("signin.title"))
        self.pin_label.setText(self.tr_.t("signin.pin"))
        self.pin.setAccessibleName(self.tr_.t("signin.pin"))
        self._erase.setAccessibleName(self.tr_.t("a11y.erase"))
        self._ok.setAccessibleName(self.tr_.t("a11y.validate"))

    def refresh(self) -> None:
        """Load the list of agents (off the UI thread)."""
        if self.ready:
            self.runner.run(self.services.agents.list, on_done=self._show_agents)

    def _show_agents(self, agents: list[AgentInfo]) -> None:
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        self.notice.setText("" if agents else self.tr_.t("signin.no_agent"))
        for agent in agents:
            button = QPushButton(agent.nom)
            button.setCheckable(True)
            button.setAccessibleName(agent.nom)
            button.clicked.connect(lambda _=False, a=agent: self._choose(a))
            self.agents_row.addWidget(button)
            self._buttons.append(button)
        if len(agents) == 1:
            self._buttons[0].setChecked(True)
            self._agent = agents[0]
        # Made after the rest of the screen, they would come last in the Tab order (after
        # « OK »): in reading order, the agents come before the PIN.
        self.order_tabs()
        # After the buttons are shown (the layout shows them at the next turn of the loop; a
        # hidden button cannot take the focus), unless the agent is already at the keypad.
        QTimer.singleShot(0, self, self._focus_unless_busy)  # not if deleted meanwhile
        if self._waiting:
            self._waiting = False
            self.notice.setText("" if agents else self.tr_.t("signin.no_agent"))
            if self._agent is not None and self.pin.text():
                self._submit()
                return
        self._check_ahead()  # typed while the kiosk was starting

    def _focus_unless_busy(self) -> None:
        focused = QApplication.focusWidget()
        if self.isVisible() and (focused is None or not self.isAncestorOf(focused)):
            self.take_focus()

    def take_focus(self) -> None:
        """The agent's button (the one chosen, else the first): a keyboard starts where the
        sign-in starts, not in the top bar, and the PIN is the next Tab. (Not the PIN itself:
        focused before any field was typed in, it left Qt's on-screen keyboard up for good
        after the next field.)"""
        from PySide6.QtCore import Qt

        chosen = [button for button in self._buttons if button.isChecked()]
        if chosen or self._buttons:
            (chosen or self._buttons)[0].setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            super().take_focus()

    def _choose(self, agent: AgentInfo) -> None:
        self._agent = agent
        for button in self._buttons:
            button.setChecked(button.text() == agent.nom)
        self.pin.setFocus()
        self._check_ahead()

    def _check_ahead(self) -> None:
        """Have Argon2 run on the PIN as typed so far, one check at a time (the latest PIN once
        the one under way is done)."""
        agent, pin = self._agent, self.pin.text()
        if not self.ready or agent is None or len(pin) < 4 or self._checking is not None:
            return
        self._checking = pin

        def checked(result: PinCheck | None) -> None:
            self._checking = None
            self._checked = result
            if self._submit_when_checked:
                self._submit_when_checked = False
                self._submit()
            elif self.pin.text() != pin:
                self._check_ahead()  # typed further meanwhile

        self.runner.run(
            lambda: self.services.agents.check_pin(agent.identifiant, pin),
            on_done=checked,
            on_error=lambda _exc: checked(None),  # OK will have Argon2 run again
        )

    def _press(self, key: str) -> None:
        if key == "⌫":
            self.pin.backspace()
        elif key == "OK":
            self._submit()
        else:
            self.pin.insert(key)

    def _submit(self) -> None:
        agent, pin = self._agent, self.pin.text()
        if not self.ready and pin:
            # Still starting: kept, and checked as soon as the agents are known.
            self._waiting = True
            self.notice.setText(self.tr_.t("signin.starting"))
            return
        if agent is None or not self.ready:
            return  # several agents: the agent chooses a name first
        if self._checking is not None and self._checking == pin:
            self._submit_when_checked = True  # Argon2 is already on it: its verdict is used
            return
        checked, self._checked = self._checked, None
        self.pin.clear()
        self.error.clear()
        self.runner.run(
            lambda: self.services.agents.sign_in(agent.identifiant, pin, checked=checked),
            on_done=self.signed_in.emit,
            on_error=self._refused,
        )

    def _refused(self, exc: Exception) -> None:
        """A wrong PIN: said, and the focus back in the PIN (typed again at once; no on-screen
        keyboard comes up for it, the screen has its keypad)."""
        self.error.setText(str(exc))
        self.pin.setFocus()

    def clear_personal_data(self) -> None:
        self.pin.clear()
        self.error.clear()
        self._waiting = False
        self._checked = None
        self._submit_when_checked = False
