"""The screen of a kiosk withdrawn from service (a lost or stolen tablet revoked by a supervisor):
one plain French sentence, in the screen's language, and no way back to any dossier.

Shown as soon as the national service says the kiosk was revoked (its keys are then destroyed:
kiosk/security/revocation.py), and at every start after (the store no longer opens).
"""

from __future__ import annotations

from ui.i18n import Translator
from ui.screens.base import Screen
from ui.tasks import TaskRunner


class RetiredScreen(Screen):
    """« Cette borne a été retirée du service… contactez votre superviseur »."""

    def __init__(self, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.text = self.add_label("error")
        self.layout_.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("retired.title"))
        self.text.setText(self.tr_.t("retired.text"))
