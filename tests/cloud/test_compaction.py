"""Cart change-log compaction: old versions go, each cart keeps its newest, and a watch resuming
from a compacted version still ends with the right cart (a SNAPSHOT, then live changes)."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from cloud.api.servicers import Services
from cloud.domain.retention import HOUR_MS, compact_changes
from cloud.domain.types import now_ms
from cloud.errors import InvalidArgument
from cloud.storage import Database, schema
from cloud.testing import REPO_ROOT
from proto.omnifit.v1 import cart_pb2
from tests.cloud.conftest import STORE, ServerThread, StockedSkus, Stubs, Watcher, bearer, device

_changes = schema.cart_changes


def _versions(database: Database, cart_id: str) -> list[int]:
    with database.read() as conn:
        return list(conn.execute(sa.select(_changes.c.version).where(_changes.c.cart_id == cart_id)
                                 .order_by(_changes.c.version)).scalars())


def _age(database: Database, cart_id: str, hours: float, upto: int | None = None) -> None:
    """Make the cart's stored versions (up to ``upto``) look ``hours`` old."""
    condition = _changes.c.cart_id == cart_id
    if upto is not None:
        condition = sa.and_(condition, _changes.c.version <= upto)
    with database.write() as conn:
        conn.execute(_changes.update().where(condition).values(created_at_ms=now_ms() - int(hours * HOUR_MS)))


def test_compaction_keeps_the_window_and_each_carts_newest(services: Services, skus: StockedSkus) -> None:
    kiosk = device(services)
    carts = services.carts
    busy = carts.create_cart(kiosk, STORE, "busy").cart.cart_id
    for i in range(5):
        carts.add_line(kiosk, busy, f"busy-{i}", skus.missing, 1)
    paid = carts.create_cart(kiosk, STORE, "paid").cart.cart_id
    carts.add_line(kiosk, paid, "paid-1", skus.plenty, 1)
    carts.check_out(kiosk, paid, "paid-out")
    fresh = carts.create_cart(kiosk, STORE, "fresh").cart.cart_id
    carts.add_line(kiosk, fresh, "fresh-1", skus.plenty, 2)
    _age(services.database, busy, 30, upto=4)  # v1..v4 old, v5 and v6 inside the window
    _age(services.database, paid, 30)  # checked out and idle: every version old
    before = {cart: carts.get_cart(kiosk, cart) for cart in (busy, paid, fresh)}

    assert compact_changes(services.database, window_hours=24, batch_carts=1) == 4 + 2
    assert _versions(services.database, busy) == [5, 6]
    assert _versions(services.database, paid) == [3]  # the checked-out cart keeps its last snapshot
    assert _versions(services.database, fresh) == [1, 2]
    assert {cart: carts.get_cart(kiosk, cart) for cart in before} == before
    assert compact_changes(services.database, window_hours=24) == 0
    with pytest.raises(InvalidArgument, match="0 hours"):
        compact_changes(services.database, window_hours=0)


def test_watch_resuming_across_a_compaction_ends_with_the_right_cart(server: ServerThread, stubs: Stubs, skus: StockedSkus) -> None:
    token = server.services.accounts.issue_device_token(STORE).token
    meta = bearer(token)
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=meta)
    watcher = Watcher(stubs.carts, cart.cart_id, token)
    try:
        assert watcher.next().cart.version == 1
        for i in range(3):
            stubs.carts.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key=f"a{i}", sku=skus.missing, quantity=1),
                                metadata=meta)
        seen = [watcher.next().cart.version for _ in range(3)]
    finally:
        watcher.close()  # the phone goes offline having seen v4
    assert seen == [2, 3, 4]
    for i in range(3):  # meanwhile the kiosk keeps changing the cart
        stubs.carts.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key=f"b{i}", sku=skus.plenty, quantity=1),
                            metadata=meta)
    database = server.services.database
    _age(database, cart.cart_id, 48)
    assert compact_changes(database, window_hours=24) == 6
    assert _versions(database, cart.cart_id) == [7]
    expected = stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=meta)

    resumed = Watcher(stubs.carts, cart.cart_id, token, after_version=4)
    try:
        snapshot = resumed.next()
        assert snapshot.kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT and snapshot.cart == expected
        assert sorted((line.sku, line.quantity) for line in snapshot.cart.lines) == sorted([(skus.missing, 3), (skus.plenty, 3)])
        stubs.carts.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="c0", sku=skus.plenty, quantity=1), metadata=meta)
        live = resumed.next()
        assert live.kind == cart_pb2.CART_CHANGE_KIND_LINE_ADDED and live.cart.version == 8
    finally:
        resumed.close()
    inside = Watcher(stubs.carts, cart.cart_id, token, after_version=7)  # still inside the kept log: no snapshot
    try:
        assert inside.next().kind == cart_pb2.CART_CHANGE_KIND_LINE_ADDED
    finally:
        inside.close()


def test_admin_prune_compacts_from_the_command_line(sqlite_url: str, services: Services, skus: StockedSkus) -> None:
    kiosk = device(services)
    cart_id = services.carts.create_cart(kiosk, STORE, "k").cart.cart_id
    services.carts.add_line(kiosk, cart_id, "k1", skus.plenty, 1)
    _age(services.database, cart_id, 3)
    url = services.database.url.render_as_string(hide_password=False)
    args = [sys.executable, "-m", "omnifit.cli", "admin", "prune", "--db", url, "--json"]
    kept = subprocess.run([*args, "--change-window-hours", "4"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["cart_changes"] == 0
    compacted = subprocess.run([*args, "--change-window-hours", "2"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert compacted.returncode == 0, compacted.stderr
    assert json.loads(compacted.stdout)["cart_changes"] == 1 and _versions(services.database, cart_id) == [2]
    refused = subprocess.run([*args, "--change-window-hours", "0"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "0 hours" in refused.stderr


def test_the_server_compacts_on_its_schedule(db_url: str, skus: StockedSkus) -> None:
    from cloud.server import ServerConfig
    from tests.cloud.conftest import ServerThread

    running = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=2,
                                        change_window_hours=1, compact_every_s=0.4)).start()
    try:
        services = running.services
        kiosk = device(services)
        cart_id = services.carts.create_cart(kiosk, STORE, "sched").cart.cart_id
        services.carts.add_line(kiosk, cart_id, "sched-1", skus.plenty, 1)
        _age(services.database, cart_id, 2)  # both versions older than the 1 h window
        deadline = time.monotonic() + 15
        while _versions(services.database, cart_id) != [2] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _versions(services.database, cart_id) == [2]
    finally:
        running.stop()
