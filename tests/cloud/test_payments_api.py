"""PaymentService over gRPC with a real server: the life cycle, idempotency, declines, auth rules, bad fields."""
from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cloud.domain.auth import signer_for
from cloud.domain.types import Principal, PrincipalKind
from cloud.storage import schema
from payments.storage import payment_intents
from proto.omnifit.v1 import cart_pb2, catalog_pb2, common_pb2, payment_pb2, payment_pb2_grpc, profile_pb2
from tests.cloud.conftest import OTHER_STORE, STORE, ServerThread, StockedSkus, Stubs, bearer

APPROVE = "tok_visa_approve"
DECLINE = "tok_decline_insufficient_funds"
S = payment_pb2.PaymentIntentStatus
Pay = payment_pb2_grpc.PaymentServiceStub


def _code(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code(), err.value.details()


@pytest.fixture
def pay(stubs: Stubs) -> Pay:
    return payment_pb2_grpc.PaymentServiceStub(stubs.channel)


@pytest.fixture
def kiosk(server: ServerThread) -> str:
    return server.services.accounts.issue_device_token(STORE).token


def _staff(server: ServerThread, stubs: Stubs, staff_id: str = "ops-lin") -> str:
    server.services.accounts.create_staff(staff_id, "correct horse 1")
    return stubs.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id=staff_id, password="correct horse 1")).token


def _shopper(stubs: Stubs, email: str) -> str:
    request = profile_pb2.RegisterShopperRequest(email=email, password="correct horse 1", phone="+8613800138000", display_name="T")
    stubs.accounts.RegisterShopper(request)
    return stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password="correct horse 1")).token


def _cart(stubs: Stubs, token: str, sku: str, key: str = "c") -> cart_pb2.Cart:
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key=f"{key}-new", store_id=STORE), metadata=bearer(token))
    add = cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key=f"{key}-add", sku=sku, quantity=1, pickup_only=True)
    return stubs.carts.AddLine(add, metadata=bearer(token))


def _create(pay: Pay, token: str, cart: cart_pb2.Cart, key: str = "i1", payment_token: str = APPROVE,
            shopper_id: str = "") -> payment_pb2.PaymentIntent:
    request = payment_pb2.CreateIntentRequest(
        idempotency_key=key, cart_id=cart.cart_id, amount=cart.subtotal, payment_token=payment_token, shopper_id=shopper_id
    )
    return pay.CreateIntent(request, metadata=bearer(token))


def _confirm(intent_id: str, key: str = "k-confirm") -> payment_pb2.ConfirmIntentRequest:
    return payment_pb2.ConfirmIntentRequest(intent_id=intent_id, idempotency_key=key)


def _capture(intent_id: str, key: str = "k-capture") -> payment_pb2.CaptureIntentRequest:
    return payment_pb2.CaptureIntentRequest(intent_id=intent_id, idempotency_key=key)


def _refund(intent_id: str, amount: common_pb2.Money, key: str) -> payment_pb2.RefundIntentRequest:
    return payment_pb2.RefundIntentRequest(intent_id=intent_id, idempotency_key=key, amount=amount)


def _get(pay: Pay, token: str, intent_id: str) -> payment_pb2.PaymentIntent:
    return pay.GetIntent(payment_pb2.GetIntentRequest(intent_id=intent_id), metadata=bearer(token))


def _on_hand(stubs: Stubs, sku: str) -> int:
    return stubs.catalog.GetStock(catalog_pb2.GetStockRequest(store_id=STORE, skus=[sku])).levels[0].on_hand


def _paid(pay: Pay, kiosk: str, cart: cart_pb2.Cart) -> payment_pb2.PaymentIntent:
    intent = _create(pay, kiosk, cart)
    pay.ConfirmIntent(_confirm(intent.intent_id), metadata=bearer(kiosk))
    return pay.CaptureIntent(_capture(intent.intent_id), metadata=bearer(kiosk))


