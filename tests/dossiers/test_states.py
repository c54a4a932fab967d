"""The dossier life cycle: allowed transitions pass, every other one raises."""

from __future__ import annotations

import itertools

import pytest

from kiosk.dossiers.states import TRANSITIONS, DossierState, IllegalTransition, check_transition

S = DossierState

ALLOWED = {
    (S.BROUILLON, S.PRET),
    (S.BROUILLON, S.ABANDONNE),
    (S.PRET, S.BROUILLON),
    (S.PRET, S.EN_FILE),
    (S.PRET, S.ABANDONNE),
    (S.EN_FILE, S.TRANSMIS),
    (S.EN_FILE, S.A_COMPLETER),
    (S.TRANSMIS, S.ACCEPTE),
    (S.TRANSMIS, S.REFUSE),
    (S.TRANSMIS, S.A_COMPLETER),
    # Paying (issue 15): the service asks for the payment, then says it is paid; a timbre
    # accepted for the whole amount may come first.
    (S.TRANSMIS, S.ATTENTE_PAIEMENT),
    (S.TRANSMIS, S.PAYE),
    (S.ATTENTE_PAIEMENT, S.PAYE),
    (S.ATTENTE_PAIEMENT, S.REFUSE),
    (S.ATTENTE_PAIEMENT, S.A_COMPLETER),
    (S.PAYE, S.ACCEPTE),
    (S.PAYE, S.REFUSE),
    (S.PAYE, S.A_COMPLETER),
    (S.A_COMPLETER, S.BROUILLON),
    (S.A_COMPLETER, S.PRET),
    (S.A_COMPLETER, S.ABANDONNE),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_only_the_documented_transitions_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


def test_the_table_has_no_transition_the_test_does_not_know() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


def test_final_states_lead_nowhere_and_say_so_in_french() -> None:
    for state in (S.ACCEPTE, S.REFUSE, S.ABANDONNE):
        assert state.final
        with pytest.raises(IllegalTransition, match="états possibles : aucun"):
            check_transition(state, S.BROUILLON)


def test_a_sent_dossier_cannot_be_abandoned_at_the_counter() -> None:
    with pytest.raises(IllegalTransition, match="« transmis » ne peut pas passer à « abandonné »"):
        check_transition(S.TRANSMIS, S.ABANDONNE)
