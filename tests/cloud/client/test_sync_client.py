"""The sync client against real ``omnifit serve`` processes: outbox, failover, resume, cache."""
from __future__ import annotations

import asyncio
import time

import pytest

from cloud.client import CartEvent, CloudUnavailable, QueuedMutation, RetryPolicy, SyncClient
from cloud.testing import ServerProcess, free_port

FAST_RETRY = RetryPolicy(attempts=3, initial_backoff_s=0.02, max_backoff_s=0.2, call_timeout_s=3.0)


async def _store_and_skus(client: SyncClient, count: int) -> tuple[str, list[str]]:
    """A store and ``count`` distinct SKUs it holds, found through the public catalog."""
    store_id = (await client.list_stores())[0].store_id
    page = await client.list_products(store_id=store_id, in_stock_only=True, page_size=50)
    skus: list[str] = []
    for product in page.products:
        levels = await client.stock(store_id, [v.sku for v in product.variants])
        skus += [sku for sku, on_hand in levels.items() if on_hand > 0][:2]
        if len(skus) >= count:
            return store_id, skus[:count]
    raise AssertionError(f"store {store_id} has fewer than {count} SKUs in stock")


async def _wait_for(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def _device_token(db_url: str, store_id: str) -> str:
    from cloud.admin import issue_device_token

    return issue_device_token(db_url, store_id)


@pytest.mark.slow
def test_offline_mutations_are_replayed_exactly_once_in_order(sqlite_url, tmp_path):
    port = free_port()
    server = ServerProcess(sqlite_url, port).start()
    outbox = tmp_path / "kiosk-outbox.sqlite"

    async def scenario() -> None:
        nonlocal server
        async with SyncClient(server.target) as browser:
            store_id, skus = await _store_and_skus(browser, 6)
        token = _device_token(sqlite_url, store_id)
        async with SyncClient(server.target, token=token, store_path=outbox, retry=FAST_RETRY) as kiosk:
            cart = await kiosk.create_cart(store_id)
            server.kill()
            queued = [await kiosk.add_line(cart.cart_id, sku) for sku in skus[:4]]
            assert all(isinstance(q, QueuedMutation) for q in queued)
            assert kiosk.pending_mutations == 4
        # The kiosk app restarts while still offline: the outbox file keeps everything.
        async with SyncClient(f"127.0.0.1:{port}", token=token, store_path=outbox, retry=FAST_RETRY) as kiosk:
            assert kiosk.pending_mutations == 4
            more = [await kiosk.add_line(cart.cart_id, sku) for sku in skus[4:]]
            assert all(isinstance(q, QueuedMutation) for q in more)
            server = ServerProcess(sqlite_url, port).start()
            await _wait_for(lambda: kiosk.pending_mutations == 0)
            final = await kiosk.get_cart(cart.cart_id)
            assert [line.sku for line in final.lines] == skus
            assert all(line.quantity == 1 for line in final.lines)
            assert final.version == cart.version + len(skus)
            assert kiosk.dead_letters() == []

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


@pytest.mark.slow
def test_replaying_an_applied_mutation_changes_nothing(sqlite_url, tmp_path):
    """The answer to a mutation can be lost after the cloud applied it; the replay must not apply it twice."""
    server = ServerProcess(sqlite_url).start()

    async def scenario() -> None:
        async with SyncClient(server.target) as browser:
            store_id, skus = await _store_and_skus(browser, 1)
        token = _device_token(sqlite_url, store_id)
        async with SyncClient(server.target, token=token, store_path=tmp_path / "o.sqlite") as kiosk:
            cart = await kiosk.create_cart(store_id)
            applied = await kiosk.add_line(cart.cart_id, skus[0], idempotency_key="lost-answer-1")
            from proto.omnifit.v1 import cart_pb2

            request = cart_pb2.AddLineRequest(cart_id=cart.cart_id, sku=skus[0], quantity=1, idempotency_key="lost-answer-1")
            kiosk.store.enqueue(cart.cart_id, "AddLine", "lost-answer-1", request.SerializeToString())
            assert await kiosk.flush_outbox() == 1
            after = await kiosk.get_cart(cart.cart_id)
            assert after.version == applied.version
            assert after.quantity_of(skus[0]) == 1

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


@pytest.mark.slow
def test_refused_replay_goes_to_dead_letters_not_lost(sqlite_url, tmp_path):
    server = ServerProcess(sqlite_url).start()

    async def scenario() -> None:
        async with SyncClient(server.target) as browser:
            store_id, _ = await _store_and_skus(browser, 1)
        token = _device_token(sqlite_url, store_id)
        async with SyncClient(server.target, token=token, store_path=tmp_path / "o.sqlite") as kiosk:
            cart = await kiosk.create_cart(store_id)
            from proto.omnifit.v1 import cart_pb2

            request = cart_pb2.AddLineRequest(cart_id=cart.cart_id, sku="NO-SUCH-SKU", quantity=1, idempotency_key="k-unknown")
            kiosk.store.enqueue(cart.cart_id, "AddLine", "k-unknown", request.SerializeToString())
            assert await kiosk.flush_outbox() == 0
            [(entry, reason)] = kiosk.dead_letters()
            assert entry.idempotency_key == "k-unknown"
            assert "NO-SUCH-SKU" in reason
            assert kiosk.pending_mutations == 0
            assert (await kiosk.get_cart(cart.cart_id)).version == cart.version

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


@pytest.mark.slow
def test_catalog_is_served_from_cache_while_the_cloud_is_down(sqlite_url, tmp_path):
    server = ServerProcess(sqlite_url).start()

    async def scenario() -> None:
        async with SyncClient(server.target, store_path=tmp_path / "c.sqlite", retry=FAST_RETRY, catalog_ttl_s=0) as client:
            online = await client.list_products(category="shoes", page_size=10)
            assert online.products and not online.stale
            server.kill()
            offline = await client.list_products(category="shoes", page_size=10)
            assert offline.stale
            assert [p.product_id for p in offline.products] == [p.product_id for p in online.products]
            with pytest.raises(CloudUnavailable):
                await client.list_products(category="tops", page_size=10)

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.postgres
def test_watch_and_writes_fail_over_when_a_replica_is_killed(pg_schema_url):
    """Two replicas on one PostgreSQL; the one both devices use dies mid-stream."""
    first = ServerProcess(pg_schema_url).start()
    second = ServerProcess(pg_schema_url).start()
    mutations = 12

    async def scenario() -> None:
        async with SyncClient(first.target) as browser:
            store_id, skus = await _store_and_skus(browser, mutations)
        token = _device_token(pg_schema_url, store_id)
        targets = [first.target, second.target]
        async with (
            SyncClient(targets, token=token, retry=FAST_RETRY) as kiosk,
            SyncClient(targets, token=token, retry=FAST_RETRY) as watcher,
        ):
            cart = await kiosk.create_cart(store_id)
            seen: list[CartEvent] = []

            async def watch() -> None:
                async for event in watcher.watch(cart.cart_id):
                    seen.append(event)

            task = asyncio.create_task(watch())
            await _wait_for(lambda: len(seen) >= 1)
            for index, sku in enumerate(skus):
                if index == mutations // 2:
                    first.kill()
                result = await kiosk.add_line(cart.cart_id, sku)
                assert not isinstance(result, QueuedMutation), "the second replica should have taken the write"
            final = await kiosk.get_cart(cart.cart_id)
            await _wait_for(lambda: seen[-1].cart.version == final.version)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert sorted(line.sku for line in final.lines) == sorted(skus)
            assert all(line.quantity == 1 for line in final.lines)
            versions = [event.cart.version for event in seen]
            assert versions == list(range(versions[0], final.version + 1)), "the watcher missed or repeated a change"

    try:
        asyncio.run(scenario())
    finally:
        first.stop()
        second.stop()
