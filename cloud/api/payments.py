"""``PaymentService`` over gRPC: a thin servicer over :class:`payments.service.PaymentService`.

Who may do what (the cart service's own access rule decides whose cart it is):

* kiosk devices and shoppers create, confirm, capture and cancel the intents of carts
  they may see — a device the carts of its store that it created, a shopper its own;
* kiosks pay by face with the match token ``IdentifyFace`` gave (``face_match_token``): the
  payer and payment method are the matched shopper's enrolled ones, and a close match makes
  the intent need the PIN (it is not left to the kiosk to say so at confirm); the token is
  spent in the transaction that creates the intent, so it pays for one intent only;
* a wrong PIN is ``PERMISSION_DENIED`` (the token is fine, the second factor is not), a
  missing one ``FAILED_PRECONDITION``; PINs are the accounts layer's (``cloud.domain.pins``);
* staff read and cancel any intent (a cancel goes to ``staff_audit`` and the payments
  audit log in the cancel's own transaction) and are the only
  callers who refund (the staff id comes from the token and must be registered staff;
  the refund goes to the payments audit log with the ledger entry);
* someone else's intent is ``PERMISSION_DENIED``; a missing, forged or revoked token
  ``UNAUTHENTICATED``; a malformed field ``INVALID_ARGUMENT`` naming it.

An intent is created for an open cart's subtotal with the cart's lines, so a cart that
changed after it was shown is refused (``FAILED_PRECONDITION``) rather than charged the
wrong amount. Idempotency keys are scoped to the caller, as for every other mutation.
Payment calls block on the database and, through the gateway, the card network: they
run on the database worker pool.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import grpc

from cloud.api.convert import to_wire_enum
from cloud.api.errors import grpc_errors
from cloud.api.faces import FaceAccess, FacePayment, MatchTokenSpent
from cloud.api.servicers import Services
from cloud.domain.types import Cart, CartChange, CartStatus, Principal, PrincipalKind
from cloud.domain.validate import require_id, require_idempotency_key
from cloud.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from cloud.storage import Database
from payments.errors import PaymentsError
from payments.intents import IntentState, PaymentIntent, PurchaseLine, check_payment_token
from payments.money import CURRENCY_EXPONENTS, Money
from payments.receipts import PAPER_WIDTH_DOTS, ReceiptDocument, render_receipt_png
from payments.service import PaymentService, open_service
from payments.stepup import PinVerifier, check_pin_format
from proto.omnifit.v1 import common_pb2, payment_pb2, payment_pb2_grpc

_LOGGER = logging.getLogger(__name__)
DEFAULT_GATEWAY = "sandbox"
_PAYERS = frozenset({PrincipalKind.DEVICE, PrincipalKind.SHOPPER})
_HAS_ORDER = frozenset({IntentState.CAPTURED, IntentState.REFUNDED, IntentState.PARTIALLY_REFUNDED})


def open_payments(database: Database, pins: PinVerifier) -> PaymentService:
    """The payment service on the cloud database's own engine (its tables come from migration
    ``0002_payments``), checking PINs with the accounts layer's ``pins``."""
    return open_service(database.write_engine(), pin_verifier=pins)


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
    if not all("!" <= char <= "~" for char in key):  # what the payments key store accepts
        raise InvalidArgument("idempotency_key must be printable ASCII without spaces for payments", field="idempotency_key")
    caller = hashlib.sha256(principal.key.encode("utf-8")).hexdigest()[:16]
    return f"{principal.kind.value}:{caller}/{key}"


def _require_payer(principal: Principal, method: str) -> None:
    if principal.kind not in _PAYERS:
        raise PermissionDenied(f"{method}: payments are taken by a kiosk or the shopper's app, not a {principal.kind.value}")


def _require_staff(principal: Principal) -> None:
    if principal.kind is not PrincipalKind.STAFF:
        raise PermissionDenied(f"RefundIntent needs a staff credential; the caller is a {principal.kind.value}")


# ---------------------------------------------------------------------- blocking use cases


@dataclass(frozen=True)
class _Reply:
    intent: PaymentIntent
    order_id: str
    payment_method: str  # as the shopper knows it: "Visa ending 4242", "Face pay (Visa ending 4242)"


@dataclass(frozen=True)
class _NewIntent:
    key: str
    cart_id: str
    amount: Money
    payment_token: str
    shopper_id: str
    gateway: str
    face_match_token: str = ""


