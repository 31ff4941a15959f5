"""SQLite group commit: writes queued together share one transaction, yet each stays all-or-nothing."""
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
