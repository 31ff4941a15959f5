# ruff: noqa: F811 - pytest fixtures imported from _payments_fixtures are redefined as parameters
"""One cart, one payment: the attack that paid a cart twice under two idempotency keys, played
against a real server on SQLite and PostgreSQL — one after the other, from the kiosk and the
shopper's phone at the same moment, and a capture of a cart another intent already paid."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import sqlalchemy as sa

from cloud.storage import schema
from payments.gateways import GatewayOperation
from payments.storage import payment_intents
from proto.omnifit.v1 import cart_pb2, payment_pb2
from tests.cloud.conftest import ServerThread, StockedSkus, Stubs, bearer
from tests.security._payments_fixtures import (  # noqa: F401 - fixtures
    APPROVE,
    S,
    capture,
    cart,
    confirm,
    create,
    faces,
    failure,
    get,
    kiosk,
    pair,
    pay,
    server,
    shopper,
    skus,
    stubs,
)


def _intents_of(server: ServerThread, cart_id: str) -> list[sa.Row]:
    with server.running.payments.engine.connect() as conn:
        return conn.execute(sa.select(payment_intents.c.intent_id, payment_intents.c.state)
                            .where(payment_intents.c.cart_id == cart_id)).all()


def _charged(server: ServerThread, currency: str) -> int:
    return server.running.payments.gateways["sandbox"].net_charged(APPROVE, currency).minor


def test_a_second_intent_for_a_cart_under_another_key_is_refused(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    paid = cart(stubs, kiosk, skus.plenty)
    first = create(pay, kiosk, paid, key="tap-1")
    status, details = failure(create, pay, kiosk, paid, key="tap-2")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and first.intent_id in details, details
    assert create(pay, kiosk, paid, key="tap-1").intent_id == first.intent_id  # a retry still gets its intent
    confirm(pay, kiosk, first.intent_id, "c1")
    assert failure(create, pay, kiosk, paid, key="tap-3")[0] == grpc.StatusCode.FAILED_PRECONDITION
    capture(pay, kiosk, first.intent_id, "k1")
    assert failure(create, pay, kiosk, paid, key="tap-4")[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert [row.intent_id for row in _intents_of(server, paid.cart_id)] == [first.intent_id]
    assert _charged(server, paid.subtotal.currency) == paid.subtotal.minor_units


def test_an_abandoned_intent_frees_the_cart_once_cancelled_or_declined(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    paid = cart(stubs, kiosk, skus.plenty)
    declined = create(pay, kiosk, paid, key="declined", payment_token="tok_decline_insufficient_funds")
    failure(confirm, pay, kiosk, declined.intent_id, "c-declined")
    abandoned = create(pay, kiosk, paid, key="abandoned")
    pay.CancelIntent(payment_pb2.CancelIntentRequest(intent_id=abandoned.intent_id, idempotency_key="x"),
                     metadata=bearer(kiosk))
    third = create(pay, kiosk, paid, key="third")
    confirm(pay, kiosk, third.intent_id, "c3")
    assert capture(pay, kiosk, third.intent_id, "k3").status == S.PAYMENT_INTENT_STATUS_CAPTURED
    assert _charged(server, paid.subtotal.currency) == paid.subtotal.minor_units


def test_the_kiosk_and_the_phone_paying_one_cart_at_once_make_one_payment(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    phone, _ = shopper(stubs, "twice@example.com")
    for round_no in range(3):
        paired = pair(stubs, kiosk, phone, cart(stubs, kiosk, skus.plenty, key=f"r{round_no}").cart_id)
        payers = [kiosk, phone, kiosk, phone]
        start = threading.Barrier(len(payers))

        def pay_in_full(index: int, token: str, shown: cart_pb2.Cart = paired, round_no: int = round_no,
                        start: threading.Barrier = start) -> str:
            start.wait()
            try:
                intent = create(pay, token, shown, key=f"pay-{round_no}-{index}")
                confirm(pay, token, intent.intent_id, f"c-{round_no}-{index}")
                return capture(pay, token, intent.intent_id, f"k-{round_no}-{index}").status and "paid"
            except grpc.RpcError as exc:
                return exc.code().name

        with ThreadPoolExecutor(len(payers)) as workers:
            outcomes = sorted(workers.map(pay_in_full, range(len(payers)), payers))
        assert outcomes == ["FAILED_PRECONDITION"] * 3 + ["paid"], outcomes
        assert len(_intents_of(server, paired.cart_id)) == 1
        closed = stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=paired.cart_id), metadata=bearer(phone))
        assert closed.status == cart_pb2.CART_STATUS_CHECKED_OUT
    assert _charged(server, paired.subtotal.currency) == 3 * paired.subtotal.minor_units


def test_a_capture_of_a_cart_another_intent_paid_fails_and_releases_its_hold(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    """Two authorised intents on one cart (as a server before the one-intent rule could leave
    them): the first capture pays, the second is refused and its authorisation voided."""
    paid = cart(stubs, kiosk, skus.plenty)
    first = create(pay, kiosk, paid, key="first")
    with server.services.database.read() as conn:
        owner = conn.execute(sa.select(schema.carts.c.store_id).where(schema.carts.c.cart_id == paid.cart_id)).scalar_one()
    from payments.money import Money  # the intent an older server let through, made as it made it

    older = server.running.payments.create_intent(
        key="legacy", amount=Money(paid.subtotal.minor_units, paid.subtotal.currency), payment_token=APPROVE,
        cart_id=paid.cart_id, store_id=owner, shopper_id=first.shopper_id)
    for intent_id, key in ((first.intent_id, "c1"), (older.intent_id, "c2")):
        assert confirm(pay, kiosk, intent_id, key).status == S.PAYMENT_INTENT_STATUS_AUTHORIZED
    assert capture(pay, kiosk, first.intent_id, "k1").status == S.PAYMENT_INTENT_STATUS_CAPTURED
    status, details = failure(capture, pay, kiosk, older.intent_id, "k2")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and first.intent_id in details, details
    assert get(pay, kiosk, older.intent_id).status == S.PAYMENT_INTENT_STATUS_CANCELLED
    books = server.running.payments.gateways["sandbox"].transactions(token=APPROVE)
    voids = [txn for txn in books if txn.operation is GatewayOperation.VOID and txn.approved]
    assert len(voids) == 1 and _charged(server, paid.subtotal.currency) == paid.subtotal.minor_units
