"""``PaymentService`` over gRPC: request fields, conversion and the servicer over
:class:`cloud.domain.payments.PaymentAccess`, where the use cases and their access rules live.

Calls that wait on the card network (``ConfirmIntent``, ``CaptureIntent``, ``CancelIntent``,
``RefundIntent``) run on a pool of their own (:class:`GatewayPool`), so a slow network holds
none of the database workers that catalog and cart calls need; the rest run on the database pool.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from cloud.api import convert
from cloud.api.convert import to_wire_enum
from cloud.api.errors import Context, grpc_errors
from cloud.api.servicers import Services
from cloud.domain.faces import FaceAccess
from cloud.domain.payments import (
    DEFAULT_GATEWAY,
    NewIntent,
    PaymentAccess,
    PaymentReply,
    open_payments,
    require_staff,
)
from cloud.domain.types import Principal
from cloud.domain.validate import require_id, require_idempotency_key
from cloud.errors import CloudError, InvalidArgument, RateLimited
from omnifit.errors import ErrorCode
from payments.errors import PaymentsError
from payments.money import CURRENCY_EXPONENTS, Money
from payments.receipts import PAPER_WIDTH_DOTS, ReceiptDocument
from payments.service import PaymentService
from payments.stepup import check_pin_format
from payments.tokens import check_payment_token
from proto.omnifit.v1 import common_pb2, payment_pb2, payment_pb2_grpc

__all__ = ["GatewayPool", "GatewayUnavailable", "PaymentServicer", "intent_message", "open_payments", "receipt_message"]
T = TypeVar("T")
if TYPE_CHECKING:
    Context = Context
GATEWAY_WORKERS = 32     # payments waiting on the card network at once
GATEWAY_QUEUE = 256      # beyond these many waiting for a worker, a payment call is refused at once
GATEWAY_DEADLINE_S = 30.0  # the payment service's lease: a call still busy then is answered UNAVAILABLE


class GatewayUnavailable(CloudError):
    """The card network kept a payment call past the pool's deadline; its outcome is found by retrying."""

    code = ErrorCode.UNAVAILABLE


class GatewayPool:
    """A bounded pool for blocking calls that wait on the card network.

    At most ``workers`` run at once; up to ``queue`` more wait for a worker, and a call beyond that
    is refused with ``RESOURCE_EXHAUSTED`` rather than queued without end. How long one network
    call may take is the gateway client's timeout (the payment service books a call that timed out
    as interrupted and reconciles it by lookup, never by sending it again); should a call still be
    busy after ``deadline_s`` (a gateway plugin without a timeout), the caller is answered
    ``UNAVAILABLE`` — the intent keeps its state, and a retry with the same key learns it — while
    the call keeps its worker and its place until it ends.
    """

    def __init__(self, workers: int = GATEWAY_WORKERS, queue: int = GATEWAY_QUEUE,
                 deadline_s: float = GATEWAY_DEADLINE_S) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="omnifit-gateway")
        self._admitted = threading.BoundedSemaphore(workers + queue)
        self.capacity = workers + queue
        self.deadline_s = deadline_s

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if not self._admitted.acquire(blocking=False):
            raise RateLimited(f"{self.capacity} payments are already waiting on the card network; retry shortly",
                              retry_after_s=1)
        call = self._executor.submit(functools.partial(fn, *args))
        call.add_done_callback(lambda _: self._admitted.release())
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(call)), self.deadline_s)
        except TimeoutError:
            raise GatewayUnavailable(f"the card network has not answered in {self.deadline_s:g} s; the payment is "
                                     "unchanged or finishing: retry with the same idempotency key to learn which") from None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------- request fields


def _money(message: common_pb2.Money, present: bool, field: str) -> Money:
    """A positive amount in a supported currency; errors name ``field.currency`` or ``field.minor_units``."""
    if not present:
        raise InvalidArgument(f"{field} is required (minor_units and an ISO 4217 currency)", field=field)
    if message.currency not in CURRENCY_EXPONENTS:
        raise InvalidArgument(
            f"{field}.currency {message.currency[:8]!r} is not supported; expected one of {sorted(CURRENCY_EXPONENTS)}",
            field=f"{field}.currency",
        )
    if message.minor_units <= 0:
        raise InvalidArgument(f"{field}.minor_units must be more than zero; got {message.minor_units}",
                              field=f"{field}.minor_units")
    return Money(message.minor_units, message.currency)


def _checked(check: Callable[[str], str], value: str, field: str) -> str:
    """``check(value)`` with its error restated under the wire field's name."""
    try:
        return check(value)
    except PaymentsError as exc:
        raise InvalidArgument(f"{field}: {exc.message}", field=field) from exc


def _scoped_key(principal: Principal, key: str) -> str:
    """The caller's key, scoped to the caller (one caller's key never replays another's result)."""
    require_idempotency_key(key)
    caller = hashlib.sha256(principal.key.encode("utf-8")).hexdigest()[:16]
    return f"{principal.kind.value}:{caller}/{key}"


# ---------------------------------------------------------------------- protobuf


def intent_message(reply: PaymentReply) -> payment_pb2.PaymentIntent:
    intent = reply.intent
    return payment_pb2.PaymentIntent(
        intent_id=intent.intent_id,
        status=to_wire_enum(payment_pb2.PaymentIntentStatus, "PAYMENT_INTENT_STATUS", intent.state),
        amount=convert.money(intent.amount),
        captured=convert.money(intent.captured),
        refunded=convert.money(intent.refunded),
        cart_id=intent.cart_id,
        store_id=intent.store_id,
        shopper_id=intent.shopper_id,
        payment_method=reply.payment_method,
        gateway=intent.gateway,
        lines=[payment_pb2.PaymentLine(sku=line.sku, quantity=line.quantity, unit_price=convert.money(line.unit_price),
                                       description=line.description) for line in intent.lines],
        step_up_required=intent.step_up_required,
        failure_code=intent.failure_code or "",
        order_id=reply.order_id,
        created_at_ms=intent.created_at_ms,
        updated_at_ms=intent.updated_at_ms,
    )


