"""The reader service the UI calls, as a Protocol: the real PC/SC reader and tests both fit it.

Threading contract (the UI must respect it):

- ``read`` blocks for up to a few seconds (card I/O): call it from a worker thread, never from
  the UI thread. ``progress`` is called on that same worker thread.
- ``watch`` calls ``on_event`` from the reader's own monitoring thread. The callback must only
  hand the event on (e.g. emit a queued Qt signal); it must never touch a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kiosk.identity.model import AccessKey, IdentityReading

#: ``progress(step, fraction)``: a short French label and 0.0 … 1.0 for a progress bar.
ProgressCallback = Callable[[str, float], None]


class CardEventKind(StrEnum):
    """A card appeared on, or left, a reader."""

    PRESENT = "present"
    REMOVED = "removed"


@dataclass(frozen=True)
class CardEvent:
    """One card event, with the reader's name."""

    kind: CardEventKind
    reader: str


class IdentityReader(Protocol):
    """Reads and verifies an identity document's chip."""

    def readers(self) -> list[str]:
        """Names of the connected readers (empty when none); raises ``NoReader`` if no service."""
        ...

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        """Read and verify the document on the reader (blocking: call from a worker thread).

        Raises an ``IdentityError`` (``NoReader``, ``NoCard``, ``WrongCan``, ``CardBlocked``,
        ``CardRemoved``, ``UnreadableCard``…) whose message is shown in the person's language
        (``localized``; ``str()`` is the French one for the agent). A link lost while the
        card stays on the reader is not reported: the read goes on, in the same secure session
        where the card kept it. After ``CardRemoved``, calling ``read`` again once the card is
        back resumes: files already read from the same document are not read again.
        """
        ...

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        """Call ``on_event`` (from a monitoring thread) on every card insertion or removal.

        Returns a function that stops the watching.
        """
        ...
