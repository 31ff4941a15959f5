"""OrderService: a shopper's own order history over gRPC (see ``cloud.domain.orders`` for the rules)."""
from __future__ import annotations

import grpc

from cloud.api import convert
from cloud.api.errors import grpc_errors
from cloud.api.servicers import Services
from cloud.domain.orders import OrderHistory, OrderSummary
from proto.omnifit.v1 import common_pb2, order_pb2, order_pb2_grpc


def order_message(summary: OrderSummary) -> order_pb2.Order:
    order = summary.order
    return order_pb2.Order(
        order_id=order.order_id, intent_id=order.intent_id, store_id=order.store_id, store_name=summary.store_name,
        total=convert.money(order.total), created_at_ms=order.created_at_ms,
        lines=[order_pb2.OrderLine(sku=line.sku, description=line.description, quantity=line.quantity,
                                   unit_price=convert.money(line.unit_price), fulfilment=line.fulfilment.value)
               for line in order.lines],
    )


class OrderServicer(order_pb2_grpc.OrderServiceServicer):
    def __init__(self, services: Services) -> None:
        self.s = services
        self.history = OrderHistory(services.database)

    @grpc_errors
    async def ListOrders(
        self, request: order_pb2.ListOrdersRequest,
        context: grpc.aio.ServicerContext[order_pb2.ListOrdersRequest, order_pb2.ListOrdersResponse],
    ) -> order_pb2.ListOrdersResponse:
        principal = await self.s.principal(context)
        page = await self.s.database.run(self.history.list_orders, principal, request.page.page_size, request.page.page_token)
        return order_pb2.ListOrdersResponse(
            orders=[order_message(summary) for summary in page.orders],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )
