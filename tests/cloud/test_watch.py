"""WatchCart: a snapshot first, then every change in version order; resuming after a version."""
from __future__ import annotations

import grpc
import pytest

from proto.omnifit.v1 import cart_pb2
from tests.cloud.conftest import STORE, ServerThread, StockedSkus, Stubs, Watcher, bearer, stubs_for


@pytest.fixture
def kiosk_token(server: ServerThread) -> str:
    return server.services.accounts.issue_device_token(STORE).token


def _add(stubs: Stubs, token: str, cart_id: str, sku: str, n: int) -> list[int]:
    return [
        stubs.carts.AddLine(
            cart_pb2.AddLineRequest(cart_id=cart_id, idempotency_key=f"add-{sku}-{i}", sku=sku, quantity=1), metadata=bearer(token)
        ).version
        for i in range(n)
    ]


def test_snapshot_then_every_change_in_order_then_resume(stubs: Stubs, kiosk_token: str, skus: StockedSkus) -> None:
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(kiosk_token))
    watcher = Watcher(stubs.carts, cart.cart_id, kiosk_token)
    try:
        first = watcher.next()
        assert first.kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT and first.cart.version == 1
        versions = _add(stubs, kiosk_token, cart.cart_id, skus.missing, 12)
        events = [watcher.next() for _ in versions]
        assert [e.cart.version for e in events] == versions == list(range(2, 14))
        assert all(e.kind == cart_pb2.CART_CHANGE_KIND_LINE_ADDED for e in events)
        assert [e.cart.lines[0].quantity for e in events] == list(range(1, 13))
        line = events[-1].cart.lines[0]
        stubs.carts.RemoveLine(
            cart_pb2.RemoveLineRequest(cart_id=cart.cart_id, idempotency_key="rm", line_id=line.line_id), metadata=bearer(kiosk_token)
        )
        removed = watcher.next()
        assert removed.kind == cart_pb2.CART_CHANGE_KIND_LINE_REMOVED and removed.cart.version == 14 and not removed.cart.lines
    finally:
        watcher.close()
    resumed = Watcher(stubs.carts, cart.cart_id, kiosk_token, after_version=10)
    try:
        assert [resumed.next().cart.version for _ in range(4)] == [11, 12, 13, 14]
        _add(stubs, kiosk_token, cart.cart_id, skus.plenty, 1)
        live = resumed.next()
        assert live.cart.version == 15 and live.kind == cart_pb2.CART_CHANGE_KIND_LINE_ADDED
    finally:
        resumed.close()


def test_concurrent_writers_reach_every_watcher_in_order(server: ServerThread, kiosk_token: str, skus: StockedSkus) -> None:
    with grpc.insecure_channel(server.address) as ch1, grpc.insecure_channel(server.address) as ch2:
        s1, s2 = stubs_for(ch1), stubs_for(ch2)
        cart = s1.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(kiosk_token))
        watchers = [Watcher(s2.carts, cart.cart_id, kiosk_token) for _ in range(3)]
        try:
            for w in watchers:
                assert w.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
            futures = [
                (s1 if i % 2 else s2).carts.AddLine.future(
                    cart_pb2.AddLineRequest(
                        cart_id=cart.cart_id, idempotency_key=f"k{i}", sku=skus.missing if i % 3 else skus.plenty, quantity=1
                    ),
                    metadata=bearer(kiosk_token),
                )
                for i in range(20)
            ]
            assert sorted(f.result().version for f in futures) == list(range(2, 22))
            for w in watchers:
                assert [w.next().cart.version for _ in range(20)] == list(range(2, 22))
        finally:
            for w in watchers:
                w.close()


def test_watch_refuses_strangers_and_future_versions(server: ServerThread, stubs: Stubs, kiosk_token: str) -> None:
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(kiosk_token))
    stranger = server.services.accounts.issue_device_token(STORE).token
    for token, after, status in ((stranger, 0, grpc.StatusCode.PERMISSION_DENIED), (kiosk_token, 99, grpc.StatusCode.INVALID_ARGUMENT)):
        watcher = Watcher(stubs.carts, cart.cart_id, token, after_version=after)
        with pytest.raises(grpc.RpcError) as err:
            watcher.next()
        assert err.value.code() == status
        watcher.close()
