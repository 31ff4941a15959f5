"""Group commit: writes queued together share one transaction, yet each stays all-or-nothing.

SQLite: every write queued while the writer thread was busy, each in a savepoint. PostgreSQL:
cart mutations (``run_batched``) on a few writer threads, bare, with the whole batch run again
write by write when one fails after sending changes or meets another transaction's lock.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from cloud.api.servicers import Services
from cloud.domain.types import ChangeKind
from cloud.fanout import CartHub
from cloud.server import build_services
from cloud.storage import Database, open_database, schema
from cloud.storage.database import PG_WRITER_THREADS
from tests.cloud.conftest import STORE, StockedSkus, device


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    """Group commit is SQLite's (PostgreSQL writers each run their own transaction)."""
    db = open_database(sqlite_url, pool_size=2)
    yield db
    db.close()


def _insert_setting(database: Database, key: str) -> str:
    with database.write() as conn:
        conn.execute(schema.settings.insert().values(key=key, value="1"))
    return key


def _insert_bad_stock(database: Database) -> None:
    with database.write() as conn:
        conn.execute(schema.settings.insert().values(key="half-done", value="1"))
        conn.execute(schema.stock.insert().values(store_id="no-such-store", sku="no-such-sku", on_hand=1))


async def _in_one_batch(database: Database, *calls: tuple) -> list[object]:
    """Run ``calls`` (fn, args...) as writes queued while the writer thread is held, so they form one batch."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        held.set()
        release.wait(10)

    blocker = asyncio.ensure_future(database.run_write(hold))
    await asyncio.to_thread(held.wait, 10)
    futures = [asyncio.ensure_future(database.run_write(fn, *args)) for fn, *args in calls]
    await asyncio.sleep(0.05)  # every call is queued behind the held one
    release.set()
    await blocker
    return await asyncio.gather(*futures, return_exceptions=True)


def _settings(database: Database) -> set[str]:
    with database.read() as conn:
        return set(conn.execute(sa.select(schema.settings.c.key)).scalars())


def test_a_failing_write_rolls_back_alone_and_the_rest_commit(database: Database) -> None:
    calls = [(_insert_setting, database, "first"), (_insert_bad_stock, database), (_insert_setting, database, "last")]
    results = asyncio.run(_in_one_batch(database, *calls))
    assert results[0] == "first" and results[2] == "last"
    assert isinstance(results[1], sa.exc.IntegrityError)
    stored = _settings(database)
    assert {"first", "last"} <= stored and "half-done" not in stored


def _insert_stock_checked_at_commit(database: Database) -> None:
    """A write that succeeds itself but makes its batch's COMMIT fail (a foreign key checked only then)."""
    with database.write() as conn:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.execute(schema.stock.insert().values(store_id="no-such-store", sku="no-such-sku", on_hand=1))


def test_when_the_batch_commit_fails_no_caller_hears_success(database: Database) -> None:
    calls = [(_insert_setting, database, "good"), (_insert_stock_checked_at_commit, database)]
    results = asyncio.run(_in_one_batch(database, *calls))
    assert all(isinstance(result, sa.exc.IntegrityError) for result in results)
    assert "good" not in _settings(database)
    assert _insert_setting(database, "after") == "after"


def test_a_duplicate_in_the_same_batch_replays_the_first_result(database: Database, skus: StockedSkus) -> None:
    services: Services = build_services(database, CartHub())
    kiosk = device(services)
    cart_id = services.carts.create_cart(kiosk, STORE, "create").cart.cart_id
    add = (services.carts.add_line, kiosk, cart_id, "same-key", skus.plenty, 1)
    first, second = asyncio.run(_in_one_batch(database, add, add))
    assert first.change is not None and second.change is None
    assert second.cart == first.cart
    assert [c.kind for c in services.carts.changes_after(cart_id, 0)] == [ChangeKind.CREATED, ChangeKind.LINE_ADDED]


def test_writes_from_other_threads_still_commit_on_their_own(database: Database) -> None:
    _insert_setting(database, "outside")
    with pytest.raises(sa.exc.IntegrityError):
        _insert_bad_stock(database)
    stored = _settings(database)
    assert "outside" in stored and "half-done" not in stored


@pytest.fixture
def pg_database(pg_schema_url: str) -> Iterator[Database]:
    db = open_database(pg_schema_url, pool_size=6)
    yield db
    db.close()


