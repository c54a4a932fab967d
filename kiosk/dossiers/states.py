"""The life cycle of a dossier, as one explicit state machine.

    brouillon ──► prêt ──► en file ──► transmis ──► accepté
        ▲  │        │          │           ├──────► refusé
        │  │        │          │           └──────► à compléter ──► (prêt, brouillon)
        │  │        │          └─────────────────► à compléter (refused as invalid by the API)
        └──┼────────┘ (an answer changed after validation)
           └──► abandonné (from any state where the person is still at the counter)

    transmis ──► en attente de paiement ──► payé ──► accepté, refusé, à compléter
        └───────────────────────────────────►┘ (a timbre accepted before the service asked)

« En attente de paiement » (the ANTS's own words) and « payé » come from the national decisions
feed; « payé » also from a timbre fiscal the service accepted for the whole amount
(kiosk/dossiers/payment.py). A refusal or a dossier sent back « à compléter » can still come while
the payment waits.

Every transition not listed here raises :class:`IllegalTransition`.
"""

from __future__ import annotations

from enum import StrEnum

from kiosk.messages import LocalizedError, Message


class DossierState(StrEnum):
    """States of a dossier; the values are stored in the database."""

    BROUILLON = "brouillon"
    PRET = "pret"
    EN_FILE = "en_file"
    TRANSMIS = "transmis"
    ACCEPTE = "accepte"
    REFUSE = "refuse"
    A_COMPLETER = "a_completer"
    ABANDONNE = "abandonne"
    #: 16 characters, the width of the state columns (``en_attente_paiement`` would not fit).
    ATTENTE_PAIEMENT = "attente_paiement"
    PAYE = "paye"

    @property
    def label(self) -> str:
        """The name an agent reads on screen and on the receipt."""
        return _LABELS[self]

    @property
    def editable(self) -> bool:
        """Whether answers may still change (the person is at, or back at, the counter)."""
        return self in _EDITABLE

    @property
    def final(self) -> bool:
        """Whether the national service has given its last word (or the dossier was dropped)."""
        return self in _FINAL


_LABELS = {
    DossierState.BROUILLON: "brouillon",
    DossierState.PRET: "prêt",
    DossierState.EN_FILE: "en file d'envoi",
    DossierState.TRANSMIS: "transmis",
    DossierState.ACCEPTE: "accepté",
    DossierState.REFUSE: "refusé",
    DossierState.A_COMPLETER: "à compléter",
    DossierState.ABANDONNE: "abandonné",
    DossierState.ATTENTE_PAIEMENT: "en attente de paiement",
    DossierState.PAYE: "payé",
}

#: States after the national service acknowledged the filing and before its last word.
ACKNOWLEDGED_STATES = frozenset(
    {DossierState.TRANSMIS, DossierState.ATTENTE_PAIEMENT, DossierState.PAYE}
)
_EDITABLE = frozenset({DossierState.BROUILLON, DossierState.PRET, DossierState.A_COMPLETER})
_FINAL = frozenset({DossierState.ACCEPTE, DossierState.REFUSE, DossierState.ABANDONNE})

TRANSITIONS: dict[DossierState, frozenset[DossierState]] = {
    DossierState.BROUILLON: frozenset({DossierState.PRET, DossierState.ABANDONNE}),
    DossierState.PRET: frozenset(
        {DossierState.BROUILLON, DossierState.EN_FILE, DossierState.ABANDONNE}
    ),
    DossierState.EN_FILE: frozenset({DossierState.TRANSMIS, DossierState.A_COMPLETER}),
    DossierState.TRANSMIS: frozenset(
        {
            DossierState.ACCEPTE,
            DossierState.REFUSE,
            DossierState.A_COMPLETER,
            DossierState.ATTENTE_PAIEMENT,
            DossierState.PAYE,
        }
    ),
    DossierState.ATTENTE_PAIEMENT: frozenset(
        {DossierState.PAYE, DossierState.REFUSE, DossierState.A_COMPLETER}
    ),
    DossierState.PAYE: frozenset(
        {DossierState.ACCEPTE, DossierState.REFUSE, DossierState.A_COMPLETER}
    ),
    DossierState.A_COMPLETER: frozenset(
        {DossierState.BROUILLON, DossierState.PRET, DossierState.ABANDONNE}
    ),
    DossierState.ACCEPTE: frozenset(),
    DossierState.REFUSE: frozenset(),
    DossierState.ABANDONNE: frozenset(),
}


class IllegalTransition(LocalizedError):
    """A change of state the life cycle does not allow; the message is in French.

    :meth:`localized` gives it in the person's language; the states' names stay French (the words
    printed on the receipt and used by the agents).
    """

    def __init__(self, current: DossierState, target: DossierState) -> None:
        self.current = current
        self.target = target
        allowed = ", ".join(sorted(s.label for s in TRANSITIONS[current]))
        if allowed:
            reason = Message(
                "Un dossier « {current} » ne peut pas passer à « {target} »"
                " (états possibles : {allowed}).",
                current=current.label,
                target=target.label,
                allowed=allowed,
            )
        else:
            reason = Message(
                "Un dossier « {current} » ne peut pas passer à « {target} »"
                " (états possibles : aucun).",
                current=current.label,
                target=target.label,
            )
        super().__init__(reason)


def check_transition(current: DossierState, target: DossierState) -> None:
    """Raise :class:`IllegalTransition` unless ``current → target`` is allowed."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
