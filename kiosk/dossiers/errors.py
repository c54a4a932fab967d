"""Errors the dossier service raises; every message is plain French for the agent.

The ones the person can meet on the review and receipt screens are given as a
:class:`~kiosk.messages.Message`, so :meth:`DossierError.localized` shows them in their language.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.dossiers.views import Missing
from kiosk.messages import LocalizedError, Message


class DossierError(LocalizedError):
    """Base class: ``str(exc)`` is the message to show, in French.

    Args:
        message: a translatable :class:`Message`, or French text shown as is in every language.
    """


class DossierNotFound(DossierError):
    """No dossier has this reference on this kiosk."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            Message("Aucun dossier « {reference} » sur cette borne.", reference=reference)
        )
        self.reference = reference


class UnknownDemarche(DossierError):
    """The démarche id (or pinned version) is not in the catalogue."""


class UnknownField(DossierError):
    """The démarche has no such question."""


class NotEditable(DossierError):
    """The dossier has left the counter: its answers can no longer change."""


class AlreadyFiled(NotEditable):
    """Filing a dossier that has already left the counter (a second tap, another counter)."""


class Incomplete(DossierError):
    """Validation found mandatory answers missing."""

    def __init__(self, missing: Sequence[Missing]) -> None:
        lines = "\n".join(f"  - {m.path} : {m.message}" for m in missing)
        super().__init__(f"Le dossier n'est pas complet :\n{lines}")
        self.missing = tuple(missing)


class MandateRequired(DossierError):
    """The dossier cannot be filed: its mandate is not signed, has ended or names someone else."""
