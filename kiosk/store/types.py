"""Column types shared by the models: aware UTC timestamps and JSON values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.types import String, Text, TypeDecorator

from kiosk.store.engine import StoreError


class UnreadableValue(StoreError):
    """A value in the database is not one the kiosk wrote (a timestamp that is no timestamp,
    JSON that is no JSON): the file was edited by hand or damaged. The message says so in French
    instead of a traceback; nothing is changed by reading it."""

    def __init__(self, kind: str, value: object = None) -> None:
        """``value`` is shown (cut to 40 characters) where it cannot be personal data: a
        timestamp's text yes, an answer's JSON no."""
        shown = ""
        if value is not None:
            text = str(value)
            shown = f" (« {text if len(text) <= 40 else text[:39] + '…'} »)"
        super().__init__(
            f"La base de données contient {kind} illisible{shown} : elle a été modifiée hors de"
            " la borne ou abîmée. Rien n'a été changé ; prévenez le support, qui peut la"
            " restaurer depuis une sauvegarde."
        )


_STAMP_LENGTH = len("2026-01-01T00:00:00.000000Z")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, stored as ISO 8601 text that sorts chronologically.

    SQLite has no timestamp type; SQLAlchemy's default drops the offset. We refuse naive values
    so that a local-time bug cannot slip in silently.
    """

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # The exact shape written above (27 characters, « Z »), then the C parser: strptime
        # costs ~12 µs a value, which a list of thousands of dossiers feels.
        if not isinstance(value, str) or len(value) != _STAMP_LENGTH or value[-1] != "Z":
            raise UnreadableValue("une date", value)
        try:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        except ValueError:  # garbage text of the right length
            raise UnreadableValue("une date", value) from None


class JSONText(TypeDecorator[Any]):
    """A JSON value stored as compact UTF-8 text (keys sorted so equal values compare equal)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise UnreadableValue("une valeur") from None
