"""NATS as the fan-out (``omnifit serve --fanout nats://…``) with a real ``nats-server``: two
replicas on one database, a watcher on one, writes through the other, the bus killed and
restarted mid-run. The database's change log is the truth: a message lost while the bus is
down only delays the watcher; it still gets every version, in order, and the right cart."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from assets.catalog.seed import load_seed
from cloud.admin import issue_device_token
from cloud.fanout_nats import shard_subject
from cloud.testing import ServerProcess, free_port
from proto.omnifit.v1 import cart_pb2, catalog_pb2
from tests.cloud.conftest import STORE, Watcher, bearer, stubs_for

pytestmark = [pytest.mark.slow]
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


class NatsServer:
    """A ``nats-server`` of the test's own on a fixed port, so it can be restarted on the same address."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.process = subprocess.Popen([NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import socket

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise TimeoutError("nats-server did not listen")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    if not Path(NATS_SERVER).is_file():
        message = "nats-server is not installed (Debian package nats-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = NatsServer(free_port()).start()
    yield server
    server.kill()


def test_shards_spread_carts_over_subjects() -> None:
    subjects = {shard_subject(f"ct_{i}", 16) for i in range(500)}
    assert len(subjects) == 16 and all(s.startswith("omnifit.cart.") for s in subjects)
    assert shard_subject("ct_1", 16) == shard_subject("ct_1", 16)


def test_watcher_on_one_replica_hears_writes_on_another_across_a_bus_restart(db_url: str, nats_server: NatsServer) -> None:
    token = issue_device_token(db_url, STORE)  # migrates and seeds before the replicas start
    args = ("--fanout", nats_server.url)
    writer_server, watcher_server = ServerProcess(db_url, extra_args=args).start(), ServerProcess(db_url, extra_args=args).start()
    meta = bearer(token)
    try:
        with grpc.insecure_channel(writer_server.target) as ch_w, grpc.insecure_channel(watcher_server.target) as ch_r:
            writer, reader = stubs_for(ch_w), stubs_for(ch_r)
            product = load_seed().products[0].product_id
            sku = writer.catalog.GetStock(catalog_pb2.GetStockRequest(store_id=STORE, product_id=product)).levels[0].sku
            cart = writer.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=meta)
            watcher = Watcher(reader.carts, cart.cart_id, token)
            seen: list[cart_pb2.CartEvent] = []

            def add(key: str) -> cart_pb2.Cart:
                return writer.carts.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key=key, sku=sku, quantity=1),
                                            metadata=meta)

            def wake_up_delays(prefix: str, n: int) -> list[float]:
                delays = []
                for i in range(n):
                    started = time.monotonic()
                    written = add(f"{prefix}{i}")
                    seen.append(watcher.next(timeout=15))
                    delays.append(time.monotonic() - started)
                    assert seen[-1].cart == written
                return delays

            try:
                assert watcher.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
                before = wake_up_delays("a", 8)
                # The watchers' own re-read is every 5 s: these came over the bus.
                assert sorted(before)[len(before) // 2] < 1.0, before

                nats_server.kill()
                down = wake_up_delays("b", 3)  # announced to nobody: the periodic re-read finds them in the log
                # ~5 s each: nothing else (no NOTIFY on PostgreSQL, nothing on SQLite) carried them.
                assert min(down) > 1.0, down
                nats_server.start()
                deadline, attempt = time.monotonic() + 15, 0
                while time.monotonic() < deadline:  # both replicas reconnect on their own
                    attempt += 1
                    if wake_up_delays(f"c{attempt}-", 1)[0] < 1.0:
                        break
                after = wake_up_delays("d", 6)
                assert sorted(after)[len(after) // 2] < 1.0, after
            finally:
                watcher.close()
            final = reader.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=meta)
            versions = [event.cart.version for event in seen]
            assert versions == list(range(2, final.version + 1))  # every change, once, in order
            assert seen[-1].cart == final and final.lines[0].quantity == final.version - 1
    finally:
        writer_server.stop()
        watcher_server.stop()

