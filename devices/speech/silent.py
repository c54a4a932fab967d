"""Speech that reads nothing: no speech service on this kiosk, or reading aloud switched off in
the settings. The screens then offer no « Écouter » and the agent is told why."""

from __future__ import annotations

from collections.abc import Sequence

#: The reason given when the setting switches reading aloud off (volume 0).
SWITCHED_OFF = (
    "La lecture à voix haute est désactivée sur cette borne (réglage"
    " peripheriques.volume_lecture à 0)."
)


class SilentSpeech:
    """The ``Speech`` port, silent, with the reason it is (in French, for the agent)."""

    def __init__(self, reason: str = SWITCHED_OFF) -> None:
        self.reason = reason

    def unavailable(self, lang: str) -> str | None:
        """Always the reason: nothing can be read."""
        return self.reason

    def say(self, texts: Sequence[str], lang: str) -> None:
        """Nothing is read."""

    def speaking(self) -> bool:
        """Never."""
        return False

    def stop(self) -> None:
        """Nothing to stop."""
