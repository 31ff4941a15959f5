"""The payment use cases behind ``PaymentService``, with the cloud's access rules, over
:class:`payments.service.PaymentService`.

Who may do what (the cart service's own access rule decides whose cart it is):

* kiosk devices and shoppers create, confirm, capture and cancel the intents of carts
  they may see — a device the carts of its store that it created (a cart a shopper claimed
  for the kiosk session only), a shopper its own;
* the payer is never the caller's word: a shopper pays as themselves; at a kiosk the payer is
  the shopper a face match token names (``face_match_token``, whose enrolled payment method
  pays; a close match makes the intent need the PIN), else the cart's owner, else a guest
  paying by card (``guest:<device>``), who has no PIN and so pays only below the PIN limit.
  A kiosk naming any other shopper is ``PERMISSION_DENIED``: it cannot make an intent that
  asks an arbitrary shopper's PIN. The match token is spent in the transaction that creates
  the intent, so it pays for one intent only;
* a wrong PIN is ``PERMISSION_DENIED`` (the token is fine, the second factor is not), a
  missing one ``FAILED_PRECONDITION``; PINs are the accounts layer's (``cloud.domain.pins``),
  which locks a shopper's PIN after wrong ones in a row. Wrong PINs a kiosk sends also count
  against the kiosk (:data:`MAX_WRONG_PINS_PER_DEVICE` in the lockout window, whoever's PIN),
  and a kiosk at that limit is refused PIN confirmations (``RESOURCE_EXHAUSTED``), audited;
* staff read and cancel any intent (a cancel goes to ``staff_audit`` and the payments
  audit log in the cancel's own transaction) and are the only callers who refund (the
  staff id comes from the token and must be registered staff; the refund goes to the
  payments audit log with the ledger entry);
* someone else's intent is ``PERMISSION_DENIED``; a missing, forged or revoked token
  ``UNAUTHENTICATED``; a malformed field ``INVALID_ARGUMENT`` naming it.

One cart, one payment. An intent is created for an open cart's subtotal with the cart's
lines, so a cart that changed after it was shown is refused (``FAILED_PRECONDITION``)
rather than charged the wrong amount. A cart has at most one intent that is not failed or
cancelled: the check runs in the transaction that inserts the intent, under the cart row's
lock, so the kiosk and the phone paying at the same moment make one intent and the other
is refused naming it. A capture is checked under the same lock: when the cart was paid by
another intent (or merged away, or closed), the capture is refused and its authorisation
voided, so a hold is never left on the shopper's card.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.carts import CartService
from cloud.domain.faces import FaceAccess, FacePayment, MatchTokenSpent
from cloud.domain.lockout import FailureCounter, Limit
from cloud.domain.pins import PaymentPins
from cloud.domain.stock import StockService, require_staff_of
from cloud.domain.types import Cart, CartChange, CartStatus, Principal, PrincipalKind
from cloud.errors import CloudError, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, RateLimited
from cloud.storage import Database, schema
from payments.audit import AuditLog
from payments.errors import PinLockedError, PinRejectedError
from payments.intents import IntentAction, IntentState, PaymentIntent, PurchaseLine
from payments.money import Money
from payments.receipts import ReceiptDocument, render_receipt_png
from payments.service import PaymentService, open_service
from payments.stepup import PinVerifier
from payments.storage import payment_intents

_LOGGER = logging.getLogger(__name__)
DEFAULT_GATEWAY = "sandbox"
GUEST_PREFIX = "guest:"  # the payer of a kiosk's card payment for a cart no shopper signed in to
MAX_WRONG_PINS_PER_DEVICE = 10  # in the lockout window, whoever's PIN: a kiosk serves many shoppers
PIN_LOCKED_EVENT = "payment.device_pin_locked"
_PIN_ADVISORY_SPACE = 0x5049  # pg_advisory_xact_lock key space of the kiosk's wrong PINs
_PAYERS = frozenset({PrincipalKind.DEVICE, PrincipalKind.SHOPPER})
_HAS_ORDER = frozenset({IntentState.CAPTURED, IntentState.REFUNDED, IntentState.PARTIALLY_REFUNDED})
_ENDED = (IntentState.FAILED.value, IntentState.CANCELLED.value)  # intents that leave a cart free to pay
_PAID = (IntentState.CAPTURED.value, IntentState.PARTIALLY_REFUNDED.value, IntentState.REFUNDED.value)


def open_payments(database: Database, pins: PinVerifier) -> PaymentService:
    """The payment service on the cloud database's own engine (its tables come from migration
    ``0002_payments``), checking PINs with the accounts layer's ``pins``."""
    return open_service(database.write_engine(), pin_verifier=pins)