class PaymentAccess:
    """The payment use cases with the cloud's access rules; every method blocks (run it on the worker pool)."""

    def __init__(self, services: Services, payments: PaymentService, faces: FaceAccess) -> None:
        self.s = services
        self.payments = payments
        self.faces = faces

    def create(self, principal: Principal, new: _NewIntent) -> _Reply:
        _require_payer(principal, "CreateIntent")
        face: FacePayment | None = None
        if new.face_match_token:
            new, face = self._paid_by_face(principal, new)
        elif not new.payment_token:
            raise InvalidArgument("payment_token is required (or face_match_token after face pay)", field="payment_token")
        cart = self.s.carts.get_cart(principal, new.cart_id)
        self._check_payable(cart, new.amount)
        lines = tuple(
            PurchaseLine(line.sku, line.quantity, line.unit_price,
                         f"{line.name} {line.size_label}".strip())
            for line in cart.lines
        )
        spend = None if face is None else (
            lambda conn, intent: self.faces.spend_in(conn, face, new.key, intent.intent_id))
        try:
            intent = self.payments.create_intent(
                key=new.key, amount=new.amount, payment_token=new.payment_token, cart_id=cart.cart_id,
                store_id=cart.store_id, shopper_id=self._payer(principal, cart, new.shopper_id), gateway=new.gateway,
                lines=lines, step_up_required=face is not None and face.step_up, in_transaction=spend,
            )
        except MatchTokenSpent:
            raise self.faces.refuse_reuse(face, "") from None  # lost the race to a concurrent intent
        _LOGGER.info("%s created %s on cart %s", principal.key, intent.intent_id, cart.cart_id)
        return self._reply(intent)

    def _paid_by_face(self, principal: Principal, new: _NewIntent) -> tuple[_NewIntent, FacePayment]:
        """The request with the matched shopper as payer and their enrolled token; the match it spends."""
        if new.payment_token:
            raise InvalidArgument("give payment_token or face_match_token, not both", field="payment_token")
        face = self.faces.resolve_match(principal, new.face_match_token, new.key)
        if new.shopper_id and new.shopper_id != face.shopper_id:
            raise InvalidArgument(f"shopper_id {new.shopper_id!r} is not the shopper the face match names",
                                  field="shopper_id")
        return replace(new, shopper_id=face.shopper_id, payment_token=face.payment_token), face

    def act(self, principal: Principal, intent_id: str, action: Callable[[str], PaymentIntent], *,
            payers_only: bool = True, method: str) -> _Reply:
        """Run ``action(intent_id)`` once the caller may act on the intent's cart."""
        if payers_only:
            _require_payer(principal, method)
        self._visible(principal, intent_id)
        return self._reply(action(intent_id))

    def receipt(self, principal: Principal, intent_id: str, paper_mm: int) -> tuple[ReceiptDocument, bytes]:
        """The receipt document of a captured intent the caller may see, and its printable PNG when asked for."""
        intent = self._visible(principal, intent_id)
        document = replace(self.payments.receipt_document(intent_id), payment_method=self._payment_method(intent))
        return document, render_receipt_png(document, paper_mm=paper_mm) if paper_mm else b""

    def capture(self, principal: Principal, intent_id: str, key: str) -> tuple[_Reply, CartChange | None]:
        """Capture, then check the cart out so it cannot be paid twice; the change to publish.

        A retried capture checks the cart out too, should the first one have stopped in between.
        """
        reply = self.act(principal, intent_id, lambda target: self.payments.capture(target, key=key), method="CaptureIntent")
        intent = self.payments.get(intent_id)
        if intent.state is not IntentState.CAPTURED:
            return reply, None
        try:
            return reply, self.s.carts.check_out(principal, intent.cart_id, f"capture-{intent_id}").change
        except FailedPrecondition:
            if self.s.carts.get_cart(principal, intent.cart_id).status is not CartStatus.CHECKED_OUT:
                raise
            return reply, None  # another caller's capture of this intent closed it first

    def refund(self, principal: Principal, intent_id: str, key: str, amount: Money) -> _Reply:
        _require_staff(principal)
        return self._reply(self.payments.refund(intent_id, key=key, amount=amount, staff_id=principal.subject_id))

    def get(self, principal: Principal, intent_id: str) -> _Reply:
        return self._reply(self._visible(principal, intent_id))

    def _visible(self, principal: Principal, intent_id: str) -> PaymentIntent:
        """The intent when its cart is one the caller may see (staff see every intent)."""
        intent = self.payments.get(intent_id)
        if principal.kind is PrincipalKind.STAFF:
            return intent
        try:
            self.s.carts.get_cart(principal, intent.cart_id)
        except (NotFound, PermissionDenied) as exc:
            raise PermissionDenied(
                f"intent {intent_id} is for cart {intent.cart_id}, which belongs to another store or shopper",
                intent_id=intent_id,
            ) from exc
        return intent

    @staticmethod
    def _check_payable(cart: Cart, amount: Money) -> None:
        if cart.status is not CartStatus.OPEN:
            raise FailedPrecondition(f"cart {cart.cart_id} is {cart.status.value}; only an open cart can be paid",
                                     field="cart_id")
        if not cart.lines:
            raise FailedPrecondition(f"cart {cart.cart_id} has no lines to pay for", field="cart_id")
        subtotal = cart.subtotal
        if amount != subtotal:
            raise FailedPrecondition(
                f"amount {amount} does not match cart {cart.cart_id}'s subtotal {subtotal} at version {cart.version};"
                " show the cart again and pay its subtotal",
                field="amount",
            )

    @staticmethod
    def _payer(principal: Principal, cart: Cart, shopper_id: str) -> str:
        """Who pays: a shopper always themselves; a kiosk the shopper it names (face pay) or the cart's owner."""
        if principal.kind is PrincipalKind.SHOPPER:
            if shopper_id and shopper_id != principal.subject_id:
                raise PermissionDenied(f"shopper_id {shopper_id!r}: a shopper pays only as themselves",
                                       field="shopper_id")
            return principal.subject_id
        named = shopper_id or cart.owner_shopper_id
        if not named:
            raise InvalidArgument(
                f"shopper_id is required: cart {cart.cart_id} has no owner; name the shopper face pay identified",
                field="shopper_id",
            )
        return require_id(named, "shopper_id", max_length=64)

    def _reply(self, intent: PaymentIntent) -> _Reply:
        order = self.payments.order(intent.intent_id) if intent.state in _HAS_ORDER else None
        return _Reply(intent, order.order_id if order is not None else "", self._payment_method(intent))

    def _payment_method(self, intent: PaymentIntent) -> str:
        """The card as its gateway describes it, said to be face pay when a face match paid for the intent."""
        card = self.payments.payment_method(intent)
        return f"Face pay ({card})" if self.faces.paid_by_face(intent.intent_id) else card


