"""PaymentService.ListStorePayments on SQLite and PostgreSQL: a store's payments for its staff, newest first, paged."""
from __future__ import annotations

import grpc
import pytest

from cloud.admin import create_staff
from proto.omnifit.v1 import common_pb2, payment_pb2, payment_pb2_grpc
from tests.cloud.conftest import OTHER_STORE, STORE, bearer
from tests.cloud.test_payments_api import _cart, _create, _paid

PASSWORD = "correct horse 1"


def _list(pay, token, store: str = STORE, size: int = 2, page_token: str = "") -> payment_pb2.ListStorePaymentsResponse:
    request = payment_pb2.ListStorePaymentsRequest(store_id=store, page=common_pb2.PageRequest(page_size=size,
                                                                                            page_token=page_token))
    return pay.ListStorePayments(request, metadata=bearer(token))


def test_staff_page_through_every_payment_of_their_store_newest_first(server, stubs, skus):
    pay = payment_pb2_grpc.PaymentServiceStub(stubs.channel)
    kiosk_a = server.services.accounts.issue_device_token(STORE).token
    kiosk_b = server.services.accounts.issue_device_token(STORE).token  # another kiosk of the same store
    taken = [_paid(pay, kiosk_a, _cart(stubs, kiosk_a, skus.plenty, "a1")).intent_id,
             _paid(pay, kiosk_b, _cart(stubs, kiosk_b, skus.plenty, "b1")).intent_id,
             _create(pay, kiosk_a, _cart(stubs, kiosk_a, skus.plenty, "a2"), key="open").intent_id]
    create_staff(server.config.db_url, "alice", PASSWORD, stores=(STORE,))
    staff = server.services.accounts.staff_sign_in("alice", PASSWORD).token
    first = _list(pay, staff)
    second = _list(pay, staff, page_token=first.page.next_page_token)
    assert first.page.next_page_token and not second.page.next_page_token
    listed = [intent.intent_id for intent in (*first.intents, *second.intents)]
    assert listed == list(reversed(taken))  # newest first, each once, from both kiosks
    assert all(intent.store_id == STORE for intent in (*first.intents, *second.intents))
    with pytest.raises(grpc.RpcError) as bad:
        _list(pay, staff, page_token="not-a-token")
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_a_kiosk_a_shopper_and_another_stores_staff_are_refused(server, stubs):
    pay = payment_pb2_grpc.PaymentServiceStub(stubs.channel)
    create_staff(server.config.db_url, "bob", PASSWORD, stores=(OTHER_STORE,))
    other = server.services.accounts.staff_sign_in("bob", PASSWORD).token
    kiosk = server.services.accounts.issue_device_token(STORE).token
    server.services.accounts.register_shopper("s@example.com", PASSWORD, "+8613800138000", "s")
    shopper = server.services.accounts.sign_in("s@example.com", PASSWORD).token
    for token in (other, kiosk, shopper):
        with pytest.raises(grpc.RpcError) as refused:
            _list(pay, token)
        assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert _list(pay, other, store=OTHER_STORE).intents == []  # their own store: allowed (nothing taken there)