def test_kiosk_creates_confirms_and_captures_and_the_order_takes_store_stock(
    server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus
) -> None:
    cart = _cart(stubs, kiosk, skus.plenty)
    intent = _create(pay, kiosk, cart)
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION and intent.intent_id.startswith("pi_")
    assert (intent.amount, intent.store_id) == (cart.subtotal, STORE)
    assert intent.shopper_id.startswith("guest:")  # no shopper signed in to the kiosk cart: a guest pays by card
    assert [(line.sku, line.quantity, line.unit_price) for line in intent.lines] == [
        (line.sku, line.quantity, line.unit_price) for line in cart.lines
    ]
    assert intent.payment_method == "Visa ending 4242" and not intent.order_id
    authorized = pay.ConfirmIntent(_confirm(intent.intent_id), metadata=bearer(kiosk))
    assert authorized.status == S.PAYMENT_INTENT_STATUS_AUTHORIZED
    captured = pay.CaptureIntent(_capture(intent.intent_id), metadata=bearer(kiosk))
    assert captured.status == S.PAYMENT_INTENT_STATUS_CAPTURED and captured.captured == cart.subtotal
    order = server.running.payments.order(intent.intent_id)
    assert order is not None and captured.order_id == order.order_id and order.total.minor == cart.subtotal.minor_units
    assert _get(pay, kiosk, intent.intent_id) == captured
    assert _on_hand(stubs, skus.plenty) == skus.plenty_on_hand - 1


def test_the_same_key_twice_charges_once(server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus) -> None:
    cart = _cart(stubs, kiosk, skus.plenty)
    first, again = _create(pay, kiosk, cart, key="tap"), _create(pay, kiosk, cart, key="tap")
    assert first.intent_id == again.intent_id
    for _ in range(2):
        pay.ConfirmIntent(_confirm(first.intent_id), metadata=bearer(kiosk))
    captures = [pay.CaptureIntent(_capture(first.intent_id), metadata=bearer(kiosk)) for _ in range(2)]
    assert captures[0] == captures[1] and captures[0].status == S.PAYMENT_INTENT_STATUS_CAPTURED
    gateway = server.running.payments.gateways["sandbox"]
    assert gateway.net_charged(APPROVE, cart.subtotal.currency).minor == cart.subtotal.minor_units
    assert _on_hand(stubs, skus.plenty) == skus.plenty_on_hand - 1
    with server.running.payments.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_intents)).scalar_one() == 1
    # A new key for a capture that already happened is refused by the state machine, not charged again.
    status, details = _code(pay.CaptureIntent, _capture(first.intent_id, key="other"), metadata=bearer(kiosk))
    assert status == grpc.StatusCode.ABORTED and "captured" in details


def test_a_captured_cart_is_checked_out_and_cannot_be_paid_or_changed_again(
    pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus
) -> None:
    cart = _cart(stubs, kiosk, skus.plenty)
    intent = _paid(pay, kiosk, cart)
    closed = stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(kiosk))
    assert closed.status == cart_pb2.CART_STATUS_CHECKED_OUT and closed.version == cart.version + 1
    # A retried capture (same key) answers the same and closes nothing twice.
    assert pay.CaptureIntent(_capture(intent.intent_id), metadata=bearer(kiosk)) == intent
    again = stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(kiosk))
    assert again.version == closed.version
    status, details = _code(_create, pay, kiosk, cart, key="second-payment")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "checked_out" in details
    add = cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="late-add", sku=skus.plenty, quantity=1)
    status, _ = _code(stubs.carts.AddLine, add, metadata=bearer(kiosk))
    assert status == grpc.StatusCode.FAILED_PRECONDITION


