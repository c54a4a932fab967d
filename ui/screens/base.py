"""Common base of the screens: a title, translated text refreshed on language change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.i18n import Translator
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from ui.services import UiServices


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
        self.layout_.addWidget(self.title)
        tr.changed.connect(lambda _lang: self.retranslate())

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