def receipt_message(document: ReceiptDocument, png: bytes) -> payment_pb2.Receipt:
    order, receipt = document.order, document.receipt
    return payment_pb2.Receipt(
        receipt_id=receipt.receipt_id, order_id=receipt.order_id, intent_id=receipt.intent_id, url=receipt.url,
        store_id=order.store_id, store_name=document.store_name,
        lines=[payment_pb2.ReceiptLine(sku=line.sku, description=line.description, quantity=line.quantity,
                                       unit_price=convert.money(line.unit_price), fulfilment=line.fulfilment.value)
               for line in order.lines],
        total=convert.money(order.total), payment_method=document.payment_method,
        created_at_ms=receipt.created_at_ms, printable_png=png,
    )


class PaymentServicer(payment_pb2_grpc.PaymentServiceServicer):
    def __init__(self, services: Services, payments: PaymentService, faces: FaceAccess,
                 gateway_pool: GatewayPool | None = None) -> None:
        self.s = services
        self.access = PaymentAccess(services, payments, faces)
        self.payments = payments
        self.network = gateway_pool if gateway_pool is not None else GatewayPool()

    async def _run(self, fn: Callable[..., PaymentReply], *args: object) -> payment_pb2.PaymentIntent:
        return intent_message(await self.s.database.run(fn, *args))

    async def _on_network(self, fn: Callable[..., PaymentReply], *args: object) -> payment_pb2.PaymentIntent:
        return intent_message(await self.network.run(fn, *args))

    @grpc_errors
    async def CreateIntent(self, request: payment_pb2.CreateIntentRequest, context: Context) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        new = NewIntent(
            key=_scoped_key(principal, request.idempotency_key),
            cart_id=require_id(request.cart_id, "cart_id", max_length=64),
            amount=_money(request.amount, request.HasField("amount"), "amount"),
            payment_token=request.payment_token and _checked(check_payment_token, request.payment_token, "payment_token"),
            shopper_id=request.shopper_id and require_id(request.shopper_id, "shopper_id", max_length=64),
            gateway=request.gateway or DEFAULT_GATEWAY,
            face_match_token=request.face_match_token,
        )
        return await self._run(self.access.create, principal, new)

    @grpc_errors
    async def ConfirmIntent(self, request: payment_pb2.ConfirmIntentRequest,
        context: Context) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        intent_id, key = self._target(principal, request)
        pin = _checked(check_pin_format, request.pin, "pin") if request.HasField("pin") else None
        return await self._on_network(self.access.confirm, principal, intent_id, key, pin, request.face_match_close)

    @grpc_errors
    async def CaptureIntent(self, request: payment_pb2.CaptureIntentRequest,
        context: Context) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        intent_id, key = self._target(principal, request)
        reply, change = await self.network.run(self.access.capture, principal, intent_id, key)
        self.s.publish(change)
        return intent_message(reply)

    @grpc_errors
    async def CancelIntent(self, request: payment_pb2.CancelIntentRequest, context: Context) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        intent_id, key = self._target(principal, request)
        return await self._on_network(self.access.cancel, principal, intent_id, key)

    @grpc_errors
    async def RefundIntent(self, request: payment_pb2.RefundIntentRequest, context: Context) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        require_staff(principal)
        intent_id, key = self._target(principal, request)
        amount = _money(request.amount, request.HasField("amount"), "amount")
        return await self._on_network(self.access.refund, principal, intent_id, key, amount)

    @grpc_errors
    async def GetIntent(self, request: payment_pb2.GetIntentRequest, context: Context) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        return await self._run(self.access.get, principal, require_id(request.intent_id, "intent_id", max_length=64))

    @grpc_errors
    async def ListStorePayments(self, request: payment_pb2.ListStorePaymentsRequest,
                                context: Context) -> payment_pb2.ListStorePaymentsResponse:
        principal = await self.s.principal(context)
        replies, next_token = await self.s.database.run(self.access.list_store, principal, request.store_id,
                                                        request.page.page_size, request.page.page_token)
        return payment_pb2.ListStorePaymentsResponse(intents=[intent_message(reply) for reply in replies],
                                                     page=common_pb2.PageResponse(next_page_token=next_token))

    @grpc_errors
    async def GetReceipt(self, request: payment_pb2.GetReceiptRequest, context: Context) -> payment_pb2.Receipt:
        principal = await self.s.principal(context)
        intent_id = require_id(request.intent_id, "intent_id", max_length=64)
        if request.paper_mm and request.paper_mm not in PAPER_WIDTH_DOTS:
            raise InvalidArgument(f"paper_mm {request.paper_mm}; expected 0 (no image) or one of {sorted(PAPER_WIDTH_DOTS)}",
                                  field="paper_mm")
        document, png = await self.s.database.run(self.access.receipt, principal, intent_id, request.paper_mm)
        return receipt_message(document, png)

    @staticmethod
    def _target(principal: Principal, request: object) -> tuple[str, str]:
        """The request's intent id and its caller-scoped idempotency key, both checked."""
        intent_id = require_id(request.intent_id, "intent_id", max_length=64)  # type: ignore[attr-defined]
        return intent_id, _scoped_key(principal, request.idempotency_key)  # type: ignore[attr-defined]
