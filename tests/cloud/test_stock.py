"""StockService over gRPC on SQLite and PostgreSQL: low stock, replenishment requests, and who may see them."""
from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa

from cloud.admin import assign_staff_stores, create_staff
from cloud.domain.stock import StockService
from cloud.storage import open_database, schema
from proto.omnifit.v1 import stock_pb2, stock_pb2_grpc
from tests.cloud.conftest import bearer

STORE, OTHER_STORE = "sh-jingan", "bj-sanlitun"
PASSWORD = "correct horse 1"


@pytest.fixture
def stock(server):
    with grpc.insecure_channel(server.address) as channel:
        yield stock_pb2_grpc.StockServiceStub(channel)


def _staff_token(server, staff_id: str, stores: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    create_staff(server.config.db_url, staff_id, PASSWORD, stores=stores)
    return bearer(server.services.accounts.staff_sign_in(staff_id, PASSWORD).token)


def _level(db_url: str, sku: str, store: str = STORE) -> int:
    database = open_database(db_url, pool_size=1)
    try:
        with database.read() as conn:
            return int(conn.execute(sa.select(schema.stock.c.on_hand).where(
                schema.stock.c.store_id == store, schema.stock.c.sku == sku)).scalar_one())
    finally:
        database.close()


def _safe_sku(db_url: str) -> tuple[str, int]:
    """A SKU of STORE at or above its safety stock, and that safety stock."""
    database = open_database(db_url, pool_size=1)
    s, f = schema.stock, schema.safety_stock
    try:
        with database.read() as conn:
            row = conn.execute(sa.select(s.c.sku, f.c.minimum).join(f, sa.and_(f.c.store_id == s.c.store_id, f.c.sku == s.c.sku))
                               .where(s.c.store_id == STORE, s.c.on_hand >= f.c.minimum + 1).order_by(s.c.sku).limit(1)).one()
            return row.sku, int(row.minimum)
    finally:
        database.close()


def test_the_seeded_store_lists_its_low_stock_emptiest_first(server, stock):
    staff = _staff_token(server, "alice", (STORE,))
    items = stock.ListLowStock(stock_pb2.ListLowStockRequest(store_id=STORE), metadata=staff).items
    assert items, "the seed has SKUs below their safety stock"
    assert all(item.on_hand < item.safety_stock for item in items)
    assert [item.on_hand for item in items] == sorted(item.on_hand for item in items)
    assert all(item.product_name and item.size_label for item in items)


def test_a_count_below_safety_stock_opens_one_request_until_it_is_received(server, stock):
    staff = _staff_token(server, "alice", (STORE,))
    sku, minimum = _safe_sku(server.config.db_url)
    counted = stock.RecordStockCount(stock_pb2.RecordStockCountRequest(store_id=STORE, sku=sku, counted=minimum - 1,
                                                                       idempotency_key="count-1"), metadata=staff)
    assert counted.on_hand == minimum - 1 and counted.HasField("raised")
    request = counted.raised
    assert request.status == stock_pb2.REPLENISHMENT_STATUS_OPEN and request.reason == stock_pb2.REPLENISHMENT_REASON_COUNT
    again = stock.RecordStockCount(stock_pb2.RecordStockCountRequest(store_id=STORE, sku=sku, counted=0,
                                                                     idempotency_key="count-2"), metadata=staff)
    assert not again.HasField("raised")  # once per SKU until received
    low = {item.sku: item for item in stock.ListLowStock(stock_pb2.ListLowStockRequest(store_id=STORE), metadata=staff).items}
    assert low[sku].open_request_id == request.request_id and low[sku].on_hand == 0
    received = stock.ReceiveReplenishment(stock_pb2.ReplenishmentActionRequest(request_id=request.request_id,
                                                                              idempotency_key="in-1"), metadata=staff)
    assert received.status == stock_pb2.REPLENISHMENT_STATUS_RECEIVED and received.closed_by == "alice"
    assert _level(server.config.db_url, sku) == request.quantity  # the delivery is on the shelf
    replay = stock.ReceiveReplenishment(stock_pb2.ReplenishmentActionRequest(request_id=request.request_id,
                                                                            idempotency_key="in-1"), metadata=staff)
    assert replay == received and _level(server.config.db_url, sku) == request.quantity  # a retry adds nothing
    with pytest.raises(grpc.RpcError) as twice:
        stock.ReceiveReplenishment(stock_pb2.ReplenishmentActionRequest(request_id=request.request_id,
                                                                        idempotency_key="in-2"), metadata=staff)
    assert twice.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    reopened = stock.RecordStockCount(stock_pb2.RecordStockCountRequest(store_id=STORE, sku=sku, counted=0,
                                                                        idempotency_key="count-3"), metadata=staff)
    assert reopened.HasField("raised") and reopened.raised.request_id != request.request_id


def test_staff_raise_one_by_hand_and_cancel_it_with_idempotency_keys(server, stock):
    staff = _staff_token(server, "alice", (STORE,))
    sku, _ = _safe_sku(server.config.db_url)
    ask = stock_pb2.RaiseReplenishmentRequest(store_id=STORE, sku=sku, quantity=6, idempotency_key="raise-1")
    raised = stock.RaiseReplenishment(ask, metadata=staff)
    assert raised.quantity == 6 and raised.reason == stock_pb2.REPLENISHMENT_REASON_STAFF and raised.raised_by == "alice"
    assert stock.RaiseReplenishment(ask, metadata=staff) == raised  # the same key and request: the first answer
    with pytest.raises(grpc.RpcError) as reused:
        stock.RaiseReplenishment(stock_pb2.RaiseReplenishmentRequest(store_id=STORE, sku=sku, quantity=7,
                                                                     idempotency_key="raise-1"), metadata=staff)
    assert reused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as open_already:
        stock.RaiseReplenishment(stock_pb2.RaiseReplenishmentRequest(store_id=STORE, sku=sku, idempotency_key="raise-2"),
                                 metadata=staff)
    assert open_already.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    before = _level(server.config.db_url, sku)
    cancelled = stock.CancelReplenishment(stock_pb2.ReplenishmentActionRequest(request_id=raised.request_id,
                                                                              idempotency_key="cancel-1"), metadata=staff)
    assert cancelled.status == stock_pb2.REPLENISHMENT_STATUS_CANCELLED and _level(server.config.db_url, sku) == before
    listed = stock.ListReplenishments(stock_pb2.ListReplenishmentsRequest(store_id=STORE), metadata=staff).requests
    assert listed[0].request_id == raised.request_id and listed[0].status == stock_pb2.REPLENISHMENT_STATUS_CANCELLED
    assert not stock.ListReplenishments(stock_pb2.ListReplenishmentsRequest(store_id=STORE, open_only=True),
                                        metadata=staff).requests
    with pytest.raises(grpc.RpcError) as bad:
        stock.RaiseReplenishment(stock_pb2.RaiseReplenishmentRequest(store_id=STORE, sku="no-such-sku",
                                                                     idempotency_key="raise-3"), metadata=staff)
    assert bad.value.code() is grpc.StatusCode.NOT_FOUND


def test_a_shopper_a_kiosk_and_another_stores_staff_are_refused(server, stock):
    mine = _staff_token(server, "alice", (STORE,))
    other = _staff_token(server, "bob", (OTHER_STORE,))
    nowhere = _staff_token(server, "carol", ())
    shopper_id = server.services.accounts.register_shopper("s@example.com", PASSWORD, "+8613800138000", "s")
    assert shopper_id is not None
    shopper = bearer(server.services.accounts.sign_in("s@example.com", PASSWORD).token)
    kiosk = bearer(server.services.accounts.issue_device_token(STORE).token)
    sku, _ = _safe_sku(server.config.db_url)
    raised = stock.RaiseReplenishment(stock_pb2.RaiseReplenishmentRequest(store_id=STORE, sku=sku, idempotency_key="k"),
                                      metadata=mine)
    for who in (shopper, kiosk, other, nowhere):
        for call, request in ((stock.ListLowStock, stock_pb2.ListLowStockRequest(store_id=STORE)),
                              (stock.RecordStockCount, stock_pb2.RecordStockCountRequest(
                                  store_id=STORE, sku=sku, counted=0, idempotency_key="x"))):
            with pytest.raises(grpc.RpcError) as refused:
                call(request, metadata=who)
            assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as hidden:  # another store's request is as unknown as a made-up id
        stock.ReceiveReplenishment(stock_pb2.ReplenishmentActionRequest(request_id=raised.request_id, idempotency_key="y"),
                                   metadata=other)
    assert hidden.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as kiosk_refused:
        stock.CancelReplenishment(stock_pb2.ReplenishmentActionRequest(request_id=raised.request_id, idempotency_key="z"),
                                  metadata=kiosk)
    assert kiosk_refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assign_staff_stores(server.config.db_url, "bob", (STORE,))  # bob moves to the store: now he may
    assert stock.ListLowStock(stock_pb2.ListLowStockRequest(store_id=STORE), metadata=other).items


def test_an_order_that_leaves_a_sku_below_its_safety_stock_opens_a_request_once(server):
    sku, minimum = _safe_sku(server.config.db_url)
    database = server.services.database
    with database.write() as conn:  # what payments.orders.take_from_store does for a captured order
        conn.execute(sa.update(schema.stock).where(schema.stock.c.store_id == STORE, schema.stock.c.sku == sku)
                     .values(on_hand=minimum - 1))
    service = StockService(database)
    first = service.note_sold(STORE, [sku, sku])
    assert [r.sku for r in first] == [sku] and first[0].reason.value == "order" and first[0].raised_by == "system"
    assert service.note_sold(STORE, [sku]) == []  # a second order of the SKU adds no second request
