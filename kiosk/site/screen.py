"""How long the touchscreen waits without a touch before it warns, then clears itself: set by
a supervisor for the site (a counter where people read slowly, or need help to, wants longer;
WCAG 2.2.1 « Timing Adjustable »), kept in the store like the counter's details.

The warning always offers « Je suis encore là » (the person extends the time with one tap);
the supervisor chooses the delays within bounds that keep the previous person's data from
staying on an unattended screen for long.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.engine import Store
from kiosk.store.models import Setting

if TYPE_CHECKING:
    from kiosk.security.agents import AgentInfo

_KEY = "ecran.inactivite"

#: Without a touch, from 30 seconds to 30 minutes before the warning.
IDLE_SECONDS = (30, 1800)
#: The warning's count-down, from 10 seconds to 3 minutes.
WARNING_SECONDS = (10, 180)


@dataclass(frozen=True)
class InactivityDelays:
    """The time without a touch before the warning, and the warning's count-down, in seconds."""

    idle_seconds: int = 120
    warning_seconds: int = 30

    def __post_init__(self) -> None:
        low, high = IDLE_SECONDS
        if not low <= self.idle_seconds <= high:
            raise ValueError(
                f"Le délai sans geste avant l'avertissement va de {low} secondes à"
                f" {high // 60} minutes (demandé : {self.idle_seconds} s)."
            )
        low, high = WARNING_SECONDS
        if not low <= self.warning_seconds <= high:
            raise ValueError(
                f"Le compte à rebours de l'avertissement va de {low} secondes à"
                f" {high // 60} minutes (demandé : {self.warning_seconds} s)."
            )


class ScreenSettings:
    """Reads and writes the site's inactivity delays."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self) -> InactivityDelays:
        """The delays in force: the saved ones, else the defaults."""
        return self.chosen() or InactivityDelays()

    def chosen(self) -> InactivityDelays | None:
        """The delays a supervisor saved; None if none were, or if the saved ones are unusable
        (a value out of bounds written by hand: the screen must still lock, with the kiosk's
        own delays)."""
        with self._store.read() as s:
            row = s.get(Setting, _KEY)
            value = row.value if row is not None else None
        if value is None:
            return None
        try:
            data = json.loads(value)
            return InactivityDelays(int(data["idle_seconds"]), int(data["warning_seconds"]))
        except (ValueError, TypeError, KeyError):
            return None

    def set(self, delays: InactivityDelays, *, by: AgentInfo | None = None) -> None:
        """Save the delays (one transaction, with its audit entry); ``by`` is the signed-in
        supervisor, ``None`` the console.

        Raises:
            PermissionError: ``by`` is not a supervisor (message in French).
        """
        if by is not None and not by.supervisor:
            raise PermissionError("Seul un superviseur peut modifier les délais de l'écran.")
        value = json.dumps(
            {"idle_seconds": delays.idle_seconds, "warning_seconds": delays.warning_seconds}
        )
        with self._store.write() as s:
            row = s.get(Setting, _KEY)
            if row is None:
                s.add(Setting(key=_KEY, value=value))
            else:
                row.value = value
            audit(
                s,
                AuditAction.SETTINGS_CHANGED,
                at=datetime.now(UTC),
                agent_id=by.id if by else None,
                detail={
                    "par": by.identifiant if by else "console",
                    "reglage": _KEY,
                    "delai_s": delays.idle_seconds,
                    "avertissement_s": delays.warning_seconds,
                },
            )
