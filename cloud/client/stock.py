"""The stock calls' values on the client side: low stock and replenishment requests (``StockService``)."""
from __future__ import annotations

from dataclasses import dataclass

from proto.omnifit.v1 import stock_pb2

_STATUS = {stock_pb2.REPLENISHMENT_STATUS_OPEN: "open", stock_pb2.REPLENISHMENT_STATUS_RECEIVED: "received",
           stock_pb2.REPLENISHMENT_STATUS_CANCELLED: "cancelled"}
_REASON = {stock_pb2.REPLENISHMENT_REASON_ORDER: "order", stock_pb2.REPLENISHMENT_REASON_COUNT: "count",
           stock_pb2.REPLENISHMENT_REASON_STAFF: "staff"}


@dataclass(frozen=True)
class Replenishment:
    request_id: str
    store_id: str
    sku: str
    quantity: int
    status: str  # "open", "received" or "cancelled"
    reason: str  # "order", "count" or "staff"
    raised_by: str
    created_at_ms: int
    closed_at_ms: int
    closed_by: str


@dataclass(frozen=True)
class LowStockItem:
    sku: str
    product_name: str
    size_label: str
    colour: str
    on_hand: int
    safety_stock: int
    open_request_id: str


@dataclass(frozen=True)
class StockCount:
    sku: str
    on_hand: int
    safety_stock: int
    raised: Replenishment | None


def replenishment(message: stock_pb2.Replenishment) -> Replenishment:
    return Replenishment(message.request_id, message.store_id, message.sku, message.quantity,
                         _STATUS.get(message.status, "unknown"), _REASON.get(message.reason, "unknown"),
                         message.raised_by, message.created_at_ms, message.closed_at_ms, message.closed_by)


def low_stock_item(message: stock_pb2.LowStockItem) -> LowStockItem:
    return LowStockItem(message.sku, message.product_name, message.size_label, message.colour, message.on_hand,
                        message.safety_stock, message.open_request_id)


def stock_count(message: stock_pb2.StockCountResult) -> StockCount:
    raised = replenishment(message.raised) if message.HasField("raised") else None
    return StockCount(message.sku, message.on_hand, message.safety_stock, raised)
