"""Common base of the screens: a title, translated text refreshed on language change."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.i18n import Translator
from ui.services import UiServices
from ui.tasks import TaskRunner


class Screen(QWidget):
    """A full-window page of the flow."""

    def __init__(self, services: UiServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__()
        self.setObjectName("screen")
        self.services = services
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

    def retranslate(self) -> None:
        """Refresh every translated text (called on language change)."""

    def clear_personal_data(self) -> None:
        """Forget anything about the current person (inactivity lock, sign-out)."""
