"""Two real ``omnifit serve`` processes on one PostgreSQL schema: a change written through one
replica reaches a watcher on the other through LISTEN/NOTIFY, every change, in order."""
from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import pytest

from assets.catalog.seed import load_seed
from cloud.admin import issue_device_token
from cloud.testing import ServerProcess
from proto.omnifit.v1 import cart_pb2, catalog_pb2
from tests.cloud.conftest import STORE, Watcher, bearer, stubs_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def replicas(pg_schema_url: str) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    token = issue_device_token(pg_schema_url, STORE)  # migrates and seeds before the servers race to
    servers = [ServerProcess(pg_schema_url).start(), ServerProcess(pg_schema_url).start()]
    try:
        yield servers[0], servers[1], token
    finally:
        for server in servers:
            server.stop()


def test_writes_through_one_replica_reach_watchers_on_the_other(replicas: tuple[ServerProcess, ServerProcess, str]) -> None:
    first, second, token = replicas
    with grpc.insecure_channel(first.target) as ch_a, grpc.insecure_channel(second.target) as ch_b:
        a, b = stubs_for(ch_a), stubs_for(ch_b)
        cart = b.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(token))
        sku = a.catalog.GetStock(catalog_pb2.GetStockRequest(store_id=STORE, product_id=load_seed().products[0].product_id)).levels[0].sku
        watch_a = Watcher(a.carts, cart.cart_id, token)
        watch_b = Watcher(b.carts, cart.cart_id, token)
        try:
            assert watch_a.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
            assert watch_b.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
            delays = []
            for i in range(20):
                writer = b if i % 2 == 0 else a
                started = time.monotonic()
                written = writer.carts.AddLine(
                    cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key=f"k{i}", sku=sku, quantity=1), metadata=bearer(token)
                )
                seen_a, seen_b = watch_a.next(), watch_b.next()
                delays.append(time.monotonic() - started)
                assert seen_a.cart.version == seen_b.cart.version == written.version == i + 2
                assert seen_a.cart == written == seen_b.cart
            # far below the 5 s safety re-read: the notification did the work
            assert sorted(delays)[len(delays) // 2] < 1.0
        finally:
            watch_a.close()
            watch_b.close()


def test_watchers_survive_a_dropped_listen_connection(pg_schema_url: str) -> None:
    import psycopg

    from cloud.server import LISTENER_APPLICATION_NAME, ServerConfig
    from tests.cloud.conftest import ServerThread

    watched = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=pg_schema_url, pool_size=2)).start()
    writer = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=pg_schema_url, pool_size=2)).start()
    try:
        token = writer.services.accounts.issue_device_token(STORE).token
        with grpc.insecure_channel(watched.address) as ch_a, grpc.insecure_channel(writer.address) as ch_b:
            a, b = stubs_for(ch_a), stubs_for(ch_b)
            cart = b.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(token))
            stock = catalog_pb2.GetStockRequest(store_id=STORE, product_id=load_seed().products[0].product_id)
            sku = b.catalog.GetStock(stock).levels[0].sku
            watcher = Watcher(a.carts, cart.cart_id, token)
            try:
                assert watcher.next().cart.version == 1
                raw = pg_schema_url.replace("postgresql+psycopg", "postgresql").split("?")[0]
                with psycopg.connect(raw, autocommit=True) as conn:
                    killed = conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                        (LISTENER_APPLICATION_NAME.format(port=watched.running.port),),
                    ).fetchall()
                assert killed, "the LISTEN connections should show under their application name"
                written = b.carts.AddLine(
                    cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="after-drop", sku=sku, quantity=1), metadata=bearer(token)
                )
                assert watcher.next(timeout=15).cart == written
                assert watched.running.listener.connected.wait(10), "the listener should reconnect"
            finally:
                watcher.close()
    finally:
        writer.stop()
        watched.stop()


def test_a_lost_database_connection_is_unavailable_then_recovers(pg_schema_url: str) -> None:
    import os

    import psycopg

    from cloud.server import ServerConfig
    from cloud.storage.database import POOL_APPLICATION_NAME
    from tests.cloud.conftest import ServerThread

    server = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=pg_schema_url, pool_size=2)).start()
    try:
        token = server.services.accounts.issue_device_token(STORE).token
        with grpc.insecure_channel(server.address) as channel:
            stubs = stubs_for(channel)
            cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(token))
            raw = pg_schema_url.replace("postgresql+psycopg", "postgresql").split("?")[0]
            with psycopg.connect(raw, autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                    (f"{POOL_APPLICATION_NAME}-{os.getpid()}",),
                )
            codes = []
            for _ in range(4):
                try:
                    stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(token))
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    codes.append(exc.code())
            # the pooled connection is dead: that call is retryable, never INTERNAL; the next ones reconnect
            assert codes[0] == grpc.StatusCode.UNAVAILABLE and set(codes[1:]) == {grpc.StatusCode.OK}, codes
    finally:
        server.stop()
