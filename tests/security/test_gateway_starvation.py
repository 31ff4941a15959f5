# ruff: noqa: F811 - pytest fixtures imported from _payments_fixtures are redefined as parameters
"""A slow card network must not starve the server: while sixteen ConfirmIntent calls wait on a
sandbox gateway that answers after seconds, catalog and cart calls keep their latency, and the
payments all complete. Real server, both databases; the card network is the sandbox made slow."""
from __future__ import annotations

import statistics
import time

from proto.omnifit.v1 import cart_pb2, catalog_pb2, payment_pb2
from tests.cloud.conftest import ServerThread, StockedSkus, Stubs, bearer
from tests.security._payments_fixtures import (  # noqa: F401 - fixtures
    S,
    cart,
    create,
    faces,
    kiosk,
    pay,
    server,
    skus,
    stubs,
)

SLOW_NETWORK_S = 3.0
PAYMENTS = 16


def _latencies(stubs: Stubs, kiosk: str, cart_id: str, rounds: int) -> tuple[list[float], list[float]]:
    stores, carts = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        stubs.catalog.ListStores(catalog_pb2.ListStoresRequest(), timeout=30)
        stores.append(time.perf_counter() - started)
        started = time.perf_counter()
        stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart_id), metadata=bearer(kiosk), timeout=30)
        carts.append(time.perf_counter() - started)
    return stores, carts


def test_catalog_and_cart_calls_keep_their_latency_while_the_gateway_is_slow(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    shown = cart(stubs, kiosk, skus.plenty, key="browse")
    intents = [create(pay, kiosk, cart(stubs, kiosk, skus.plenty, key=f"p{index}"), key=f"i{index}")
               for index in range(PAYMENTS)]
    quiet_stores, quiet_carts = _latencies(stubs, kiosk, shown.cart_id, 5)
    gateway = server.running.payments.gateways["sandbox"]
    gateway.timeout_delay_s, gateway.latency_s = 3 * SLOW_NETWORK_S, SLOW_NETWORK_S  # slow, but it answers
    started = time.perf_counter()
    calls = [pay.ConfirmIntent.future(payment_pb2.ConfirmIntentRequest(intent_id=intent.intent_id,
                                                                       idempotency_key=f"c{index}"),
                                      metadata=bearer(kiosk), timeout=60) for index, intent in enumerate(intents)]
    time.sleep(0.5)  # the confirmations are in: every one of them waits on the network now
    busy_stores, busy_carts = _latencies(stubs, kiosk, shown.cart_id, 10)
    assert time.perf_counter() - started < SLOW_NETWORK_S, "the latency samples ran past the network's delay"
    results = [call.result() for call in calls]
    elapsed = time.perf_counter() - started
    assert [result.status for result in results] == [S.PAYMENT_INTENT_STATUS_AUTHORIZED] * PAYMENTS
    # The payments wait on the network side by side, not one pool's width at a time.
    assert elapsed < 3 * SLOW_NETWORK_S, elapsed
    # On a loaded 2-core test machine a call takes a few ms to tens of ms; starved it took seconds.
    assert statistics.median(busy_stores) < max(0.25, 10 * statistics.median(quiet_stores)), (quiet_stores, busy_stores)
    assert statistics.median(busy_carts) < max(0.25, 10 * statistics.median(quiet_carts)), (quiet_carts, busy_carts)
    assert max(busy_stores + busy_carts) < SLOW_NETWORK_S / 2, (busy_stores, busy_carts)


def test_the_gateway_pool_is_bounded_and_answers_a_hung_call_in_time() -> None:
    """A gateway call that hangs past the pool's deadline is answered UNAVAILABLE (its worker stays
    busy until it ends), and calls beyond the pool's room are refused at once, not queued."""
    import asyncio
    import threading

    import pytest

    from cloud.api.payments import GatewayPool, GatewayUnavailable
    from cloud.errors import RateLimited

    released = threading.Event()
    pool = GatewayPool(workers=1, queue=1, deadline_s=0.3)

    async def scenario() -> None:
        hung = asyncio.ensure_future(pool.run(released.wait, 10))
        queued = asyncio.ensure_future(pool.run(time.sleep, 0))
        await asyncio.sleep(0.05)
        with pytest.raises(RateLimited):
            await pool.run(time.sleep, 0)
        started = time.perf_counter()
        with pytest.raises(GatewayUnavailable):
            await hung
        assert time.perf_counter() - started < 1.0
        with pytest.raises(RateLimited):  # the hung call still holds its worker and its place
            await pool.run(time.sleep, 0)
        released.set()
        await asyncio.gather(queued, return_exceptions=True)  # answered, or past the deadline behind the hung call
        await asyncio.sleep(0.05)
        assert await pool.run(lambda: "answered") == "answered"

    asyncio.run(scenario())
