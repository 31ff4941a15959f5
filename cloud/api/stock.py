"""``StockService`` over gRPC: low stock and replenishment requests for a store's staff.

A thin adapter over :class:`cloud.domain.stock.StockService`, where the access rules live
(staff only, their own store; idempotency keys on every change).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc

from cloud.api.errors import grpc_errors
from cloud.api.servicers import Services
from cloud.domain.stock import CountResult, Reason, Replenishment, Status, StockService
from cloud.domain.validate import require_idempotency_key
from proto.omnifit.v1 import stock_pb2, stock_pb2_grpc

if TYPE_CHECKING:
    Context = grpc.aio.ServicerContext[Any, Any]

_STATUS = {Status.OPEN: stock_pb2.REPLENISHMENT_STATUS_OPEN, Status.RECEIVED: stock_pb2.REPLENISHMENT_STATUS_RECEIVED,
           Status.CANCELLED: stock_pb2.REPLENISHMENT_STATUS_CANCELLED}
_REASON = {Reason.ORDER: stock_pb2.REPLENISHMENT_REASON_ORDER, Reason.COUNT: stock_pb2.REPLENISHMENT_REASON_COUNT,
           Reason.STAFF: stock_pb2.REPLENISHMENT_REASON_STAFF}


def replenishment_message(request: Replenishment) -> stock_pb2.Replenishment:
    return stock_pb2.Replenishment(
        request_id=request.request_id, store_id=request.store_id, sku=request.sku, quantity=request.quantity,
        status=_STATUS[request.status], reason=_REASON[request.reason], raised_by=request.raised_by,
        created_at_ms=request.created_at_ms, closed_at_ms=request.closed_at_ms, closed_by=request.closed_by,
    )


def count_message(result: CountResult) -> stock_pb2.StockCountResult:
    message = stock_pb2.StockCountResult(sku=result.sku, on_hand=result.on_hand, safety_stock=result.safety_stock)
    if result.raised is not None:
        message.raised.CopyFrom(replenishment_message(result.raised))
    return message


class StockServicer(stock_pb2_grpc.StockServiceServicer):
    def __init__(self, services: Services, stock: StockService) -> None:
        self.s = services
        self.stock = stock

    @grpc_errors
    async def ListLowStock(self, request: stock_pb2.ListLowStockRequest, context: Context) -> stock_pb2.ListLowStockResponse:
        principal = await self.s.principal(context)
        items = await self.s.database.run(self.stock.list_low_stock, principal, request.store_id)
        return stock_pb2.ListLowStockResponse(items=[
            stock_pb2.LowStockItem(sku=i.sku, product_name=i.product_name, size_label=i.size_label, colour=i.colour,
                                   on_hand=i.on_hand, safety_stock=i.safety_stock, open_request_id=i.open_request_id)
            for i in items])

    @grpc_errors
    async def ListReplenishments(self, request: stock_pb2.ListReplenishmentsRequest,
                                 context: Context) -> stock_pb2.ListReplenishmentsResponse:
        principal = await self.s.principal(context)
        requests = await self.s.database.run(self.stock.list_requests, principal, request.store_id, request.open_only)
        return stock_pb2.ListReplenishmentsResponse(requests=[replenishment_message(r) for r in requests])

    @grpc_errors
    async def RaiseReplenishment(self, request: stock_pb2.RaiseReplenishmentRequest,
                                 context: Context) -> stock_pb2.Replenishment:
        principal = await self.s.principal(context)
        key = require_idempotency_key(request.idempotency_key)
        raised = await self.s.database.run_write(self.stock.raise_request, principal, request.store_id, request.sku,
                                                 request.quantity, key)
        return replenishment_message(raised)

    @grpc_errors
    async def ReceiveReplenishment(self, request: stock_pb2.ReplenishmentActionRequest,
                                   context: Context) -> stock_pb2.Replenishment:
        principal = await self.s.principal(context)
        key = require_idempotency_key(request.idempotency_key)
        return replenishment_message(await self.s.database.run_write(self.stock.receive, principal, request.request_id, key))

    @grpc_errors
    async def CancelReplenishment(self, request: stock_pb2.ReplenishmentActionRequest,
                                  context: Context) -> stock_pb2.Replenishment:
        principal = await self.s.principal(context)
        key = require_idempotency_key(request.idempotency_key)
        return replenishment_message(await self.s.database.run_write(self.stock.cancel, principal, request.request_id, key))

    @grpc_errors
    async def RecordStockCount(self, request: stock_pb2.RecordStockCountRequest,
                               context: Context) -> stock_pb2.StockCountResult:
        principal = await self.s.principal(context)
        key = require_idempotency_key(request.idempotency_key)
        result = await self.s.database.run_write(self.stock.record_count, principal, request.store_id, request.sku,
                                                 request.counted, key)
        return count_message(result)
