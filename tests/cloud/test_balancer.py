"""A real gRPC load balancer (HAProxy, health checks on the gRPC health service) in front of two
``omnifit serve`` replicas on PostgreSQL: a replica killed mid-load and the kiosk's and phone's
SyncClients carry on through the balancer with nothing lost or doubled; the sign-in lockout counts
the client that the balancer names in x-forwarded-for (``--trusted-proxy``), not the balancer."""
from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from cloud.admin import issue_device_token
from cloud.client import ClientError, SyncClient
from cloud.client.client import RetryPolicy
from cloud.client.types import Cart, CartEvent
from cloud.testing import Balancer, ServerProcess, haproxy_binary
from tests.cloud.conftest import STORE

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PROXY_SOURCE = "127.0.0.3"  # the balancer's own address towards the replicas: the one trusted proxy


@pytest.fixture
def balanced(pg_schema_url: str) -> Iterator[tuple[Balancer, list[ServerProcess], str]]:
    if haproxy_binary() is None:
        message = "haproxy is not installed (Debian package haproxy)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    token = issue_device_token(pg_schema_url, STORE)  # migrates and seeds before the replicas start
    args = ("--trusted-proxy", f"{PROXY_SOURCE}/32")
    replicas = [ServerProcess(pg_schema_url, extra_args=args).start() for _ in range(2)]
    balancer = Balancer([r.target for r in replicas], source=PROXY_SOURCE, also_ipv6=True).start()
    try:
        yield balancer, replicas, token
    finally:
        balancer.stop()
        for replica in replicas:
            replica.stop()


def _retry() -> RetryPolicy:
    return RetryPolicy(attempts=8, initial_backoff_s=0.05, max_backoff_s=0.5, call_timeout_s=5.0)


def test_clients_carry_on_through_the_balancer_when_a_replica_dies(balanced: tuple[Balancer, list[ServerProcess], str]) -> None:
    balancer, replicas, kiosk_token = balanced

    async def journey() -> None:
        async with SyncClient(balancer.target, token=kiosk_token, retry=_retry()) as kiosk, \
                SyncClient(balancer.target, retry=_retry()) as phone:
            session = await phone.register("lb-shopper@example.com", "correct horse 1", "+8613800138000", "LB")
            phone.token = session.token
            products = await kiosk.list_products(store_id=STORE)
            skus = [variant.sku for product in products.products[:4] for variant in product.variants[:1]]
            cart = await kiosk.create_cart(STORE)
            code = await kiosk.create_pairing_code(cart.cart_id)
            claimed, _ = await phone.claim_pairing_code(code.code)
            events: list[CartEvent] = []

            async def watch() -> None:
                async for event in phone.watch(cart.cart_id, after_version=claimed.version):
                    events.append(event)

            watching = asyncio.create_task(watch())
            added: dict[str, int] = {}
            acked: list[int] = []
            for i in range(40):
                client = kiosk if i % 2 == 0 else phone
                sku = skus[i % len(skus)]
                result = await client.add_line(cart.cart_id, sku, 1)
                assert isinstance(result, Cart), f"mutation {i} was queued, not applied: {result}"
                acked.append(result.version)
                added[sku] = added.get(sku, 0) + 1
                if i == 15:
                    replicas[0].kill()  # mid-load, no goodbye: in-flight calls and the watch break
                await asyncio.sleep(0.02)
            assert kiosk.pending_mutations == phone.pending_mutations == 0
            final = await kiosk.get_cart(cart.cart_id)
            deadline = asyncio.get_running_loop().time() + 15
            while (not events or events[-1].cart.version < final.version) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            assert not watching.done(), watching.exception()  # the watch never gave up
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)

            assert sorted(acked) == acked and len(set(acked)) == 40  # each add applied once, in order
            quantities: dict[str, int] = {}
            for line in final.lines:
                quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
            assert quantities == added  # nothing lost, nothing doubled
            assert final.version == claimed.version + 40
            versions = [event.cart.version for event in events]
            assert versions == sorted(set(versions)) and versions[-1] == final.version
            assert events[-1].cart == final  # the phone ends with the right cart

    asyncio.run(journey())
    assert replicas[1].process is not None and replicas[1].process.poll() is None


def test_sign_in_lockout_counts_the_client_the_balancer_names(balanced: tuple[Balancer, list[ServerProcess], str]) -> None:
    balancer, _replicas, _token = balanced

    async def attack() -> None:
        async with SyncClient(balancer.target, retry=_retry()) as attacker, \
                SyncClient(balancer.target_ipv6, retry=_retry()) as neighbour:
            await neighbour.register("neighbour@example.com", "correct horse 1", "+8613800138001", "N")
            for i in range(50):  # unknown accounts, so only the per-address count can lock
                with pytest.raises(ClientError) as wrong:
                    await attacker.sign_in(f"nobody{i}@example.com", "wrong password")
                assert wrong.value.code.name == "UNAUTHENTICATED", wrong.value
            with pytest.raises(ClientError) as locked:
                await attacker.sign_in("neighbour@example.com", "correct horse 1")
            assert locked.value.code.name == "RESOURCE_EXHAUSTED"
            # Behind the same balancer another client address still signs in: the lock is not everyone's.
            assert (await neighbour.sign_in("neighbour@example.com", "correct horse 1")).token
            # Writing its own x-forwarded-for does not move the attacker: the balancer appends the real one.
            spoofing = SyncClient(balancer.target, retry=_retry())
            spoofing._metadata = lambda: (("x-forwarded-for", "198.51.100.9"),)  # type: ignore[method-assign]
            try:
                with pytest.raises(ClientError) as still:
                    await spoofing.sign_in("neighbour@example.com", "correct horse 1")
                assert still.value.code.name == "RESOURCE_EXHAUSTED"
            finally:
                await spoofing.close()

    asyncio.run(attack())


def test_the_balancer_takes_a_stopped_replica_out_on_its_health_check(balanced: tuple[Balancer, list[ServerProcess], str]) -> None:
    balancer, replicas, token = balanced

    async def calls() -> None:
        async with SyncClient(balancer.target, token=token, retry=RetryPolicy(attempts=1)) as kiosk:
            assert await asyncio.to_thread(balancer.wait_up, ["r0", "r1"])
            replicas[0].process.send_signal(signal.SIGSTOP)  # hung, not dead: only a health check sees it
            try:
                assert await asyncio.to_thread(balancer.wait_up, ["r1"])
                for _ in range(10):  # single attempts, no client retry: the balancer routes around it
                    await asyncio.wait_for(kiosk.create_cart(STORE), 5)
            finally:
                replicas[0].process.send_signal(signal.SIGCONT)
            assert await asyncio.to_thread(balancer.wait_up, ["r0", "r1"])  # and back in once it answers SERVING

    asyncio.run(calls())
