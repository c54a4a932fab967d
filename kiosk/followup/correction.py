"""The correction loop: a dossier the national service sent back « à compléter » is changed at
the counter only where the service asked, then filed again.

A dossier the service has numbered (``national_number``) and sent back is a *correction*: the
service holds the rest of it, and the person must not be led to change what was not asked (a
name, a plate) under the same national number. What the service asked is its latest « à
compléter » notice's typed reasons (:mod:`kiosk.followup.reasons`):

- an answer is open when a reason names it (its path, or the ``bind`` target of its question,
  e.g. ``usager.adresse``), or when it has no answer yet (a question the change made visible
  must be answerable);
- a document is open when a reason names its kind; a notice with no document named (a service
  speaking the contract's first version: « à fournir : … » as text) opens every document, and
  no answer.

A dossier sent back as invalid before it was ever numbered (a 422 at filing) is not a
correction: the service holds nothing of it, every answer stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche
from kiosk.dossiers.errors import NotEditable
from kiosk.dossiers.states import DossierState
from kiosk.followup.reasons import Reason, legacy_reasons, reasons_from_json
from kiosk.messages import Message
from kiosk.store.models import Dossier, NationalNotice


class LockedForCorrection(NotEditable):
    """A change the national service did not ask for, in a dossier sent back « à compléter »."""


@dataclass(frozen=True)
class CorrectionScope:
    """What the national service asked to change, and so what the counter may change."""

    reasons: tuple[Reason, ...]
    deadline: date | None
    asked_at: datetime
    #: Answer paths named by a reason (an unanswered question is open besides these).
    fields: frozenset[str]
    #: Document kinds open to be attached again.
    pieces: frozenset[str]
    #: A reason could not be pinned on an answer or a document: every answer is open.
    open_all: bool = False

    def allows_answer(self, path: str, *, answered: bool) -> bool:
        """Whether the answer at ``path`` may change (``answered``: it has a value now)."""
        if self.open_all or not answered:
            return True
        return path in self.fields or _item_field(path) in self.fields

    def allows_piece(self, kind: str) -> bool:
        """Whether a document of ``kind`` may be attached."""
        return kind in self.pieces


def _item_field(path: str) -> str:
    """``coheritiers[1].nom`` → ``coheritiers.nom`` (a reason may name a group's question)."""
    head, bracket, rest = path.partition("[")
    if not bracket:
        return path
    _, _, tail = rest.partition("]")
    return head + tail


def correction_scope(s: Session, dossier: Dossier, demarche: Demarche) -> CorrectionScope | None:
    """The dossier's correction scope, or None when it is not a correction."""
    state = DossierState(dossier.state)
    if dossier.national_number is None or not state.editable:
        return None
    notice = s.scalars(
        select(NationalNotice)
        .where(
            NationalNotice.dossier_id == dossier.id,
            NationalNotice.state == DossierState.A_COMPLETER.value,
        )
        .order_by(NationalNotice.id.desc())
        .limit(1)
    ).one_or_none()
    if notice is None:
        return None
    reasons = reasons_from_json(notice.reasons) or legacy_reasons(notice.detail, ())
    kinds = {rule.kind for rule in demarche.documents}
    pieces = {r.piece for r in reasons if r.piece in kinds}
    fields: set[str] = set()
    open_all = False
    for reason in reasons:
        named = _paths_named(demarche, reason.field) if reason.field else set()
        fields |= named
        pinned = bool(named) or reason.piece in kinds
        # A document asked without naming it (the first version's « à fournir ») is pinned
        # enough: any document may be brought. Anything else unpinned opens everything.
        if not pinned and not (reason.kind.about_document and not reason.piece):
            open_all = True
    if open_all or (not pieces and not fields):
        pieces = kinds
    return CorrectionScope(
        reasons=reasons,
        deadline=notice.deadline,
        asked_at=notice.at,
        fields=frozenset(fields),
        pieces=frozenset(pieces),
        open_all=open_all,
    )


def _paths_named(demarche: Demarche, name: str) -> set[str]:
    """The question paths a reason's ``champ`` names: the path itself, or every question
    bound to it."""
    named = set()
    try:
        demarche.field_for_path(name)
    except KeyError:
        pass  # not a question's path: maybe a bind target (« usager.adresse »), below
    else:
        named.add(name)
    for step in demarche.steps:
        for field in step.fields:
            if field.bind == name or (field.bind or "").startswith(name + "."):
                named.add(field.id)
    return named


def answer_locked(reference: str) -> LockedForCorrection:
    """The refusal of a change the service did not ask for."""
    return LockedForCorrection(
        Message(
            "Le dossier {reference} a été renvoyé par le service national pour des corrections"
            " précises : seules les réponses et les pièces demandées peuvent changer.",
            reference=reference,
        )
    )


def piece_locked(reference: str, label: str) -> LockedForCorrection:
    """The refusal of a document the service did not ask for."""
    return LockedForCorrection(
        Message(
            "Le service national n'a pas demandé la pièce « {piece} » pour le dossier"
            " {reference} : seules les pièces demandées peuvent être jointes.",
            piece=label,
            reference=reference,
        )
    )
