"""Shared set-up for the payment attack tests: a real in-process server on the ``db_url`` database
(SQLite file or PostgreSQL schema) with face pay on, blocking stubs, and the client steps an
attacker or a shopper takes (carts, pairing, PINs, intents)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from cloud.server import ServerConfig
from cloud.storage import schema
from proto.omnifit.v1 import cart_pb2, face_pb2_grpc, pairing_pb2, payment_pb2, payment_pb2_grpc, profile_pb2
from tests.cloud.conftest import STORE, ServerThread, StockedSkus, Stubs, bearer, stubs_for

PASSWORD = "correct horse 1"
APPROVE = "tok_visa_approve"
S = payment_pb2.PaymentIntentStatus


def failure(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    """The status code and details of a call that must fail."""
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code(), err.value.details()


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[ServerThread]:
    config = ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=4, face_key_file=tmp_path / "face-kek.json")
    running = ServerThread(config).start()
    yield running
    running.stop()


@pytest.fixture
def skus(server: ServerThread) -> StockedSkus:
    """SKUs of ``STORE``: one it holds plenty of, one it holds none of."""
    v, s = schema.variants, schema.stock
    with server.services.database.read() as conn:
        plenty = conn.execute(sa.select(s.c.sku, s.c.on_hand).where(s.c.store_id == STORE, s.c.on_hand >= 3)
                              .order_by(s.c.sku).limit(1)).one()
        held = sa.select(s.c.sku).where(s.c.store_id == STORE, s.c.on_hand > 0)
        missing = conn.execute(sa.select(v.c.sku).where(v.c.sku.not_in(held)).order_by(v.c.sku).limit(1)).scalar_one()
    return StockedSkus(plenty.sku, plenty.on_hand, missing)


@pytest.fixture
def stubs(server: ServerThread) -> Iterator[Stubs]:
    with grpc.insecure_channel(server.address) as channel:
        yield stubs_for(channel)


@pytest.fixture
def pay(stubs: Stubs) -> payment_pb2_grpc.PaymentServiceStub:
    return payment_pb2_grpc.PaymentServiceStub(stubs.channel)


@pytest.fixture
def faces(stubs: Stubs) -> face_pb2_grpc.FaceServiceStub:
    return face_pb2_grpc.FaceServiceStub(stubs.channel)


@pytest.fixture
def kiosk(server: ServerThread) -> str:
    return server.services.accounts.issue_device_token(STORE).token


def shopper(stubs: Stubs, email: str, phone: str = "+8613800138000") -> tuple[str, str]:
    """A registered shopper's (token, shopper id)."""
    request = profile_pb2.RegisterShopperRequest(email=email, password=PASSWORD, phone=phone, display_name="T")
    stubs.accounts.RegisterShopper(request)  # the same answer for a new and a taken email: sign in next
    session = stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password=PASSWORD))
    return session.token, session.subject_id


def set_pin(stubs: Stubs, token: str, pin: str) -> None:
    stubs.accounts.SetPaymentPin(profile_pb2.SetPaymentPinRequest(password=PASSWORD, pin=pin), metadata=bearer(token))


def cart(stubs: Stubs, token: str, sku: str, key: str = "c", store_id: str = STORE) -> cart_pb2.Cart:
    """A new cart of ``token``'s with one unit of ``sku``."""
    made = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key=f"{key}-new", store_id=store_id),
                                  metadata=bearer(token))
    add = cart_pb2.AddLineRequest(cart_id=made.cart_id, idempotency_key=f"{key}-add", sku=sku, quantity=1)
    return stubs.carts.AddLine(add, metadata=bearer(token))


def pair(stubs: Stubs, kiosk: str, shopper_token: str, cart_id: str) -> cart_pb2.Cart:
    """The shopper's phone claims the kiosk's cart through a pairing code (the shopper at the kiosk)."""
    code = stubs.pairing.CreatePairingCode(pairing_pb2.CreatePairingCodeRequest(cart_id=cart_id), metadata=bearer(kiosk))
    claim = pairing_pb2.ClaimPairingCodeRequest(code=code.code)
    return stubs.pairing.ClaimPairingCode(claim, metadata=bearer(shopper_token)).cart


def create(pay: payment_pb2_grpc.PaymentServiceStub, token: str, paid: cart_pb2.Cart, key: str,
           payment_token: str = APPROVE, shopper_id: str = "") -> payment_pb2.PaymentIntent:
    request = payment_pb2.CreateIntentRequest(idempotency_key=key, cart_id=paid.cart_id, amount=paid.subtotal,
                                              payment_token=payment_token, shopper_id=shopper_id)
    return pay.CreateIntent(request, metadata=bearer(token))


def confirm(pay: payment_pb2_grpc.PaymentServiceStub, token: str, intent_id: str, key: str,
            pin: str | None = None, close: bool = False) -> payment_pb2.PaymentIntent:
    request = payment_pb2.ConfirmIntentRequest(intent_id=intent_id, idempotency_key=key, face_match_close=close)
    if pin is not None:
        request.pin = pin
    return pay.ConfirmIntent(request, metadata=bearer(token))


def capture(pay: payment_pb2_grpc.PaymentServiceStub, token: str, intent_id: str, key: str) -> payment_pb2.PaymentIntent:
    return pay.CaptureIntent(payment_pb2.CaptureIntentRequest(intent_id=intent_id, idempotency_key=key),
                             metadata=bearer(token))


def get(pay: payment_pb2_grpc.PaymentServiceStub, token: str, intent_id: str) -> payment_pb2.PaymentIntent:
    return pay.GetIntent(payment_pb2.GetIntentRequest(intent_id=intent_id), metadata=bearer(token))