# ---------------------------------------------------------------------- protobuf


def _wire_money(value: Money) -> common_pb2.Money:
    return common_pb2.Money(minor_units=value.minor, currency=value.currency)


def intent_message(reply: _Reply) -> payment_pb2.PaymentIntent:
    intent = reply.intent
    return payment_pb2.PaymentIntent(
        intent_id=intent.intent_id,
        status=to_wire_enum(payment_pb2.PaymentIntentStatus, "PAYMENT_INTENT_STATUS", intent.state),
        amount=_wire_money(intent.amount),
        captured=_wire_money(intent.captured),
        refunded=_wire_money(intent.refunded),
        cart_id=intent.cart_id,
        store_id=intent.store_id,
        shopper_id=intent.shopper_id,
        payment_method=reply.payment_method,
        gateway=intent.gateway,
        lines=[payment_pb2.PaymentLine(sku=line.sku, quantity=line.quantity, unit_price=_wire_money(line.unit_price),
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
                                       unit_price=_wire_money(line.unit_price), fulfilment=line.fulfilment.value)
               for line in order.lines],
        total=_wire_money(order.total), payment_method=document.payment_method,
        created_at_ms=receipt.created_at_ms, printable_png=png,
    )


class PaymentServicer(payment_pb2_grpc.PaymentServiceServicer):
    def __init__(self, services: Services, payments: PaymentService, faces: FaceAccess) -> None:
        self.s = services
        self.access = PaymentAccess(services, payments, faces)
        self.payments = payments

    async def _run(self, fn: Callable[..., _Reply], *args: object, **kwargs: object) -> payment_pb2.PaymentIntent:
        return intent_message(await self.s.database.run(fn, *args, **kwargs))

    @grpc_errors
    async def CreateIntent(self, request: payment_pb2.CreateIntentRequest, context: grpc.aio.ServicerContext) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        new = _NewIntent(
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
    async def ConfirmIntent(self, request: payment_pb2.ConfirmIntentRequest, context: grpc.aio.ServicerContext) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        intent_id, key = self._target(principal, request)
        pin = _checked(check_pin_format, request.pin, "pin") if request.HasField("pin") else None

        def confirm(target: str) -> PaymentIntent:
            return self.payments.confirm(target, key=key, pin=pin, face_match_close=request.face_match_close)

        return await self._run(self.access.act, principal, intent_id, confirm, method="ConfirmIntent")

    @grpc_errors
    async def CaptureIntent(self, request: payment_pb2.CaptureIntentRequest, context: grpc.aio.ServicerContext) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        intent_id, key = self._target(principal, request)
        reply, change = await self.s.database.run(self.access.capture, principal, intent_id, key)
        self.s.publish(change)
        return intent_message(reply)

    @grpc_errors
    async def CancelIntent(self, request: payment_pb2.CancelIntentRequest, context: grpc.aio.ServicerContext) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        intent_id, key = self._target(principal, request)
        staff_id = principal.subject_id if principal.kind is PrincipalKind.STAFF else None
        return await self._run(self.access.act, principal, intent_id,
                               lambda target: self.payments.cancel(target, key=key, staff_id=staff_id),
                               payers_only=False, method="CancelIntent")

    @grpc_errors
    async def RefundIntent(self, request: payment_pb2.RefundIntentRequest, context: grpc.aio.ServicerContext) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        _require_staff(principal)
        intent_id, key = self._target(principal, request)
        amount = _money(request.amount, request.HasField("amount"), "amount")
        return await self._run(self.access.refund, principal, intent_id, key, amount)

    @grpc_errors
    async def GetIntent(self, request: payment_pb2.GetIntentRequest, context: grpc.aio.ServicerContext) -> payment_pb2.PaymentIntent:
        principal = await self.s.principal(context)
        return await self._run(self.access.get, principal, require_id(request.intent_id, "intent_id", max_length=64))

    @grpc_errors
    async def GetReceipt(self, request: payment_pb2.GetReceiptRequest, context: grpc.aio.ServicerContext) -> payment_pb2.Receipt:
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
