"""Kiosk-wide settings kept in the store: today, the counter's details printed on receipts."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.engine import Store
from kiosk.store.models import Setting

if TYPE_CHECKING:
    from kiosk.security.agents import AgentInfo

_COUNTER_KEY = "guichet"


@dataclass(frozen=True)
class CounterDetails:
    """Who the person comes back to: printed at the foot of every receipt."""

    name: str = "Point numérique"
    address: tuple[str, ...] = ()
    phone: str = ""
    hours: str = ""

    @property
    def configured(self) -> bool:
        """Whether an agent has entered the counter's address and phone number."""
        return bool(self.address and self.phone)


class CounterSettings:
    """Reads and writes the counter's details."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self) -> CounterDetails:
        """The saved details, or the defaults if none were saved."""
        with self._store.read() as s:
            row = s.get(Setting, _COUNTER_KEY)
            if row is None:
                return CounterDetails()
            data = json.loads(row.value)
            return CounterDetails(
                name=str(data.get("name", CounterDetails.name)),
                address=tuple(str(line) for line in data.get("address", ())),
                phone=str(data.get("phone", "")),
                hours=str(data.get("hours", "")),
            )

    def set(self, details: CounterDetails, *, by: AgentInfo | None = None) -> None:
        """Save the details (one transaction, with its audit entry).

        ``by`` is the signed-in supervisor; ``None`` is the console (``kiosk guichet``).

        Raises:
            PermissionError: ``by`` is not a supervisor (message in French).
            ValueError: a control or invisible character in a detail (message in French).
        """
        if by is not None and not by.supervisor:
            raise PermissionError("Seul un superviseur peut modifier les réglages du guichet.")
        for text in (details.name, *details.address, details.phone, details.hours):
            for char in text:
                # Printed on every receipt: a NUL or a bidi override there is a forged line.
                if unicodedata.category(char) in {"Cc", "Cf", "Cs"}:
                    raise ValueError(
                        "Les coordonnées du guichet contiennent un caractère invisible ou de"
                        f" contrôle (U+{ord(char):04X}) : retapez-les au clavier."
                    )
        value = json.dumps(asdict(details), ensure_ascii=False)
        with self._store.write() as s:
            row = s.get(Setting, _COUNTER_KEY)
            if row is None:
                s.add(Setting(key=_COUNTER_KEY, value=value))
            else:
                row.value = value
            audit(
                s,
                AuditAction.SETTINGS_CHANGED,
                at=datetime.now(UTC),
                agent_id=by.id if by else None,
                detail={"par": by.identifiant if by else "console", "reglage": _COUNTER_KEY},
            )