def is_guest(shopper_id: str) -> bool:
    return shopper_id.startswith(GUEST_PREFIX)


def device_pin_account(device_id: str) -> str:
    """The key a kiosk's wrong PINs are counted under (beside the accounts' wrong passwords)."""
    return f"pin-device:{device_id}"


class CloudServices(Protocol):
    """What the payment use cases use of the cloud's services (``cloud.api.servicers.Services`` has it)."""

    @property
    def database(self) -> Database: ...
    @property
    def carts(self) -> CartService: ...
    @property
    def pins(self) -> PaymentPins: ...


def require_payer(principal: Principal, method: str) -> None:
    if principal.kind not in _PAYERS:
        raise PermissionDenied(f"{method}: payments are taken by a kiosk or the shopper's app, not a {principal.kind.value}")


def require_staff(principal: Principal) -> None:
    if principal.kind is not PrincipalKind.STAFF:
        raise PermissionDenied(f"RefundIntent needs a staff credential; the caller is a {principal.kind.value}")


class CartPaidElsewhere(FailedPrecondition):
    """The intent's cart was paid by another intent, merged into another cart or closed."""


@dataclass(frozen=True)
class PaymentReply:
    intent: PaymentIntent
    order_id: str
    payment_method: str  # as the shopper knows it: "Visa ending 4242", "Face pay (Visa ending 4242)"


@dataclass(frozen=True)
class NewIntent:
    key: str
    cart_id: str
    amount: Money
    payment_token: str
    shopper_id: str
    gateway: str
    face_match_token: str = ""


