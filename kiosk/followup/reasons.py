"""Why the national service sent a dossier back, typed: what is missing or wrong, and where.

The contract's decisions feed (``/v1/changements``, ``motifs``) and a 422 refusal's field errors
both become :class:`Reason` values. They say what the agent must ask the person for, what the
correction loop unlocks (the answers named by ``field``, the documents named by ``piece``) and
what the letter and the text message say. Stored as JSON on the notice (``avis_national.motifs``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ReasonKind(StrEnum):
    """The kinds of reasons the contract names (``Motif.type``)."""

    PIECE_MANQUANTE = "piece_manquante"
    PIECE_INCORRECTE = "piece_incorrecte"
    PIECE_PERIMEE = "piece_perimee"
    CHAMP_INCORRECT = "champ_incorrect"
    AUTRE = "autre"

    @property
    def label(self) -> str:
        """The kind as the agent reads it."""
        return _LABELS[self]

    @property
    def about_document(self) -> bool:
        """Whether the person must bring a document."""
        return self in (
            ReasonKind.PIECE_MANQUANTE,
            ReasonKind.PIECE_INCORRECTE,
            ReasonKind.PIECE_PERIMEE,
        )


_LABELS = {
    ReasonKind.PIECE_MANQUANTE: "pièce manquante",
    ReasonKind.PIECE_INCORRECTE: "pièce incorrecte",
    ReasonKind.PIECE_PERIMEE: "pièce périmée",
    ReasonKind.CHAMP_INCORRECT: "information incorrecte",
    ReasonKind.AUTRE: "autre motif",
}

#: Bounds on what is kept from outside (the feed is the national service's, but a bug there must
#: not fill the kiosk's database).
MAX_REASONS = 50
MAX_TEXT = 500
MAX_NAME = 200


@dataclass(frozen=True)
class Reason:
    """One thing the national service asks for.

    Attributes:
        kind: what is wrong.
        message: the service's words, in French, for the agent and the letter.
        piece: the démarche's document id concerned (``justificatif_domicile``), if any.
        field: the answer path concerned (``adresse.code_postal``), if any.
    """

    kind: ReasonKind
    message: str
    piece: str | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's ``Motif`` object (also how it is stored)."""
        out: dict[str, Any] = {"type": self.kind.value, "message": self.message}
        if self.piece:
            out["piece"] = self.piece
        if self.field:
            out["champ"] = self.field
        return out

    @classmethod
    def from_json(cls, data: Any) -> Reason | None:
        """A reason from its JSON form; ``None`` for anything unusable (never raises).

        An unknown ``type`` is read as ``autre`` (a newer service may add kinds): its message
        still reaches the agent.
        """
        if not isinstance(data, dict):
            return None
        message = data.get("message")
        if not isinstance(message, str) or not message.strip():
            return None
        kind_value = data.get("type")
        try:
            kind = ReasonKind(kind_value) if isinstance(kind_value, str) else ReasonKind.AUTRE
        except ValueError:
            kind = ReasonKind.AUTRE
        return cls(
            kind=kind,
            message=_clip(message, MAX_TEXT),
            piece=_name(data.get("piece")),
            field=_name(data.get("champ")),
        )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    name = value.strip()
    if not name or len(name) > MAX_NAME or len(name.split()) != 1:  # no space inside
        return None
    return name


def reasons_from_json(data: Any) -> tuple[Reason, ...]:
    """Every usable reason of a JSON list (the rest skipped), at most :data:`MAX_REASONS`."""
    if not isinstance(data, list):
        return ()
    out = []
    for item in data[:MAX_REASONS]:
        reason = Reason.from_json(item)
        if reason is not None:
            out.append(reason)
    return tuple(out)


def reasons_to_json(reasons: Iterable[Reason]) -> list[dict[str, Any]]:
    """The JSON list stored on a notice."""
    return [r.to_json() for r in reasons]


def legacy_reasons(reason: str | None, missing: Iterable[str]) -> tuple[Reason, ...]:
    """Typed reasons from an untyped decision (a service speaking the contract's first version).

    Each « à fournir » line is a missing document with no document id; the free text, when
    nothing else is given, is « autre »."""
    out = [Reason(ReasonKind.PIECE_MANQUANTE, _clip(m, MAX_TEXT)) for m in missing if m.strip()]
    if reason and reason.strip() and not out:
        out.append(Reason(ReasonKind.AUTRE, _clip(reason, MAX_TEXT)))
    return tuple(out)
