"""Fixtures for the cloud tests: a real database (SQLite file or PostgreSQL schema), the
domain services over it, and a real gRPC server on an ephemeral port driven from a
background event loop so tests can use plain blocking stubs.
"""
from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
import sqlalchemy as sa

from cloud.api.servicers import Services
from cloud.domain.types import Principal, PrincipalKind
from cloud.fanout import CartHub
from cloud.server import RunningServer, ServerConfig, build_services, start_server
from cloud.storage import Database, open_database, schema
from proto.omnifit.v1 import cart_pb2, cart_pb2_grpc, catalog_pb2_grpc, pairing_pb2_grpc, profile_pb2_grpc

STORE = "sh-jingan"
OTHER_STORE = "bj-sanlitun"


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url, pool_size=4)
    yield db
    db.close()


@pytest.fixture
def services(database: Database) -> Services:
    return build_services(database, CartHub())


def device(services: Services, store_id: str = STORE) -> Principal:
    session = services.accounts.issue_device_token(store_id)
    return Principal(PrincipalKind.DEVICE, session.subject_id, store_id)


def shopper(services: Services, email: str) -> Principal:
    shopper_id = services.accounts.register_shopper(email, "correct horse 1", "+8613800138000", email.split("@")[0])
    assert shopper_id is not None, f"{email} was already registered"
    return Principal(PrincipalKind.SHOPPER, shopper_id)


@dataclass(frozen=True)
class StockedSkus:
    """SKUs of one shoe in ``STORE``: one the store holds plenty of, one it holds none of."""

    plenty: str
    plenty_on_hand: int
    missing: str


@pytest.fixture
def skus(database: Database) -> StockedSkus:
    v, s = schema.variants, schema.stock
    with database.read() as conn:
        plenty = conn.execute(
            sa.select(s.c.sku, s.c.on_hand).where(s.c.store_id == STORE, s.c.on_hand >= 3).order_by(s.c.sku).limit(1)
        ).one()
        held = sa.select(s.c.sku).where(s.c.store_id == STORE, s.c.on_hand > 0)
        missing = conn.execute(sa.select(v.c.sku).where(v.c.sku.not_in(held)).order_by(v.c.sku).limit(1)).scalar_one()
    return StockedSkus(plenty.sku, plenty.on_hand, missing)


class ServerThread:
    """``start_server`` on its own event loop in a daemon thread."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-grpc-server", daemon=True)
        self.running: RunningServer | None = None

    def start(self) -> ServerThread:
        self.thread.start()
        self.running = asyncio.run_coroutine_threadsafe(start_server(self.config), self.loop).result(60)
        return self

    def stop(self) -> None:
        if self.running is not None:
            asyncio.run_coroutine_threadsafe(self.running.stop(0.2), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def address(self) -> str:
        return self.running.address

    @property
    def services(self) -> Services:
        return self.running.services


@dataclass
class Stubs:
    channel: grpc.Channel
    catalog: catalog_pb2_grpc.CatalogServiceStub
    carts: cart_pb2_grpc.CartServiceStub
    pairing: pairing_pb2_grpc.PairingServiceStub
    accounts: profile_pb2_grpc.AccountServiceStub
    profiles: profile_pb2_grpc.ProfileServiceStub


def stubs_for(channel: grpc.Channel) -> Stubs:
    return Stubs(
        channel,
        catalog_pb2_grpc.CatalogServiceStub(channel),
        cart_pb2_grpc.CartServiceStub(channel),
        pairing_pb2_grpc.PairingServiceStub(channel),
        profile_pb2_grpc.AccountServiceStub(channel),
        profile_pb2_grpc.ProfileServiceStub(channel),
    )


@pytest.fixture
def server(db_url: str) -> Iterator[ServerThread]:
    # Reflection on (the discovery tests list the services by it); it is off by default, as
    # tests/security/test_tls_and_reflection.py checks.
    running = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=4, reflection=True)).start()
    yield running
    running.stop()


@pytest.fixture
def stubs(server: ServerThread) -> Iterator[Stubs]:
    with grpc.insecure_channel(server.address) as channel:
        yield stubs_for(channel)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class Watcher:
    """Reads a WatchCart stream on a thread so the test can wait for events with a timeout."""

    def __init__(self, stub: cart_pb2_grpc.CartServiceStub, cart_id: str, token: str, after_version: int = 0) -> None:
        self.events: queue.Queue[object] = queue.Queue()
        self.call = stub.WatchCart(cart_pb2.WatchCartRequest(cart_id=cart_id, after_version=after_version), metadata=bearer(token))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for event in self.call:
                self.events.put(event)
        except grpc.RpcError as exc:
            self.events.put(exc)

    def next(self, timeout: float = 10.0) -> cart_pb2.CartEvent:
        item = self.events.get(timeout=timeout)
        if isinstance(item, grpc.RpcError):
            raise item
        return item

    def close(self) -> None:
        self.call.cancel()
        self.thread.join(5)
