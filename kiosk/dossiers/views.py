"""Frozen snapshots of dossiers handed to the CLI and the UI (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.dossiers.states import DossierState


@dataclass(frozen=True)
class DossierSummary:
    """One line of a list of dossiers."""

    id: str
    reference: str
    demarche_id: str
    demarche_version: int
    demarche_title: str
    state: DossierState
    created_at: datetime
    updated_at: datetime
    usager: str | None
    immatriculation: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, for ``--json`` output."""
        return {
            "id": self.id,
            "reference": self.reference,
            "demarche": self.demarche_id,
            "version": self.demarche_version,
            "titre": self.demarche_title,
            "etat": self.state.value,
            "cree_le": self.created_at.isoformat(),
            "modifie_le": self.updated_at.isoformat(),
            "usager": self.usager,
            "immatriculation": self.immatriculation,
        }


@dataclass(frozen=True)
class Missing:
    """A mandatory answer not given yet, with the message shown beside the field."""

    path: str
    message: str


@dataclass(frozen=True)
class Document:
    """A supporting document the démarche requires, and whether it was provided."""

    kind: str
    label: str
    provided: bool
    item_path: str | None = None


@dataclass(frozen=True)
class JournalEntry:
    """One entry of the dossier's event journal."""

    at: datetime
    kind: str
    from_state: DossierState | None
    to_state: DossierState | None
    detail: Any


@dataclass(frozen=True)
class DossierView:
    """Everything an agent sees of one dossier."""

    summary: DossierSummary
    answers: dict[str, Any]
    missing: tuple[Missing, ...]
    documents: tuple[Document, ...]
    journal: tuple[JournalEntry, ...]
    routage: str
    contact_mode: str | None
    national_number: str | None
    state_reason: str | None
    training: bool
    telephone: str | None = None
    adresse: Any = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every mandatory answer is given (documents may still be missing)."""
        return not self.missing

    @property
    def missing_documents(self) -> tuple[Document, ...]:
        """The required documents not provided yet."""
        return tuple(d for d in self.documents if not d.provided)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, for ``--json`` output."""
        return {
            **self.summary.to_json(),
            "routage": self.routage,
            "contact": self.contact_mode,
            "numero_national": self.national_number,
            "motif": self.state_reason,
            "formation": self.training,
            "reponses": self.answers,
            "manquant": [{"champ": m.path, "message": m.message} for m in self.missing],
            "pieces": [
                {"type": d.kind, "libelle": d.label, "pour": d.item_path, "fournie": d.provided}
                for d in self.documents
            ],
            "journal": [
                {
                    "le": e.at.isoformat(),
                    "type": e.kind,
                    "de": e.from_state.value if e.from_state else None,
                    "vers": e.to_state.value if e.to_state else None,
                    "detail": e.detail,
                }
                for e in self.journal
            ],
        }