def test_a_declined_token_fails_the_intent_and_takes_nothing(
    server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus
) -> None:
    cart = _cart(stubs, kiosk, skus.plenty)
    intent = _create(pay, kiosk, cart, payment_token=DECLINE)
    status, details = _code(pay.ConfirmIntent, _confirm(intent.intent_id), metadata=bearer(kiosk))
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "insufficient_funds" in details
    failed = _get(pay, kiosk, intent.intent_id)
    assert failed.status == S.PAYMENT_INTENT_STATUS_FAILED and failed.failure_code == "insufficient_funds"
    assert _code(pay.CaptureIntent, _capture(intent.intent_id), metadata=bearer(kiosk))[0] == grpc.StatusCode.ABORTED
    assert server.running.payments.gateways["sandbox"].net_charged(DECLINE, cart.subtotal.currency).minor == 0
    assert _on_hand(stubs, skus.plenty) == skus.plenty_on_hand


def test_a_kiosk_cancels_an_authorized_intent(pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus) -> None:
    intent = _create(pay, kiosk, _cart(stubs, kiosk, skus.plenty))
    pay.ConfirmIntent(_confirm(intent.intent_id), metadata=bearer(kiosk))
    cancel = payment_pb2.CancelIntentRequest(intent_id=intent.intent_id, idempotency_key="k-cancel")
    assert pay.CancelIntent(cancel, metadata=bearer(kiosk)).status == S.PAYMENT_INTENT_STATUS_CANCELLED


def test_the_amount_must_be_the_carts_subtotal(pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus) -> None:
    cart = _cart(stubs, kiosk, skus.plenty)
    cart.subtotal.minor_units -= 1
    status, details = _code(_create, pay, kiosk, cart)
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "subtotal" in details


def test_callers_see_only_intents_of_their_own_carts(
    server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus
) -> None:
    alice, bob = _shopper(stubs, "alice@example.com"), _shopper(stubs, "bob@example.com")
    own = _create(pay, alice, _cart(stubs, alice, skus.plenty, key="a"), shopper_id="")
    assert own.shopper_id == signer_for(server.services.database).verify(alice).subject_id
    kiosk_cart = _cart(stubs, kiosk, skus.plenty, key="k")
    at_kiosk = _create(pay, kiosk, kiosk_cart)
    elsewhere = server.services.accounts.issue_device_token(OTHER_STORE).token
    denied = grpc.StatusCode.PERMISSION_DENIED
    for token, intent in ((bob, own), (kiosk, own), (elsewhere, at_kiosk), (alice, at_kiosk)):
        assert _code(_get, pay, token, intent.intent_id)[0] == denied
        assert _code(pay.ConfirmIntent, _confirm(intent.intent_id), metadata=bearer(token))[0] == denied
        cancel = payment_pb2.CancelIntentRequest(intent_id=intent.intent_id, idempotency_key="x")
        assert _code(pay.CancelIntent, cancel, metadata=bearer(token))[0] == denied
    assert _code(_create, pay, elsewhere, kiosk_cart, key="steal")[0] == denied
    assert _code(_create, pay, bob, kiosk_cart, key="steal", shopper_id="")[0] == denied
    status, details = _code(_create, pay, alice, _cart(stubs, alice, skus.plenty, key="a2"), key="as-bob", shopper_id="shp_bob")
    assert status == denied and "shopper_id" in details
    assert _code(_create, pay, _staff(server, stubs), kiosk_cart, key="staff")[0] == denied
    assert _get(pay, alice, own.intent_id).status == S.PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION
    assert _get(pay, kiosk, at_kiosk.intent_id).status == S.PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION


def test_missing_or_forged_tokens_are_unauthenticated(pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus) -> None:
    intent = _create(pay, kiosk, _cart(stubs, kiosk, skus.plenty))
    head, payload, _ = kiosk.split(".")
    for metadata in ((), bearer(f"{head}.{payload}.AAAA"), bearer("ofv1.not.atoken")):
        status = _code(pay.GetIntent, payment_pb2.GetIntentRequest(intent_id=intent.intent_id), metadata=metadata)[0]
        assert status == grpc.StatusCode.UNAUTHENTICATED
        assert _code(pay.ConfirmIntent, _confirm(intent.intent_id), metadata=metadata)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert _get(pay, kiosk, intent.intent_id).status == S.PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION


def test_refunds_need_registered_staff(server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus) -> None:
    cart = _cart(stubs, kiosk, skus.plenty)
    intent = _paid(pay, kiosk, cart)
    full = cart.subtotal
    part = common_pb2.Money(minor_units=full.minor_units // 2, currency=full.currency)
    ghost = signer_for(server.services.database).issue(Principal(PrincipalKind.STAFF, "ghost"))[0]
    for token in (kiosk, _shopper(stubs, "carol@example.com")):
        status, details = _code(pay.RefundIntent, _refund(intent.intent_id, full, "r0"), metadata=bearer(token))
        assert status == grpc.StatusCode.PERMISSION_DENIED, details
    # A well-signed token of a staff id nobody registered is no session at all.
    status, details = _code(pay.RefundIntent, _refund(intent.intent_id, full, "r0"), metadata=bearer(ghost))
    assert status == grpc.StatusCode.UNAUTHENTICATED, details
    staff = _staff(server, stubs)
    partly = pay.RefundIntent(_refund(intent.intent_id, part, "r1"), metadata=bearer(staff))
    assert partly.status == S.PAYMENT_INTENT_STATUS_PARTIALLY_REFUNDED and partly.refunded == part
    status, details = _code(pay.RefundIntent, _refund(intent.intent_id, full, "r2"), metadata=bearer(staff))
    assert status == grpc.StatusCode.INVALID_ARGUMENT and "exceeds" in details
    rest = common_pb2.Money(minor_units=full.minor_units - part.minor_units, currency=full.currency)
    refunded = pay.RefundIntent(_refund(intent.intent_id, rest, "r3"), metadata=bearer(staff))
    assert refunded.status == S.PAYMENT_INTENT_STATUS_REFUNDED and refunded.refunded == full
    assert refunded.order_id == intent.order_id
    assert _get(pay, kiosk, intent.intent_id).status == S.PAYMENT_INTENT_STATUS_REFUNDED
    net = server.running.payments.gateways["sandbox"].net_charged(APPROVE, full.currency)
    assert net.minor == 0


def _bad_creates(cart: cart_pb2.Cart) -> list[tuple[str, payment_pb2.CreateIntentRequest]]:
    good = {"idempotency_key": "bad", "cart_id": cart.cart_id, "amount": cart.subtotal, "payment_token": APPROVE}

    def with_(**changes: object) -> payment_pb2.CreateIntentRequest:
        return payment_pb2.CreateIntentRequest(**{**good, **changes})

    no_amount = with_()
    no_amount.ClearField("amount")
    return [
        ("idempotency_key", with_(idempotency_key="")),
        ("idempotency_key", with_(idempotency_key="has space")),
        ("cart_id", with_(cart_id="")),
        ("cart_id", with_(cart_id="../etc/passwd")),
        ("amount", no_amount),
        ("amount.currency", with_(amount=common_pb2.Money(minor_units=100, currency="XYZ"))),
        ("amount.minor_units", with_(amount=common_pb2.Money(minor_units=-5, currency=cart.subtotal.currency))),
        ("payment_token", with_(payment_token="4111111111111111")),
        ("payment_token", with_(payment_token="x")),
        ("shopper_id", with_(shopper_id="bad shopper!")),
    ]


def test_garbage_fields_are_invalid_argument_naming_the_field_and_change_nothing(
    server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus
) -> None:
    cart = _cart(stubs, kiosk, skus.plenty)
    for field, request in _bad_creates(cart):
        status, details = _code(pay.CreateIntent, request, metadata=bearer(kiosk))
        assert status == grpc.StatusCode.INVALID_ARGUMENT and field in details, (field, details)
    with server.running.payments.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_intents)).scalar_one() == 0
    intent = _create(pay, kiosk, cart)
    bad_calls = [
        ("intent_id", pay.GetIntent, payment_pb2.GetIntentRequest(intent_id="")),
        ("intent_id", pay.ConfirmIntent, _confirm("pi x")),
        ("idempotency_key", pay.CaptureIntent, _capture(intent.intent_id, key="")),
        ("pin", pay.ConfirmIntent, payment_pb2.ConfirmIntentRequest(intent_id=intent.intent_id, idempotency_key="p", pin="12ab")),
    ]
    for field, call, request in bad_calls:
        status, details = _code(call, request, metadata=bearer(kiosk))
        assert status == grpc.StatusCode.INVALID_ARGUMENT and field in details, (field, details)
    staff = _staff(server, stubs)
    status, details = _code(pay.RefundIntent, payment_pb2.RefundIntentRequest(intent_id=intent.intent_id, idempotency_key="r"),
                            metadata=bearer(staff))
    assert status == grpc.StatusCode.INVALID_ARGUMENT and "amount" in details
    assert _code(_get, pay, kiosk, "pi_doesnotexist")[0] == grpc.StatusCode.NOT_FOUND
    assert _get(pay, kiosk, intent.intent_id).status == S.PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION


def test_reflection_lists_the_payment_service_and_health_says_serving(server: ServerThread) -> None:
    name = payment_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name
    assert name == "omnifit.v1.PaymentService"
    with grpc.insecure_channel(server.address) as channel:
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = list(reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(iter([request])))
        assert name in {s.name for s in responses[0].list_services_response.service}
        check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=name))
        assert check.status == health_pb2.HealthCheckResponse.SERVING


def test_keys_are_scoped_to_the_caller(server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus) -> None:
    other_kiosk = server.services.accounts.issue_device_token(STORE).token
    mine = _create(pay, kiosk, _cart(stubs, kiosk, skus.plenty, key="m"), key="same")
    theirs = _create(pay, other_kiosk, _cart(stubs, other_kiosk, skus.plenty, key="t"), key="same")
    assert mine.intent_id != theirs.intent_id and mine.cart_id != theirs.cart_id


def test_a_close_face_match_needs_the_pin(pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus) -> None:
    intent = _create(pay, kiosk, _cart(stubs, kiosk, skus.plenty))
    close = payment_pb2.ConfirmIntentRequest(intent_id=intent.intent_id, idempotency_key="close", face_match_close=True)
    status, details = _code(pay.ConfirmIntent, close, metadata=bearer(kiosk))
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "PIN" in details
    assert _get(pay, kiosk, intent.intent_id).status == S.PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION


def test_staff_read_and_cancel_any_intent_but_do_not_take_payments(
    server: ServerThread, pay: Pay, stubs: Stubs, kiosk: str, skus: StockedSkus
) -> None:
    intent = _create(pay, kiosk, _cart(stubs, kiosk, skus.plenty))
    staff = _staff(server, stubs)
    assert _get(pay, staff, intent.intent_id).intent_id == intent.intent_id
    for call, request in ((pay.ConfirmIntent, _confirm(intent.intent_id)), (pay.CaptureIntent, _capture(intent.intent_id))):
        assert _code(call, request, metadata=bearer(staff))[0] == grpc.StatusCode.PERMISSION_DENIED
    cancel = payment_pb2.CancelIntentRequest(intent_id=intent.intent_id, idempotency_key="staff-cancel")
    assert pay.CancelIntent(cancel, metadata=bearer(staff)).status == S.PAYMENT_INTENT_STATUS_CANCELLED
    audit = schema.staff_audit
    with server.services.database.read() as conn:
        rows = conn.execute(sa.select(audit.c.staff_id, audit.c.action).where(audit.c.target == intent.intent_id)).all()
    assert [tuple(row) for row in rows] == [("ops-lin", "CancelIntent")]