class PaymentAccess:
    """The payment use cases with the cloud's access rules; every method blocks.

    :meth:`confirm`, :meth:`capture`, :meth:`cancel` and :meth:`refund` wait on the card network:
    the servicer runs them on the gateway pool, not the database's.
    """

    def __init__(self, services: CloudServices, payments: PaymentService, faces: FaceAccess) -> None:
        self.s = services
        self.payments = payments
        self.faces = faces
        self.audit = AuditLog(payments.engine)
        window_ms = services.pins.guard.policy.window_ms  # the wrong-password table's window: one prune for both
        self.pin_tries = FailureCounter(
            services.database, schema.password_failures, (Limit("account", MAX_WRONG_PINS_PER_DEVICE, "kiosk"),),
            window_ms, _PIN_ADVISORY_SPACE, self._device_locked)

    # -- creating

    def create(self, principal: Principal, new: NewIntent) -> PaymentReply:
        require_payer(principal, "CreateIntent")
        face: FacePayment | None = None
        if new.face_match_token:
            new, face = self._paid_by_face(principal, new)
        elif not new.payment_token:
            raise InvalidArgument("payment_token is required (or face_match_token after face pay)", field="payment_token")
        cart = self.s.carts.get_cart(principal, new.cart_id)
        self._check_payable(cart, new.amount)
        payer = self._payer(principal, cart, new.shopper_id, face)
        lines = tuple(PurchaseLine(line.sku, line.quantity, line.unit_price, f"{line.name} {line.size_label}".strip())
                      for line in cart.lines)

        def in_transaction(conn: Connection, intent: PaymentIntent) -> None:
            if face is not None:  # first: a replayed token is refused as such, whatever the cart
                self.faces.spend_in(conn, face, new.key, intent.intent_id)
            self._claim_cart(conn, cart, intent.intent_id)

        try:
            intent = self.payments.create_intent(
                key=new.key, amount=new.amount, payment_token=new.payment_token, cart_id=cart.cart_id,
                store_id=cart.store_id, shopper_id=payer, gateway=new.gateway, lines=lines,
                step_up_required=face is not None and face.step_up, in_transaction=in_transaction,
            )
        except MatchTokenSpent:
            assert face is not None
            raise self.faces.refuse_reuse(face, "") from None  # lost the race to a concurrent intent
        _LOGGER.info("%s created %s on cart %s", principal.key, intent.intent_id, cart.cart_id)
        return self._reply(intent)

    def _paid_by_face(self, principal: Principal, new: NewIntent) -> tuple[NewIntent, FacePayment]:
        """The request with the matched shopper as payer and their enrolled token; the match it spends."""
        if new.payment_token:
            raise InvalidArgument("give payment_token or face_match_token, not both", field="payment_token")
        face = self.faces.resolve_match(principal, new.face_match_token, new.key)
        if new.shopper_id and new.shopper_id != face.shopper_id:
            raise InvalidArgument(f"shopper_id {new.shopper_id!r} is not the shopper the face match names",
                                  field="shopper_id")
        return replace(new, shopper_id=face.shopper_id, payment_token=face.payment_token), face

    def _claim_cart(self, conn: Connection, cart: Cart, intent_id: str) -> None:
        """In the intent's own transaction, under the cart row's lock: the cart is as it was shown and
        open, and no other intent is paying it (or paid it). Two payers at once: the second waits for
        the lock and then sees the first's intent."""
        carts = schema.carts
        row = conn.execute(self.s.database.lock_for_update(
            sa.select(carts.c.status, carts.c.version).where(carts.c.cart_id == cart.cart_id))).one()
        if row.status != CartStatus.OPEN.value or row.version != cart.version:
            raise FailedPrecondition(f"cart {cart.cart_id} changed while the payment was being made (now version "
                                     f"{row.version}, {row.status}); show the cart again", field="cart_id")
        other = conn.execute(sa.select(payment_intents.c.intent_id, payment_intents.c.state).where(
            payment_intents.c.cart_id == cart.cart_id, payment_intents.c.intent_id != intent_id,
            payment_intents.c.state.not_in(_ENDED)).limit(1)).first()
        if other is not None:
            raise FailedPrecondition(
                f"cart {cart.cart_id} is already being paid by intent {other.intent_id} ({other.state}); "
                "finish that payment or cancel it first", field="cart_id", intent_id=other.intent_id)

    # -- acting on an intent

    def confirm(self, principal: Principal, intent_id: str, key: str, pin: str | None,
                face_match_close: bool) -> PaymentReply:
        """Authorise; a kiosk's PIN try counts against the kiosk until it proves right (or needed no check)."""
        require_payer(principal, "ConfirmIntent")
        intent = self._visible(principal, intent_id)
        if is_guest(intent.shopper_id) and (
                intent.step_up_required or self.payments.step_up.requires_pin(intent.amount, face_match_close=face_match_close)):
            raise FailedPrecondition(
                f"intent {intent_id} needs the shopper's PIN, and a guest card payment has none; the shopper pairs "
                "their phone with the kiosk (or pays by face) to pay this", field="pin", intent_id=intent_id)
        counted = None
        if pin is not None and principal.kind is PrincipalKind.DEVICE:
            counted = self.pin_tries.count_try({"account": device_pin_account(principal.subject_id), "peer": ""})
        try:
            confirmed = self.payments.confirm(intent_id, key=key, pin=pin, face_match_close=face_match_close)
        except (PinRejectedError, PinLockedError):
            if counted is not None:
                self._audit_device_lock(principal, counted.ticket)
            raise
        except BaseException:
            if counted is not None:
                self.pin_tries.take_back(counted.ticket)
            raise
        if counted is not None:
            self.pin_tries.take_back(counted.ticket)
        return self._reply(confirmed)

    def _device_locked(self, _limit: Limit, failures: int, wait_s: int) -> CloudError:
        minutes = self.pin_tries.window_ms // 60000
        return RateLimited(f"{failures} wrong PINs were entered on this kiosk in the last {minutes} min; PIN payments "
                           f"here are paused for {wait_s} s (pay by card below the PIN limit, or in the app)",
                           retry_after_s=wait_s)

    def _audit_device_lock(self, principal: Principal, ticket: int) -> None:
        keys = {"account": device_pin_account(principal.subject_id), "peer": ""}

        def audit(conn: Connection) -> None:
            for limit, _, count in self.pin_tries.reached_at(conn, keys, ticket):
                _LOGGER.warning("kiosk %s paused for PIN payments after %d wrong PINs", principal.subject_id, count)
                self.audit.append_in(conn, PIN_LOCKED_EVENT, principal.subject_id, {
                    "locked": limit.what, "failures": count, "window_ms": self.pin_tries.window_ms,
                    "store_id": principal.store_id,
                })

        self.audit.transaction(audit)

    def cancel(self, principal: Principal, intent_id: str, key: str) -> PaymentReply:
        self._visible(principal, intent_id)
        staff_id = principal.subject_id if principal.kind is PrincipalKind.STAFF else None
        return self._reply(self.payments.cancel(intent_id, key=key, staff_id=staff_id))

    def receipt(self, principal: Principal, intent_id: str, paper_mm: int) -> tuple[ReceiptDocument, bytes]:
        """The receipt document of a captured intent the caller may see, and its printable PNG when asked for."""
        intent = self._visible(principal, intent_id)
        document = replace(self.payments.receipt_document(intent_id), payment_method=self._payment_method(intent))
        return document, render_receipt_png(document, paper_mm=paper_mm) if paper_mm else b""

    def capture(self, principal: Principal, intent_id: str, key: str) -> tuple[PaymentReply, CartChange | None]:
        """Capture, then check the cart out so it cannot be paid twice; the change to publish.

        The capture is refused, and its authorisation voided, when the cart was paid by another
        intent, merged into another cart or closed (checked under the cart's lock with the intent's).
        A retried capture checks the cart out too, should the first one have stopped in between.
        """
        require_payer(principal, "CaptureIntent")
        self._visible(principal, intent_id)
        try:
            captured = self.payments.capture(intent_id, key=key, in_transaction=self._cart_unpaid)
        except CartPaidElsewhere as refused:
            released = self.payments.cancel(intent_id, key=f"{key}:released")
            _LOGGER.warning("refused capture of %s: %s; %s", intent_id, refused.message, released.state.value)
            raise CartPaidElsewhere(f"{refused.message}; this payment was not taken and its hold on the card was "
                                    "released", field="intent_id", intent_id=intent_id) from None
        reply = self._reply(captured)
        if captured.state is not IntentState.CAPTURED:
            return reply, None
        # The order took store stock: a SKU it left below its safety stock gets a replenishment request.
        StockService(self.s.database).note_sold(captured.store_id, [line.sku for line in captured.lines])
        try:
            return reply, self.s.carts.check_out(principal, captured.cart_id, f"capture-{intent_id}").change
        except FailedPrecondition:
            if self.s.carts.get_cart(principal, captured.cart_id).status is not CartStatus.CHECKED_OUT:
                raise
            return reply, None  # another caller's capture of this intent closed it first

    def _cart_unpaid(self, conn: Connection, intent: PaymentIntent) -> None:
        """Refuse to capture ``intent`` when its cart is not open or another intent paid it or is capturing it."""
        carts = schema.carts
        cart = conn.execute(self.s.database.lock_for_update(
            sa.select(carts.c.status, carts.c.merged_into).where(carts.c.cart_id == intent.cart_id))).first()
        paid = conn.execute(sa.select(payment_intents.c.intent_id).where(
            payment_intents.c.cart_id == intent.cart_id, payment_intents.c.intent_id != intent.intent_id,
            sa.or_(payment_intents.c.state.in_(_PAID),
                   payment_intents.c.pending_action == IntentAction.CAPTURE.value)).limit(1)).scalar()
        if paid is not None:
            raise CartPaidElsewhere(f"cart {intent.cart_id} was paid by intent {paid}", field="intent_id",
                                    intent_id=intent.intent_id, paid_by=paid)
        if cart is not None and cart.status != CartStatus.OPEN.value:
            where = f" into cart {cart.merged_into}" if cart.merged_into else ""
            raise CartPaidElsewhere(f"cart {intent.cart_id} is {cart.status}{where}; only an open cart is paid for",
                                    field="intent_id", intent_id=intent.intent_id)

    def refund(self, principal: Principal, intent_id: str, key: str, amount: Money) -> PaymentReply:
        require_staff(principal)
        return self._reply(self.payments.refund(intent_id, key=key, amount=amount, staff_id=principal.subject_id))

    def get(self, principal: Principal, intent_id: str) -> PaymentReply:
        return self._reply(self._visible(principal, intent_id))

    def list_store(self, principal: Principal, store_id: str, page_size: int = 0,
                   page_token: str = "") -> tuple[list[PaymentReply], str]:
        """A store's payments, newest first, for its staff (``staff_stores``); (page, the next page's token).

        The token is the last listed (created_at_ms, intent_id): a payment taken while staff page
        through shifts nothing, it shows on the first page.
        """
        require_staff_of(self.s.database, principal, store_id)
        size = page_size or 20
        if not 1 <= size <= 50:
            raise InvalidArgument(f"page_size must be 1..50; got {page_size}", field="page.page_size")
        query = sa.select(payment_intents.c.intent_id, payment_intents.c.created_at_ms).where(
            payment_intents.c.store_id == store_id)
        if page_token:
            created, _, after = page_token.partition(":")
            if not created.isdigit() or not after:
                raise InvalidArgument("page_token is not one this call gave out", field="page.page_token")
            query = query.where(sa.tuple_(payment_intents.c.created_at_ms, payment_intents.c.intent_id)
                                < sa.tuple_(sa.literal(int(created)), sa.literal(after)))
        with self.s.database.read() as conn:
            rows = conn.execute(query.order_by(payment_intents.c.created_at_ms.desc(), payment_intents.c.intent_id.desc())
                                .limit(size + 1)).all()
        replies = [self._reply(self.payments.get(row.intent_id)) for row in rows[:size]]
        last = rows[size - 1] if len(rows) > size else None
        return replies, f"{last.created_at_ms}:{last.intent_id}" if last is not None else ""

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
        if amount != cart.subtotal:
            raise FailedPrecondition(
                f"amount {amount} does not match cart {cart.cart_id}'s subtotal {cart.subtotal} at version {cart.version};"
                " show the cart again and pay its subtotal",
                field="amount",
            )

    @staticmethod
    def _payer(principal: Principal, cart: Cart, shopper_id: str, face: FacePayment | None) -> str:
        """Who pays: a shopper always themselves; at a kiosk the face match's shopper, else the cart's owner,
        else a guest. A kiosk's own word never picks a shopper."""
        if principal.kind is PrincipalKind.SHOPPER:
            if shopper_id and shopper_id != principal.subject_id:
                raise PermissionDenied(f"shopper_id {shopper_id!r}: a shopper pays only as themselves",
                                       field="shopper_id")
            return principal.subject_id
        if face is not None:
            return face.shopper_id
        owner = cart.owner_shopper_id
        if shopper_id and shopper_id != owner:
            raise PermissionDenied(
                f"shopper_id {shopper_id!r}: a kiosk does not choose the payer; it is the cart's signed-in shopper "
                "or the shopper a face match names", field="shopper_id")
        return owner or f"{GUEST_PREFIX}{principal.subject_id}"

    def _reply(self, intent: PaymentIntent) -> PaymentReply:
        order = self.payments.order(intent.intent_id) if intent.state in _HAS_ORDER else None
        return PaymentReply(intent, order.order_id if order is not None else "", self._payment_method(intent))

    def _payment_method(self, intent: PaymentIntent) -> str:
        """The card as its gateway describes it, said to be face pay when a face match paid for the intent."""
        card = self.payments.payment_method(intent)
        return f"Face pay ({card})" if self.faces.paid_by_face(intent.intent_id) else card

