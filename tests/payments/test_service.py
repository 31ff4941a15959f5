"""The payment service end to end on a real database and the sandbox network: idempotent replays of
every call, step-up and PINs, declines, lost answers that must be reconciled (never charged twice),
concurrent double taps, refunds, and bad input that changes nothing.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from payments import ledger
from payments.errors import (
    CurrencyMismatchError,
    GatewayTimeoutError,
    IdempotencyKeyReusedError,
    IllegalTransitionError,
    IntentNotFoundError,
    InvalidAmountError,
    InvalidPaymentRequestError,
    MoneyError,
    PaymentDeclinedError,
    PinRejectedError,
    RefundExceedsCaptureError,
    StaffNotAuthorizedError,
    StepUpRequiredError,
    UnknownCurrencyError,
    UnknownGatewayError,
)
from payments.gateways import GatewayOperation, SandboxGateway
from payments.intents import IntentState, PaymentIntent
from payments.money import Money
from payments.service import PaymentService
from tests.payments.conftest import PIN, SHOPPER, STAFF_ID, STORE, new_key, snapshot

MakeIntent = Callable[..., PaymentIntent]


def _books_balanced(service: PaymentService) -> bool:
    with service.engine.connect() as conn:
        return ledger.check_books(conn).balanced


def _operations(sandbox: SandboxGateway, token: str, operation: GatewayOperation) -> int:
    return sum(1 for txn in sandbox.transactions(token=token) if txn.operation is operation and txn.approved)


# ---------------------------------------------------------------------------- idempotent replays


def test_create_replay_returns_the_same_intent(service: PaymentService) -> None:
    args = dict(amount=Money.parse("599.00", "CNY"), payment_token="tok_visa_approve", cart_id="cart-9",
                store_id=STORE, shopper_id=SHOPPER)
    first = service.create_intent(key="create-same", **args)  # type: ignore[arg-type]
    again = service.create_intent(key="create-same", **args)  # type: ignore[arg-type]
    assert again == first
    with pytest.raises(IdempotencyKeyReusedError, match="create-same"):
        service.create_intent(key="create-same", **{**args, "amount": Money.parse("1.00", "CNY")})  # type: ignore[arg-type]


def test_confirm_capture_replays_charge_once(service: PaymentService, sandbox: SandboxGateway,
                                             make_intent: MakeIntent) -> None:
    intent = make_intent()
    confirmed = service.confirm(intent.intent_id, key="tap-confirm")
    assert service.confirm(intent.intent_id, key="tap-confirm") == confirmed
    captured = service.capture(intent.intent_id, key="tap-capture")
    assert service.capture(intent.intent_id, key="tap-capture") == captured
    assert service.confirm(intent.intent_id, key="tap-confirm") == confirmed  # the stored answer, not the state now
    assert _operations(sandbox, "tok_visa_approve", GatewayOperation.AUTHORIZE) == 1
    assert sandbox.net_charged("tok_visa_approve", "CNY") == Money.parse("599.00", "CNY")
    with pytest.raises(IdempotencyKeyReusedError):
        service.confirm(intent.intent_id, key="tap-confirm", pin=PIN)


def test_cancel_and_refund_replays(service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent,
                                   captured_intent: PaymentIntent) -> None:
    authorized = service.confirm(make_intent().intent_id, key=new_key())
    cancelled = service.cancel(authorized.intent_id, key="k-cancel")
    assert service.cancel(authorized.intent_id, key="k-cancel") == cancelled
    assert _operations(sandbox, "tok_visa_approve", GatewayOperation.VOID) == 1
    ten = Money.parse("10.00", "CNY")
    refunded = service.refund(captured_intent.intent_id, key="k-refund", amount=ten, staff_id=STAFF_ID)
    assert service.refund(captured_intent.intent_id, key="k-refund", amount=ten, staff_id=STAFF_ID) == refunded
    assert service.get(captured_intent.intent_id).refunded == ten
    assert _operations(sandbox, "tok_visa_approve", GatewayOperation.REFUND) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        service.refund(captured_intent.intent_id, key="k-refund", amount=Money.parse("11.00", "CNY"), staff_id=STAFF_ID)


def test_a_decline_replays_as_the_same_error(service: PaymentService, sandbox: SandboxGateway,
                                             make_intent: MakeIntent) -> None:
    intent = make_intent(token="tok_decline_insufficient_funds")
    for _ in range(2):
        with pytest.raises(PaymentDeclinedError, match="insufficient_funds") as info:
            service.confirm(intent.intent_id, key="declined-once")
        assert info.value.decline_code == "insufficient_funds"
    assert len(sandbox.transactions(token="tok_decline_insufficient_funds")) == 1
    assert service.get(intent.intent_id).state is IntentState.FAILED


def test_concurrent_double_tap_with_one_key_charges_once(service: PaymentService, sandbox: SandboxGateway,
                                                          make_intent: MakeIntent) -> None:
    intent = service.confirm(make_intent().intent_id, key=new_key())
    results: list[object] = []
    barrier = threading.Barrier(2)

    def tap() -> None:
        barrier.wait()
        try:
            results.append(service.capture(intent.intent_id, key="double-tap"))
        except MoneyError as exc:
            results.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2 and all(isinstance(r, PaymentIntent) for r in results), results
    assert results[0] == results[1]
    assert sandbox.net_charged("tok_visa_approve", "CNY") == intent.amount
    assert _operations(sandbox, "tok_visa_approve", GatewayOperation.CAPTURE) == 1
    assert _books_balanced(service)


def test_concurrent_taps_with_different_keys_still_capture_once(service: PaymentService, sandbox: SandboxGateway,
                                                                 make_intent: MakeIntent) -> None:
    intent = service.confirm(make_intent().intent_id, key=new_key())
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def tap(key: str) -> None:
        barrier.wait()
        try:
            outcomes.append(service.capture(intent.intent_id, key=key).state)
        except MoneyError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=tap, args=(f"tap-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count(IntentState.CAPTURED) == 1, outcomes
    assert set(outcomes) - {IntentState.CAPTURED} <= {"IntentBusyError", "IllegalTransitionError"}
    assert sandbox.net_charged("tok_visa_approve", "CNY") == intent.amount


# ---------------------------------------------------------------------------- step-up and PIN


def test_above_the_limit_confirm_needs_the_pin(service: PaymentService, make_intent: MakeIntent) -> None:
    intent = make_intent(amount="1500.00")
    before = snapshot(service.engine)
    with pytest.raises(StepUpRequiredError, match="PIN"):
        service.confirm(intent.intent_id, key="no-pin")
    assert snapshot(service.engine) == before
    assert service.confirm(intent.intent_id, key="with-pin", pin=PIN).state is IntentState.AUTHORIZED


def test_a_close_face_match_needs_the_pin_even_below_the_limit(service: PaymentService, make_intent: MakeIntent) -> None:
    intent = make_intent(amount="20.00")
    with pytest.raises(StepUpRequiredError):
        service.confirm(intent.intent_id, key=new_key(), face_match_close=True)
    assert service.confirm(intent.intent_id, key=new_key(), face_match_close=True, pin=PIN).state is IntentState.AUTHORIZED


def test_wrong_pins_are_limited(service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent) -> None:
    intent = make_intent(amount="1500.00")
    for left in (2, 1):
        with pytest.raises(PinRejectedError, match=f"{left} attempt") as info:
            service.confirm(intent.intent_id, key=new_key(), pin="0000")
        assert info.value.attempts_left == left
    with pytest.raises(PinRejectedError, match="payment has failed"):
        service.confirm(intent.intent_id, key=new_key(), pin="9999")
    failed = service.get(intent.intent_id)
    assert (failed.state, failed.failure_code, failed.pin_failures) == (IntentState.FAILED, "pin_attempts_exceeded", 3)
    assert sandbox.transactions() == []
    with pytest.raises(IllegalTransitionError, match="it is failed"):
        service.confirm(intent.intent_id, key=new_key(), pin=PIN)


def test_issuer_step_up_token_asks_for_pin_then_approves(service: PaymentService, sandbox: SandboxGateway,
                                                          make_intent: MakeIntent) -> None:
    intent = make_intent(amount="20.00", token="tok_step_up")
    with pytest.raises(StepUpRequiredError, match="issuer"):
        service.confirm(intent.intent_id, key=new_key())
    asked = service.get(intent.intent_id)
    assert asked.state is IntentState.REQUIRES_CONFIRMATION and asked.step_up_required
    with pytest.raises(StepUpRequiredError):  # the flag sticks: without a PIN it stays put
        service.confirm(intent.intent_id, key=new_key())
    assert service.confirm(intent.intent_id, key=new_key(), pin=PIN).state is IntentState.AUTHORIZED
    assert _operations(sandbox, "tok_step_up", GatewayOperation.AUTHORIZE) == 1


# ---------------------------------------------------------------------------- declines, timeouts, lost answers


@pytest.mark.parametrize(("token", "code"), [("tok_decline_insufficient_funds", "insufficient_funds"),
                                             ("tok_decline_do_not_honour", "do_not_honour"),
                                             ("tok_not_a_test_card", "invalid_token")])
def test_declines_fail_the_intent(service: PaymentService, make_intent: MakeIntent, token: str, code: str) -> None:
    intent = make_intent(token=token)
    with pytest.raises(PaymentDeclinedError, match=code):
        service.confirm(intent.intent_id, key=new_key())
    failed = service.get(intent.intent_id)
    assert (failed.state, failed.failure_code) == (IntentState.FAILED, code)


def test_authorization_timeout_leaves_the_intent_retryable_and_uncharged(
    service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent
) -> None:
    intent = make_intent(token="tok_timeout")
    for _ in range(2):  # a retry with the same key reconciles (nothing happened) and tries again
        with pytest.raises(GatewayTimeoutError, match="did not answer authorize"):
            service.confirm(intent.intent_id, key="slow-network")
    assert service.get(intent.intent_id).state is IntentState.REQUIRES_CONFIRMATION
    cancelled = service.cancel(intent.intent_id, key=new_key())
    assert cancelled.state is IntentState.CANCELLED
    assert sandbox.transactions(token="tok_timeout") == []


def test_capture_with_a_lost_answer_is_reconciled_not_repeated(
    service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent
) -> None:
    token = "tok_capture_response_lost"
    intent = service.confirm(make_intent(token=token).intent_id, key=new_key())
    with pytest.raises(GatewayTimeoutError, match="did not answer capture"):
        service.capture(intent.intent_id, key="lost-capture")
    assert service.get(intent.intent_id).state is IntentState.AUTHORIZED  # we do not know yet
    captured = service.capture(intent.intent_id, key="lost-capture")
    assert captured.state is IntentState.CAPTURED and captured.captured == intent.amount
    assert service.capture(intent.intent_id, key="lost-capture") == captured
    assert sandbox.net_charged(token, "CNY") == intent.amount
    assert _operations(sandbox, token, GatewayOperation.CAPTURE) == 1
    assert service.order(intent.intent_id) is not None
    with service.engine.connect() as conn:
        assert [e.kind for e in ledger.entries_for_intent(conn, intent.intent_id)] == [ledger.EntryKind.CAPTURE]
        assert ledger.check_books(conn).balanced


def test_lost_authorization_answer_is_reconciled_by_the_retry(
    service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent
) -> None:
    token = "tok_authorize_response_lost"
    intent = make_intent(token=token)
    with pytest.raises(GatewayTimeoutError, match="did not answer authorize"):
        service.confirm(intent.intent_id, key="lost-auth")
    confirmed = service.confirm(intent.intent_id, key="lost-auth")
    assert confirmed.state is IntentState.AUTHORIZED
    assert _operations(sandbox, token, GatewayOperation.AUTHORIZE) == 1  # no second hold on the card


def test_cancel_after_a_lost_authorization_voids_the_hold(
    service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent
) -> None:
    token = "tok_authorize_response_lost"
    intent = make_intent(token=token)
    with pytest.raises(GatewayTimeoutError):
        service.confirm(intent.intent_id, key=new_key())
    assert service.cancel(intent.intent_id, key=new_key()).state is IntentState.CANCELLED
    assert [(t.operation, t.approved) for t in sandbox.transactions(token=token)] == [
        (GatewayOperation.AUTHORIZE, True), (GatewayOperation.VOID, True)]
    assert sandbox.net_charged(token, "CNY") == Money.zero("CNY")


def test_a_new_key_after_a_lost_capture_reconciles_and_refuses(
    service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent
) -> None:
    token = "tok_capture_response_lost"
    intent = service.confirm(make_intent(token=token).intent_id, key=new_key())
    with pytest.raises(GatewayTimeoutError):
        service.capture(intent.intent_id, key="first-try")
    with pytest.raises(MoneyError, match="it is captured"):
        service.capture(intent.intent_id, key="impatient-second-try")
    assert service.capture(intent.intent_id, key="first-try").state is IntentState.CAPTURED  # booked for its own key
    assert sandbox.net_charged(token, "CNY") == intent.amount


def test_reconcile_books_a_lost_capture_without_a_retry(
    service: PaymentService, sandbox: SandboxGateway, make_intent: MakeIntent
) -> None:
    intent = service.confirm(make_intent(token="tok_capture_response_lost").intent_id, key=new_key())
    with pytest.raises(GatewayTimeoutError):
        service.capture(intent.intent_id, key=new_key())
    assert service.reconcile(intent.intent_id).state is IntentState.CAPTURED
    assert service.reconcile(intent.intent_id).state is IntentState.CAPTURED
    with service.engine.connect() as conn:
        assert len(ledger.entries_for_intent(conn, intent.intent_id)) == 1


# ---------------------------------------------------------------------------- refunds


def test_partial_refunds_sum_up_to_the_capture(service: PaymentService, sandbox: SandboxGateway,
                                               captured_intent: PaymentIntent, audit) -> None:  # type: ignore[no-untyped-def]
    intent_id = captured_intent.intent_id
    for amount in ("100.00", "200.00"):
        service.refund(intent_id, key=new_key(), amount=Money.parse(amount, "CNY"), staff_id=STAFF_ID)
    partly = service.get(intent_id)
    assert (partly.state, partly.refunded) == (IntentState.PARTIALLY_REFUNDED, Money.parse("300.00", "CNY"))
    before = snapshot(service.engine)
    with pytest.raises(RefundExceedsCaptureError, match="299.00 CNY of 599.00 CNY"):
        service.refund(intent_id, key=new_key(), amount=Money.parse("300.00", "CNY"), staff_id=STAFF_ID)
    assert snapshot(service.engine) == before
    done = service.refund(intent_id, key=new_key(), amount=Money.parse("299.00", "CNY"), staff_id=STAFF_ID)
    assert (done.state, done.refunded) == (IntentState.REFUNDED, captured_intent.captured)
    assert sandbox.net_charged("tok_visa_approve", "CNY") == Money.zero("CNY")
    with service.engine.connect() as conn:
        assert ledger.balance(conn, f"refunds:{STORE}", "CNY") == captured_intent.captured
        assert ledger.balance(conn, "gateway_clearing:sandbox", "CNY") == Money.zero("CNY")
        assert ledger.check_books(conn).balanced
    refunds = [e for e in audit.entries(subject=intent_id) if e.event == "payment.refund"]
    assert [e.details["staff_id"] for e in refunds] == [STAFF_ID] * 3
    assert audit.verify().ok


@pytest.mark.parametrize(("staff_id", "error"), [("st-forged", StaffNotAuthorizedError),
                                                 ("", InvalidPaymentRequestError),
                                                 ("st-ana'; DROP TABLE staff;--", InvalidPaymentRequestError)])
def test_refund_needs_registered_staff(service: PaymentService, captured_intent: PaymentIntent, staff_id: str,
                                       error: type[Exception]) -> None:
    before = snapshot(service.engine)
    with pytest.raises(error, match="staff"):
        service.refund(captured_intent.intent_id, key=new_key(), amount=Money.parse("1.00", "CNY"), staff_id=staff_id)
    assert snapshot(service.engine) == before


# ---------------------------------------------------------------------------- bad input changes nothing


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [({"amount": Money(0, "CNY")}, InvalidAmountError, "more than zero"),
     ({"amount": Money(-100, "CNY")}, InvalidAmountError, "more than zero"),
     ({"payment_token": "4111 1111 1111 1111"}, InvalidPaymentRequestError, "card number"),
     ({"payment_token": "tok_4111111111111111"}, InvalidPaymentRequestError, "card number"),
     ({"payment_token": "tok"}, InvalidPaymentRequestError, "8-128"),
     ({"store_id": ""}, InvalidPaymentRequestError, "store_id"),
     ({"gateway": "acme"}, UnknownGatewayError, "acme")],
)
def test_create_refuses_bad_input(service: PaymentService, overrides: dict, error: type[Exception],
                                  message: str) -> None:
    args = dict(key=new_key(), amount=Money.parse("10.00", "CNY"), payment_token="tok_visa_approve", cart_id="c",
                store_id=STORE, shopper_id=SHOPPER) | overrides
    before = snapshot(service.engine)
    with pytest.raises(error, match=message):
        service.create_intent(**args)
    assert snapshot(service.engine) == before


def test_unknown_intent_and_currency_mismatch(service: PaymentService, captured_intent: PaymentIntent) -> None:
    before = snapshot(service.engine)
    for call in (service.confirm, service.capture, service.cancel):
        with pytest.raises(IntentNotFoundError, match="pi_nope"):
            call("pi_nope", key=new_key())
    with pytest.raises(CurrencyMismatchError, match="USD"):
        service.refund(captured_intent.intent_id, key=new_key(), amount=Money.parse("1.00", "USD"), staff_id=STAFF_ID)
    with pytest.raises(UnknownCurrencyError):
        Money.parse("1.00", "XXX")
    with pytest.raises(InvalidPaymentRequestError, match="idempotency key"):
        service.capture(captured_intent.intent_id, key="has space")
    assert snapshot(service.engine) == before


def test_authorize_and_capture_is_one_call(service: PaymentService, sandbox: SandboxGateway) -> None:
    intent = service.authorize_and_capture(key="checkout-1", amount=Money.parse("88.00", "CNY"),
                                           payment_token="tok_unionpay_approve", cart_id="cart-2", store_id=STORE,
                                           shopper_id=SHOPPER)
    assert intent.state is IntentState.CAPTURED
    again = service.authorize_and_capture(key="checkout-1", amount=Money.parse("88.00", "CNY"),
                                          payment_token="tok_unionpay_approve", cart_id="cart-2", store_id=STORE,
                                          shopper_id=SHOPPER)
    assert again == intent
    assert sandbox.net_charged("tok_unionpay_approve", "CNY") == Money.parse("88.00", "CNY")