async def _in_one_pg_batch(database: Database, *calls: tuple) -> list[object]:
    """Run cart mutations queued while every PostgreSQL writer thread is held: the first freed takes them all."""
    held, release = threading.Semaphore(0), threading.Event()

    def hold() -> None:
        held.release()
        release.wait(10)

    blockers = []
    for _ in range(PG_WRITER_THREADS):  # one at a time, so each lands on an idle thread
        blockers.append(asyncio.ensure_future(database.run_batched(hold)))
        assert await asyncio.to_thread(held.acquire, True, 10)
    futures = [asyncio.ensure_future(database.run_batched(fn, *args)) for fn, *args in calls]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(*blockers)
    return await asyncio.gather(*futures, return_exceptions=True)


def _kinds(services: Services, cart_id: str) -> list[ChangeKind]:
    return [change.kind for change in services.carts.changes_after(cart_id, 0)]


def test_pg_cart_writes_in_one_batch_each_commit_once(pg_database: Database, skus: StockedSkus) -> None:
    services = build_services(pg_database, CartHub())
    kiosk = device(services)
    carts = [services.carts.create_cart(kiosk, STORE, f"create-{i}").cart.cart_id for i in range(3)]
    calls = [(services.carts.add_line, kiosk, cart_id, f"add-{cart_id}", skus.plenty, 1) for cart_id in carts]
    calls.append((services.carts.add_line, kiosk, carts[0], "add-again", skus.plenty, 2))
    results = asyncio.run(_in_one_pg_batch(pg_database, *calls))
    assert [r.cart.version for r in results] == [2, 2, 2, 3]  # type: ignore[union-attr]
    assert results[3].cart.lines[0].quantity == 3  # type: ignore[union-attr]
    assert _kinds(services, carts[0]) == [ChangeKind.CREATED, ChangeKind.LINE_ADDED, ChangeKind.LINE_ADDED]
    assert all(_kinds(services, cart_id) == [ChangeKind.CREATED, ChangeKind.LINE_ADDED] for cart_id in carts[1:])


def test_pg_a_replayed_key_in_a_batch_changes_nothing_twice(pg_database: Database, skus: StockedSkus) -> None:
    services = build_services(pg_database, CartHub())
    kiosk = device(services)
    cart_id = services.carts.create_cart(kiosk, STORE, "create").cart.cart_id
    other = services.carts.create_cart(kiosk, STORE, "create-other").cart.cart_id
    add = (services.carts.add_line, kiosk, cart_id, "same-key", skus.plenty, 1)
    first, second, third = asyncio.run(_in_one_pg_batch(
        pg_database, add, add, (services.carts.add_line, kiosk, other, "other-key", skus.plenty, 1)))
    # the replay rolls the batch back and both run again, at once: either may be the one that wrote
    assert sorted(r.change is None for r in (first, second)) == [False, True]  # type: ignore[union-attr]
    assert second.cart == first.cart  # type: ignore[union-attr]
    assert third.cart.version == 2  # type: ignore[union-attr]
    assert _kinds(services, cart_id) == [ChangeKind.CREATED, ChangeKind.LINE_ADDED]
    assert _kinds(services, other) == [ChangeKind.CREATED, ChangeKind.LINE_ADDED]


def test_pg_a_cart_locked_elsewhere_does_not_stall_or_fail_the_batch(
    pg_database: Database, pg_schema_url: str, skus: StockedSkus
) -> None:
    """Another replica holds one cart's lock: the batch's NOWAIT lock fails, the batch runs again write by
    write, the free cart's write commits at once and the locked one waits for the lock, then commits."""
    import psycopg

    services = build_services(pg_database, CartHub())
    kiosk = device(services)
    locked = services.carts.create_cart(kiosk, STORE, "create-locked").cart.cart_id
    free = services.carts.create_cart(kiosk, STORE, "create-free").cart.cart_id
    raw = pg_database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(raw) as other_replica:
        other_replica.execute("SELECT 1 FROM carts WHERE cart_id = %s FOR UPDATE", (locked,))

        async def scenario() -> list[object]:
            batch = asyncio.ensure_future(_in_one_pg_batch(
                pg_database,
                (services.carts.add_line, kiosk, locked, "add-locked", skus.plenty, 1),
                (services.carts.add_line, kiosk, free, "add-free", skus.plenty, 1),
            ))
            await asyncio.sleep(0.5)
            free_done = _kinds(services, free) == [ChangeKind.CREATED, ChangeKind.LINE_ADDED]
            locked_done = len(_kinds(services, locked)) > 1
            assert free_done and not locked_done
            await asyncio.to_thread(other_replica.rollback)
            return await batch

        results = asyncio.run(scenario())
    assert all(r.cart.version == 2 for r in results)  # type: ignore[union-attr]
    assert _kinds(services, locked) == [ChangeKind.CREATED, ChangeKind.LINE_ADDED]
