"""The intent state machine: the table itself, and every (state, action) pair driven through the service."""
from __future__ import annotations

import pytest

from payments.errors import IllegalTransitionError
from payments.intents import FINAL_STATES, TRANSITIONS, IntentAction, IntentState, check_transition
from payments.money import Money
from payments.service import PaymentService
from tests.payments.conftest import STAFF_ID, new_key, snapshot

ACTIONS = [IntentAction.CONFIRM, IntentAction.CAPTURE, IntentAction.CANCEL, IntentAction.REFUND]

# (state, action) -> state afterwards, for every legal move the service makes with an approving token.
LEGAL = {
    (IntentState.REQUIRES_CONFIRMATION, IntentAction.CONFIRM): IntentState.AUTHORIZED,
    (IntentState.REQUIRES_CONFIRMATION, IntentAction.CANCEL): IntentState.CANCELLED,
    (IntentState.AUTHORIZED, IntentAction.CAPTURE): IntentState.CAPTURED,
    (IntentState.AUTHORIZED, IntentAction.CANCEL): IntentState.CANCELLED,
    (IntentState.CAPTURED, IntentAction.REFUND): IntentState.PARTIALLY_REFUNDED,
    (IntentState.PARTIALLY_REFUNDED, IntentAction.REFUND): IntentState.PARTIALLY_REFUNDED,
}
ILLEGAL = [(state, action) for state in IntentState for action in ACTIONS if (state, action) not in LEGAL]


def test_table_has_every_state_and_final_states_allow_nothing() -> None:
    assert set(TRANSITIONS) == set(IntentState)
    assert FINAL_STATES == {IntentState.CANCELLED, IntentState.FAILED, IntentState.REFUNDED}
    assert {(s, a) for s, moves in TRANSITIONS.items() for a in moves} == set(LEGAL)


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_check_transition_refuses(state: IntentState, action: IntentAction) -> None:
    with pytest.raises(IllegalTransitionError, match=f"cannot {action.value} intent pi_x: it is {state.value}"):
        check_transition("pi_x", state, action)


def test_check_transition_refuses_an_unreachable_target() -> None:
    with pytest.raises(IllegalTransitionError):
        check_transition("pi_x", IntentState.AUTHORIZED, IntentAction.CAPTURE, IntentState.REFUNDED)


def _act(service: PaymentService, intent_id: str, action: IntentAction):  # type: ignore[no-untyped-def]
    key = new_key(action.value)
    if action is IntentAction.REFUND:
        return service.refund(intent_id, key=key, amount=Money.parse("1.00", "CNY"), staff_id=STAFF_ID)
    return {IntentAction.CONFIRM: service.confirm, IntentAction.CAPTURE: service.capture,
            IntentAction.CANCEL: service.cancel}[action](intent_id, key=key)


def _intent_in(request: pytest.FixtureRequest, state: IntentState):  # type: ignore[no-untyped-def]
    if state is IntentState.REQUIRES_CONFIRMATION:
        return request.getfixturevalue("make_intent")()
    return request.getfixturevalue(f"{state.value}_intent")


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
def test_service_makes_legal_moves(
    request: pytest.FixtureRequest, service: PaymentService, state: IntentState, action: IntentAction
) -> None:
    intent = _intent_in(request, state)
    assert intent.state is state
    after = _act(service, intent.intent_id, action)
    assert after.state is LEGAL[(state, action)]
    assert service.get(intent.intent_id).state is after.state


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_service_refuses_illegal_moves_and_changes_nothing(
    request: pytest.FixtureRequest, service: PaymentService, state: IntentState, action: IntentAction
) -> None:
    intent = _intent_in(request, state)
    before = snapshot(service.engine)
    with pytest.raises(IllegalTransitionError, match=state.value):
        _act(service, intent.intent_id, action)
    assert snapshot(service.engine) == before
