"""The payment service: the entry point for an intent's life cycle, idempotent end to end.

Every call takes an idempotency key (see :mod:`payments.idempotency`). Calls that
reach a gateway also take the intent's *lock*: a marker on the intent row naming
the network operation in flight and the gateway reference it was sent under. When
the gateway does not answer (a timeout, a lost response) the marker stays behind,
expired, and the next request on that intent first asks the gateway what happened
to that reference (:meth:`PaymentGateway.lookup`) and books it — it never sends the
money movement a second time. Applying a gateway answer is itself idempotent (keyed
by the gateway's transaction id), so a result is booked once however often it is seen.

A capture books, in one transaction: the intent, the ledger entry, the order (taking
stock from the store or the endless aisle) and the receipt. A refund books the
intent, the refund, the ledger entry and the staff audit entry together.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from payments import ledger
from payments.errors import (
    CurrencyMismatchError,
    GatewayTimeoutError,
    IntentBusyError,
    IntentNotFoundError,
    InvalidPaymentRequestError,
    MoneyError,
    PaymentDeclinedError,
    PinRejectedError,
    RefundExceedsCaptureError,
    StaffNotAuthorizedError,
    StepUpRequiredError,
    UnknownGatewayError,
)
from payments.gateways import DeclineCode, GatewayResult, PaymentGateway
from payments.idempotency import IdempotencyStore, StoredOutcome, check_key, error_payload, fingerprint
from payments.intents import (
    IntentAction,
    IntentState,
    PaymentIntent,
    PurchaseLine,
    check_identifier,
    check_transition,
)
from payments.money import Money
from payments.orders import Order, create_order_in, load_order
from payments.receipts import ReceiptDocument, build_document, issue_receipt_in
from payments.stepup import PinVerifier, StepUpPolicy
from payments.storage import payment_intent_lines, payment_intents, payment_refunds
from payments.tokens import check_payment_token

_LOGGER = logging.getLogger(__name__)
UNDESCRIBED_CARD = "saved card"  # a token its gateway cannot describe: never show the token itself
# The cloud schema owns ``staff_audit``; staff cancels are recorded there too when it exists.
_STAFF_AUDIT = sa.table("staff_audit", sa.column("staff_id"), sa.column("action"), sa.column("target"),
                        sa.column("at_ms"))


class StaffAuthorizer(Protocol):
    """Says whether an (already authenticated) staff id may issue refunds; raises when not."""

    def check_refund(self, staff_id: str) -> None: ...


class RefundAudit(Protocol):
    """Where staff refunds are recorded, inside the refund's own transaction (``payments.audit.AuditLog``)."""

    def append_in(self, conn: Connection, event: str, subject: str, details: Mapping[str, Any] | None = None) -> object: ...


class StaffRoster:
    """A :class:`StaffAuthorizer` over a fixed set of staff ids allowed to refund."""

    def __init__(self, staff_ids: Iterable[str]) -> None:
        self._staff_ids = frozenset(staff_ids)

    def check_refund(self, staff_id: str) -> None:
        if staff_id not in self._staff_ids:
            raise StaffNotAuthorizedError(f"staff id {staff_id!r} may not issue refunds (unknown staff)",
                                          staff_id=staff_id)


class TableStaffRoster:
    """A :class:`StaffAuthorizer` over the cloud's ``staff`` table: any registered staff member may refund."""

    _staff = sa.table("staff", sa.column("staff_id"))

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def check_refund(self, staff_id: str) -> None:
        with self._engine.connect() as conn:
            if not sa.inspect(conn).has_table("staff"):
                raise StaffNotAuthorizedError("the database has no staff table; no one may issue refunds",
                                              staff_id=staff_id)
            found = conn.execute(sa.select(self._staff.c.staff_id).where(self._staff.c.staff_id == staff_id)).first()
        if found is None:
            raise StaffNotAuthorizedError(f"staff id {staff_id!r} is not registered staff", staff_id=staff_id)


@dataclasses.dataclass(frozen=True)
class _Pending:
    """The intent's lock: one network operation in flight, sent to the gateway under ``reference``."""

    action: IntentAction
    reference: str
    key: str
    fingerprint: str
    amount_minor: int | None = None
    staff_id: str | None = None

    def columns(self, until_ms: int) -> dict[str, Any]:
        return {
            "pending_action": self.action.value, "pending_reference": self.reference, "pending_key": self.key,
            "pending_fingerprint": self.fingerprint, "pending_amount_minor": self.amount_minor,
            "pending_staff_id": self.staff_id, "pending_until_ms": until_ms,
        }

    @classmethod
    def from_row(cls, row: Any) -> _Pending | None:
        if row.pending_action is None:
            return None
        return cls(IntentAction(row.pending_action), row.pending_reference, row.pending_key, row.pending_fingerprint,
                   row.pending_amount_minor, row.pending_staff_id)


_SETTLE_ROUNDS = 3
_NO_PENDING = {column: None for column in _Pending(IntentAction.RECONCILE, "", "", "").columns(0)}


def _success(intent: PaymentIntent) -> StoredOutcome:
    return StoredOutcome(True, {"intent_id": intent.intent_id, "intent": intent.as_dict()})


class PaymentService:
    """Payment intents over one database and a set of gateway plugins (by name).

    ``lease_s`` is how long a request may hold an intent before others may take it
    over and reconcile: it must be longer than any gateway call can take (the
    gateway client's own timeout), or a slow call could be looked up before it lands.
    ``wait_s`` is how long a double tap waits for its twin.
    """

    def __init__(
        self,
        engine: Engine,
        gateways: Mapping[str, PaymentGateway],
        *,
        staff: StaffAuthorizer,
        audit: RefundAudit,
        step_up: StepUpPolicy | None = None,
        pin_verifier: PinVerifier | None = None,
        lease_s: float = 30.0,
        wait_s: float = 10.0,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        if not gateways:
            raise ValueError("PaymentService needs at least one gateway")
        if lease_s <= 0 or wait_s < 0:
            raise ValueError(f"lease_s must be > 0 and wait_s >= 0 seconds; got {lease_s} and {wait_s}")
        self.engine = engine
        self.gateways = dict(gateways)
        self.step_up = step_up if step_up is not None else StepUpPolicy()
        self._staff = staff
        self._audit = audit
        self._pin_verifier = pin_verifier
        self._lease_ms = int(lease_s * 1000)
        self._clock_ms = clock_ms if clock_ms is not None else (lambda: int(time.time() * 1000))
        self._keys = IdempotencyStore(engine, clock_ms=self._clock_ms, lease_ms=self._lease_ms, wait_s=wait_s)

    # ------------------------------------------------------------------ reading

    def get(self, intent_id: str) -> PaymentIntent:
        """The intent ``intent_id``; :class:`IntentNotFoundError` when there is none."""
        with self.engine.connect() as conn:
            return self._load(conn, intent_id)

    def order(self, intent_id: str) -> Order | None:
        with self.engine.connect() as conn:
            self._load(conn, intent_id)
            return load_order(conn, intent_id)

    def receipt_document(self, intent_id: str, *, vat_rate_percent: Decimal | None = None) -> ReceiptDocument:
        with self.engine.connect() as conn:
            intent = self._load(conn, intent_id)
            return build_document(conn, intent, self.payment_method(intent), vat_rate_percent=vat_rate_percent)

    def payment_method(self, intent: PaymentIntent) -> str:
        """What ``intent`` is paid with, as the shopper knows the card: "Visa ending 4242"."""
        return self.describe_token(intent.payment_token, intent.gateway)

    def describe_token(self, token: str, gateway: str = "sandbox") -> str:
        """The card behind a payment token as its gateway describes it; "saved card" when the gateway cannot say."""
        plugin = self.gateways.get(gateway)
        card = plugin.describe(token) if plugin is not None else None
        return card.label if card is not None else UNDESCRIBED_CARD

    # ------------------------------------------------------------------ the life cycle

    def create_intent(
        self, *, key: str, amount: Money, payment_token: str, cart_id: str, store_id: str, shopper_id: str,
        gateway: str = "sandbox", lines: Sequence[PurchaseLine] = (), step_up_required: bool = False,
        in_transaction: Callable[[Connection, PaymentIntent], None] | None = None,
    ) -> PaymentIntent:
        """A new intent in ``requires_confirmation``; the same key returns the same intent.

        ``step_up_required`` makes confirming need the PIN whatever the amount (a face match
        that was close to the threshold, known when the intent is made).

        ``in_transaction(conn, intent)`` runs inside the transaction that inserts the intent, so
        what it writes commits with the intent or not at all (a face match token is spent there);
        it raises to refuse the intent. A replayed key returns the stored intent without it.
        """
        check_key(key)
        self._check_new_intent(amount, payment_token, cart_id, store_id, shopper_id, gateway, lines)
        params = {"amount": amount.minor, "currency": amount.currency, "token": payment_token, "cart": cart_id,
                  "store": store_id, "shopper": shopper_id, "gateway": gateway,
                  "lines": [line.as_dict() for line in lines]}
        if step_up_required:  # only when set, so keys stored before the flag existed still replay
            params["step_up"] = True
        request_digest = fingerprint(IntentAction.CREATE.value, params)
        replay = self._keys.claim(key, IntentAction.CREATE.value, None, request_digest)
        if replay is not None:
            return self._replay(replay)
        intent_id = f"pi_{uuid.uuid4().hex[:24]}"
        try:
            with self.engine.begin() as conn:
                self._insert_intent(conn, intent_id, amount, payment_token, cart_id, store_id, shopper_id, gateway, lines,
                                    step_up_required)
                intent = self._load(conn, intent_id)
                if in_transaction is not None:
                    in_transaction(conn, intent)
                self._keys.finish_in(conn, key, IntentAction.CREATE.value, intent_id, request_digest, _success(intent))
        except BaseException:
            self._keys.release(key)
            raise
        _LOGGER.info("created %s for %s", intent_id, amount)
        return intent

    def confirm(self, intent_id: str, *, key: str, pin: str | None = None, face_match_close: bool = False) -> PaymentIntent:
        """Authorise the payment; a PIN is needed above the limit, on a close face match, or when the issuer asks."""
        def pin_present(intent: PaymentIntent) -> None:
            if self._needs_pin(intent, face_match_close):
                self._require_pin(intent, pin)

        params = {"pin_supplied": pin is not None, "face_match_close": bool(face_match_close)}
        return self._run(IntentAction.CONFIRM, intent_id, key, params,
                         lambda intent, pending: self._authorize(intent, pending, pin, face_match_close),
                         precheck=pin_present)

    def capture(self, intent_id: str, *, key: str,
                in_transaction: Callable[[Connection, PaymentIntent], None] | None = None) -> PaymentIntent:
        """Take the authorised amount; creates the order and the receipt.

        ``in_transaction(conn, intent)`` runs where the intent is locked for the capture, before the
        gateway is asked; it raises to refuse the capture (the host checks what it owns, like the cart).
        """
        return self._run(IntentAction.CAPTURE, intent_id, key, {}, self._capture, guard=in_transaction)

    def cancel(self, intent_id: str, *, key: str, staff_id: str | None = None) -> PaymentIntent:
        """Cancel before capture (voiding the authorisation at the gateway when there is one).

        ``staff_id``: a staff member cancels someone else's payment; recorded in the audit log
        and the cloud's ``staff_audit`` (when the database has it) in the cancel's own transaction.
        """
        if staff_id is not None:
            check_identifier(staff_id, "staff_id")
        params = {} if staff_id is None else {"staff_id": staff_id}
        return self._run(IntentAction.CANCEL, intent_id, key, params, self._cancel, staff_id=staff_id)

    def refund(self, intent_id: str, *, key: str, amount: Money, staff_id: str) -> PaymentIntent:
        """Give ``amount`` back (full or partial) on a verified staff id's authority; audited."""
        check_identifier(staff_id, "staff_id")
        self._staff.check_refund(staff_id)
        amount.require_positive()
        intent = self.get(intent_id)
        if amount.currency != intent.amount.currency:
            raise CurrencyMismatchError(
                f"refund currency {amount.currency} does not match intent {intent_id} in {intent.amount.currency}",
                expected=intent.amount.currency, got=amount.currency,
            )
        params = {"amount": amount.minor, "currency": amount.currency, "staff_id": staff_id}
        return self._run(IntentAction.REFUND, intent_id, key, params,
                         lambda current, pending: self._refund(current, pending, amount), amount.minor, staff_id,
                         precheck=lambda current: self._check_refundable(current, amount))

    def reconcile(self, intent_id: str) -> PaymentIntent:
        """Settle an interrupted gateway call on ``intent_id`` by asking the gateway what became of it."""
        self.get(intent_id)
        marker = f"reconcile:{uuid.uuid4().hex}"
        pending = _Pending(IntentAction.RECONCILE, marker, marker, "")
        intent, stale = self._acquire(intent_id, pending)
        if stale is None:  # nothing was interrupted; let go of the marker we just put down
            self._unlock(intent_id, pending)
        else:
            self._settle(intent, stale)
            self._unlock(intent_id, stale)
        return self.get(intent_id)

    def authorize_and_capture(
        self, *, key: str, amount: Money, payment_token: str, cart_id: str, store_id: str, shopper_id: str,
        pin: str | None = None, face_match_close: bool = False, lines: Sequence[PurchaseLine] = (),
        gateway: str = "sandbox",
    ) -> PaymentIntent:
        """Create, confirm and capture in one go (the face-pay checkout path); ``key`` seeds the three keys."""
        intent = self.create_intent(key=f"{key}:create", amount=amount, payment_token=payment_token, cart_id=cart_id,
                                    store_id=store_id, shopper_id=shopper_id, gateway=gateway, lines=lines)
        self.confirm(intent.intent_id, key=f"{key}:confirm", pin=pin, face_match_close=face_match_close)
        return self.capture(intent.intent_id, key=f"{key}:capture")

    # ------------------------------------------------------------------ the shared skeleton

    def _run(
        self, action: IntentAction, intent_id: str, key: str, params: dict[str, Any],
        body: Callable[[PaymentIntent, _Pending], PaymentIntent], amount_minor: int | None = None,
        staff_id: str | None = None, precheck: Callable[[PaymentIntent], None] | None = None,
        guard: Callable[[Connection, PaymentIntent], None] | None = None,
    ) -> PaymentIntent:
        """Claim the key, lock the intent, reconcile any interrupted call, then run ``body``.

        ``precheck`` refuses a request from the intent as it stands before anything is written
        (``body`` checks again after reconciling, when the intent may have moved on); ``guard``
        likewise, with the locking transaction's connection.
        """
        check_key(key)
        self.get(intent_id)
        request_digest = fingerprint(action.value, {"intent_id": intent_id, **params})
        replay = self._keys.claim(key, action.value, intent_id, request_digest)
        if replay is not None:
            return self._replay(replay)
        try:
            return self._locked(action, intent_id, key, request_digest, body, amount_minor, staff_id, precheck, guard)
        except BaseException:
            self._keys.release(key)  # no-op when the failure's outcome was stored
            raise

    def _locked(
        self, action: IntentAction, intent_id: str, key: str, request_digest: str,
        body: Callable[[PaymentIntent, _Pending], PaymentIntent], amount_minor: int | None, staff_id: str | None,
        precheck: Callable[[PaymentIntent], None] | None,
        guard: Callable[[Connection, PaymentIntent], None] | None = None,
    ) -> PaymentIntent:
        reference = f"{intent_id}:{action.value}:{uuid.uuid4().hex[:16]}"  # one per attempt at the gateway
        pending = _Pending(action, reference, key, request_digest, amount_minor, staff_id)
        for _attempt in range(_SETTLE_ROUNDS):
            intent, stale = self._acquire(intent_id, pending, precheck, guard)
            if stale is None:
                break
            # An interrupted call sits on the intent: book what became of it first. Its marker stays
            # until that is known (a lookup that times out leaves it for the next request).
            seen = self._settle(intent, stale)
            self._unlock(intent_id, stale)
            stored = self._keys.stored(key) if seen and stale.key == key else None
            if stored is not None:  # our own earlier attempt reached the gateway: its answer is ours
                return self._replay(stored)
        else:
            raise IntentBusyError(f"intent {intent_id} keeps being interrupted; retry shortly with the same key",
                                  intent_id=intent_id)
        try:
            return body(intent, pending)  # on success the booking transaction took the marker off
        except GatewayTimeoutError:
            self._unlock(intent_id, pending, interrupted=True)
            raise
        except BaseException:
            self._unlock(intent_id, pending)
            raise

    def _acquire(
        self, intent_id: str, pending: _Pending, precheck: Callable[[PaymentIntent], None] | None = None,
        guard: Callable[[Connection, PaymentIntent], None] | None = None,
    ) -> tuple[PaymentIntent, _Pending | None]:
        """Put ``pending`` on the intent, after checking the move is legal now.

        When an interrupted call's marker is there instead, nothing is written and that
        marker comes back for the caller to settle first.
        """
        now = self._clock_ms()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(payment_intents).where(payment_intents.c.intent_id == intent_id).with_for_update()
            ).one()
            if row.pending_action is not None and row.pending_until_ms >= now:
                raise IntentBusyError(
                    f"intent {intent_id} is busy with a {row.pending_action} right now; retry shortly with the same key",
                    intent_id=intent_id,
                )
            stale = _Pending.from_row(row)
            if stale is not None:
                return self._load(conn, intent_id), stale
            if pending.action is not IntentAction.RECONCILE:  # refuse before writing anything
                check_transition(intent_id, IntentState(row.state), pending.action)
                if precheck is not None:
                    precheck(self._load(conn, intent_id))
                if guard is not None:
                    guard(conn, self._load(conn, intent_id))
            conn.execute(payment_intents.update().where(payment_intents.c.intent_id == intent_id)
                         .values(**pending.columns(now + self._lease_ms), version=payment_intents.c.version + 1))
            return self._load(conn, intent_id), None

    def _unlock(self, intent_id: str, pending: _Pending, *, interrupted: bool = False) -> None:
        """Clear ``pending``'s marker, or on an interrupted network call leave it expired for the next request."""
        with self.engine.begin() as conn:
            self._unlock_in(conn, intent_id, pending, interrupted=interrupted)

    @staticmethod
    def _unlock_in(conn: Connection, intent_id: str, pending: _Pending, *, interrupted: bool = False) -> None:
        values = {"pending_until_ms": 0} if interrupted else _NO_PENDING
        conn.execute(payment_intents.update().where(
            payment_intents.c.intent_id == intent_id, payment_intents.c.pending_reference == pending.reference
        ).values(**values))

    def _settle(self, intent: PaymentIntent, stale: _Pending) -> bool:
        """Book what the gateway did with an interrupted call; True when the gateway saw it at all."""
        if stale.action is IntentAction.RECONCILE:
            return False
        result = self._gateway(intent).lookup(stale.reference)
        _LOGGER.warning("reconciling interrupted %s on %s: gateway %s", stale.action.value, intent.intent_id,
                        "never saw it" if result is None else ("approved" if result.approved else "declined"))
        if result is None:
            return False
        # A decline is booked (and stored for the interrupted call's own key); this request goes on regardless.
        with contextlib.suppress(PaymentDeclinedError, StepUpRequiredError):
            self._apply(intent.intent_id, stale, result)
        return True

    # ------------------------------------------------------------------ actions

    def _authorize(self, intent: PaymentIntent, pending: _Pending, pin: str | None, face_match_close: bool) -> PaymentIntent:
        needs_pin = self._needs_pin(intent, face_match_close)
        if needs_pin:
            self._verify_pin(intent, pending, pin)
        result = self._gateway(intent).authorize(
            token=intent.payment_token, amount=intent.amount, reference=pending.reference, step_up_verified=needs_pin
        )
        return self._apply(intent.intent_id, pending, result)

    def _needs_pin(self, intent: PaymentIntent, face_match_close: bool) -> bool:
        return intent.step_up_required or self.step_up.requires_pin(intent.amount, face_match_close=face_match_close)

    def _require_pin(self, intent: PaymentIntent, pin: str | None) -> str:
        if pin is None:
            raise StepUpRequiredError(
                f"intent {intent.intent_id} needs the shopper's PIN to confirm {intent.amount}", intent_id=intent.intent_id
            )
        if self._pin_verifier is None:
            raise StepUpRequiredError("a PIN is needed but this service has no PIN verifier configured",
                                      intent_id=intent.intent_id)
        return pin

    def _verify_pin(self, intent: PaymentIntent, pending: _Pending, pin: str | None) -> None:
        """Pass when the PIN matches; otherwise count the attempt (failing the intent after the last) and raise."""
        pin = self._require_pin(intent, pin)
        if self._pin_verifier is not None and self._pin_verifier(intent.shopper_id, pin):
            return
        failures = intent.pin_failures + 1
        left = max(self.step_up.max_pin_attempts - failures, 0)
        values: dict[str, Any] = {"pin_failures": failures}
        if left == 0:
            values |= {"state": IntentState.FAILED.value, "failure_code": DeclineCode.PIN_ATTEMPTS_EXCEEDED.value}
        error = PinRejectedError(
            f"wrong PIN for intent {intent.intent_id}; {left} attempt(s) left"
            + ("; the payment has failed" if left == 0 else ""),
            intent_id=intent.intent_id, attempts_left=left,
        )
        with self.engine.begin() as conn:
            self._update(conn, intent.intent_id, values)
            self._keys.finish_in(conn, pending.key, pending.action.value, intent.intent_id, pending.fingerprint,
                                 StoredOutcome(False, error_payload(error)))
        raise error

    def _capture(self, intent: PaymentIntent, pending: _Pending) -> PaymentIntent:
        result = self._gateway(intent).capture(
            authorization_id=intent.authorization_id or "", amount=intent.amount, reference=pending.reference
        )
        return self._apply(intent.intent_id, pending, result)

    def _cancel(self, intent: PaymentIntent, pending: _Pending) -> PaymentIntent:
        if intent.authorization_id is None:
            with self.engine.begin() as conn:
                self._update(conn, intent.intent_id, {"state": IntentState.CANCELLED.value})
                self._audit_staff_cancel(conn, intent.intent_id, pending)
                self._unlock_in(conn, intent.intent_id, pending)
                cancelled = self._load(conn, intent.intent_id)
                self._keys.finish_in(conn, pending.key, pending.action.value, intent.intent_id, pending.fingerprint,
                                     _success(cancelled))
            return cancelled
        result = self._gateway(intent).void(
            authorization_id=intent.authorization_id, amount=intent.amount, reference=pending.reference
        )
        return self._apply(intent.intent_id, pending, result)

    def _refund(self, intent: PaymentIntent, pending: _Pending, amount: Money) -> PaymentIntent:
        self._check_refundable(intent, amount)
        result = self._gateway(intent).refund(capture_id=intent.capture_id or "", amount=amount,
                                              reference=pending.reference)
        return self._apply(intent.intent_id, pending, result)

    @staticmethod
    def _check_refundable(intent: PaymentIntent, amount: Money) -> None:
        if intent.refunded + amount > intent.captured:
            raise RefundExceedsCaptureError(
                f"refund of {amount} on intent {intent.intent_id} exceeds what is left to refund: "
                f"{intent.refundable} of {intent.captured} captured",
                intent_id=intent.intent_id, refundable_minor=intent.refundable.minor,
            )

    # ------------------------------------------------------------------ booking a gateway answer

    def _apply(self, intent_id: str, pending: _Pending, result: GatewayResult) -> PaymentIntent:
        """Book ``result`` of ``pending`` in one transaction (once), store the key's outcome, raise for declines."""
        now = self._clock_ms()
        with self.engine.begin() as conn:
            conn.execute(sa.select(payment_intents.c.intent_id).where(payment_intents.c.intent_id == intent_id)
                         .with_for_update())
            intent = self._load(conn, intent_id)
            error = self._book(conn, intent, pending, result, now)
            self._unlock_in(conn, intent_id, pending)
            booked = self._load(conn, intent_id)
            stores_outcome = error is None or booked.state is IntentState.FAILED
            if stores_outcome:
                outcome = _success(booked) if error is None else StoredOutcome(False, error_payload(error))
                self._keys.finish_in(conn, pending.key, pending.action.value, intent_id, pending.fingerprint, outcome)
        if error is not None:
            raise error
        return booked

    def _book(self, conn: Connection, intent: PaymentIntent, pending: _Pending, result: GatewayResult,
              now: int) -> MoneyError | None:
        if not result.approved:
            return self._book_decline(conn, intent, pending, result)
        handlers = {
            IntentAction.CONFIRM: self._book_authorization,
            IntentAction.CAPTURE: self._book_capture,
            IntentAction.CANCEL: self._book_void,
            IntentAction.REFUND: self._book_refund,
        }
        handlers[pending.action](conn, intent, pending, result, now)
        return None

    def _book_decline(self, conn: Connection, intent: PaymentIntent, pending: _Pending,
                      result: GatewayResult) -> MoneyError:
        code = result.decline_code
        assert code is not None  # GatewayResult: a result that is not approved always names its decline
        if code is DeclineCode.STEP_UP_REQUIRED:
            self._update(conn, intent.intent_id, {"step_up_required": True})
            return StepUpRequiredError(f"the issuer asks for the shopper's PIN to confirm intent {intent.intent_id}",
                                       intent_id=intent.intent_id)
        if pending.action in (IntentAction.CONFIRM, IntentAction.CAPTURE) and intent.state is not IntentState.FAILED:
            self._update(conn, intent.intent_id, {"state": IntentState.FAILED.value, "failure_code": code.value})
        return PaymentDeclinedError(
            f"gateway {intent.gateway} declined {pending.action.value} of intent {intent.intent_id}: {code.value}",
            intent_id=intent.intent_id, decline_code=code.value,
        )

    def _book_authorization(self, conn: Connection, intent: PaymentIntent, _pending: _Pending,
                            result: GatewayResult, _now: int) -> None:
        if intent.authorization_id == result.transaction_id:
            return
        check_transition(intent.intent_id, intent.state, IntentAction.CONFIRM, IntentState.AUTHORIZED)
        self._update(conn, intent.intent_id, {"state": IntentState.AUTHORIZED.value,
                                              "authorization_id": result.transaction_id})

    def _book_capture(self, conn: Connection, intent: PaymentIntent, _pending: _Pending,
                      result: GatewayResult, now: int) -> None:
        if intent.capture_id == result.transaction_id:
            return
        check_transition(intent.intent_id, intent.state, IntentAction.CAPTURE, IntentState.CAPTURED)
        self._update(conn, intent.intent_id, {"state": IntentState.CAPTURED.value, "capture_id": result.transaction_id,
                                              "captured_minor": result.amount.minor})
        ledger.post_entry(conn, kind=ledger.EntryKind.CAPTURE, intent_id=intent.intent_id, now_ms=now,
                          memo=f"capture {intent.intent_id} ({result.transaction_id})", postings=[
                              ledger.Posting(ledger.account_name(ledger.AccountKind.GATEWAY_CLEARING, intent.gateway),
                                             result.amount),
                              ledger.Posting(ledger.account_name(ledger.AccountKind.STORE_REVENUE, intent.store_id),
                                             -result.amount),
                          ])
        order = create_order_in(conn, self._load(conn, intent.intent_id), now)
        issue_receipt_in(conn, order, now)

    def _book_void(self, conn: Connection, intent: PaymentIntent, pending: _Pending,
                   _result: GatewayResult, _now: int) -> None:
        if intent.state is IntentState.CANCELLED:
            return
        check_transition(intent.intent_id, intent.state, IntentAction.CANCEL, IntentState.CANCELLED)
        self._update(conn, intent.intent_id, {"state": IntentState.CANCELLED.value})
        self._audit_staff_cancel(conn, intent.intent_id, pending)

    def _audit_staff_cancel(self, conn: Connection, intent_id: str, pending: _Pending) -> None:
        """A staff cancel goes to the audit log and, in the cloud database, to ``staff_audit`` like staff cart changes."""
        if pending.staff_id is None:
            return
        self._audit.append_in(conn, "payment.cancel", intent_id, {"staff_id": pending.staff_id})
        if sa.inspect(conn).has_table("staff_audit"):
            conn.execute(_STAFF_AUDIT.insert().values(staff_id=pending.staff_id, action="CancelIntent",
                                                           target=intent_id, at_ms=self._clock_ms()))

    def _book_refund(self, conn: Connection, intent: PaymentIntent, pending: _Pending,
                     result: GatewayResult, now: int) -> None:
        seen = conn.execute(sa.select(payment_refunds.c.refund_id)
                            .where(payment_refunds.c.gateway_refund_id == result.transaction_id)).first()
        if seen is not None:
            return
        refunded = intent.refunded + result.amount
        state = IntentState.REFUNDED if refunded == intent.captured else IntentState.PARTIALLY_REFUNDED
        check_transition(intent.intent_id, intent.state, IntentAction.REFUND, state)
        self._update(conn, intent.intent_id, {"state": state.value, "refunded_minor": refunded.minor})
        refund_id = f"re_{uuid.uuid4().hex[:24]}"
        conn.execute(payment_refunds.insert().values(
            refund_id=refund_id, intent_id=intent.intent_id, amount_minor=result.amount.minor,
            currency=result.amount.currency, staff_id=pending.staff_id, gateway_refund_id=result.transaction_id,
            idempotency_key=pending.key, created_at_ms=now,
        ))
        ledger.post_entry(conn, kind=ledger.EntryKind.REFUND, intent_id=intent.intent_id, now_ms=now,
                          memo=f"refund {refund_id} of {intent.intent_id} by staff {pending.staff_id}", postings=[
                              ledger.Posting(ledger.account_name(ledger.AccountKind.REFUNDS, intent.store_id),
                                             result.amount),
                              ledger.Posting(ledger.account_name(ledger.AccountKind.GATEWAY_CLEARING, intent.gateway),
                                             -result.amount),
                          ])
        self._audit.append_in(conn, "payment.refund", intent.intent_id, {
            "refund_id": refund_id, "staff_id": pending.staff_id, "amount_minor": result.amount.minor,
            "currency": result.amount.currency, "state": state.value, "gateway_refund_id": result.transaction_id,
        })

    # ------------------------------------------------------------------ rows

    def _gateway(self, intent: PaymentIntent) -> PaymentGateway:
        return self.gateways[intent.gateway]

    def _check_new_intent(self, amount: Money, payment_token: str, cart_id: str, store_id: str, shopper_id: str,
                          gateway: str, lines: Sequence[PurchaseLine]) -> None:
        amount.require_positive()
        check_payment_token(payment_token)
        for value, field in ((cart_id, "cart_id"), (store_id, "store_id"), (shopper_id, "shopper_id")):
            check_identifier(value, field)
        if gateway not in self.gateways:
            raise UnknownGatewayError(f"gateway {gateway!r} is not configured; expected one of {sorted(self.gateways)}",
                                      field="gateway", gateway=gateway)
        if lines:
            total = Money.zero(amount.currency)
            for line in lines:
                total = total + line.total
            if total != amount:
                raise InvalidPaymentRequestError(f"lines add up to {total} but the amount is {amount}", field="lines")

    def _insert_intent(self, conn: Connection, intent_id: str, amount: Money, payment_token: str, cart_id: str,
                       store_id: str, shopper_id: str, gateway: str, lines: Sequence[PurchaseLine],
                       step_up_required: bool) -> None:
        now = self._clock_ms()
        conn.execute(payment_intents.insert().values(
            intent_id=intent_id, state=IntentState.REQUIRES_CONFIRMATION.value, amount_minor=amount.minor,
            currency=amount.currency, captured_minor=0, refunded_minor=0, gateway=gateway, payment_token=payment_token,
            cart_id=cart_id, store_id=store_id, shopper_id=shopper_id, step_up_required=step_up_required, pin_failures=0,
            version=0, created_at_ms=now, updated_at_ms=now, **_NO_PENDING,
        ))
        if lines:
            conn.execute(payment_intent_lines.insert(), [
                {"intent_id": intent_id, "line_no": number, "sku": line.sku, "description": line.description,
                 "quantity": line.quantity, "unit_minor": line.unit_price.minor}
                for number, line in enumerate(lines, start=1)
            ])

    def _update(self, conn: Connection, intent_id: str, values: dict[str, Any]) -> None:
        conn.execute(payment_intents.update().where(payment_intents.c.intent_id == intent_id).values(
            **values, updated_at_ms=self._clock_ms(), version=payment_intents.c.version + 1,
        ))

    def _replay(self, outcome: StoredOutcome) -> PaymentIntent:
        if not outcome.succeeded:
            outcome.raise_error()
        return intent_from_dict(outcome.payload["intent"], self._token_of(outcome.payload["intent_id"]))

    def _token_of(self, intent_id: str) -> str:
        with self.engine.connect() as conn:
            return self._load(conn, intent_id).payment_token

    @staticmethod
    def _load(conn: Connection, intent_id: str) -> PaymentIntent:
        row = conn.execute(sa.select(payment_intents).where(payment_intents.c.intent_id == intent_id)).first()
        if row is None:
            raise IntentNotFoundError(f"no payment intent {intent_id!r}", intent_id=intent_id)
        line_rows = conn.execute(sa.select(payment_intent_lines).where(payment_intent_lines.c.intent_id == intent_id)
                                 .order_by(payment_intent_lines.c.line_no))
        currency = row.currency
        return PaymentIntent(
            intent_id=row.intent_id, state=IntentState(row.state), amount=Money(int(row.amount_minor), currency),
            captured=Money(int(row.captured_minor), currency), refunded=Money(int(row.refunded_minor), currency),
            gateway=row.gateway, payment_token=row.payment_token, cart_id=row.cart_id, store_id=row.store_id,
            shopper_id=row.shopper_id,
            lines=tuple(PurchaseLine(r.sku, int(r.quantity), Money(int(r.unit_minor), currency), r.description)
                        for r in line_rows),
            step_up_required=bool(row.step_up_required), pin_failures=int(row.pin_failures),
            authorization_id=row.authorization_id, capture_id=row.capture_id, failure_code=row.failure_code,
            created_at_ms=int(row.created_at_ms), updated_at_ms=int(row.updated_at_ms),
        )


def open_service(
    db: str | Engine, *, pin_records: Mapping[str, str] | None = None, pin_verifier: PinVerifier | None = None,
    sandbox_timeout_s: float = 2.0, step_up: StepUpPolicy | None = None,
) -> PaymentService:
    """The standard wiring on one database: the sandbox gateway, refunds by registered staff
    (the cloud ``staff`` table), the shared audit log, and PINs checked by ``pin_verifier``
    (the account layer's), else against ``pin_records`` (shopper id -> encoded
    :class:`payments.stepup.PinRecord`). Creates the payments tables when they are missing.

    ``db``: a database URL (an engine of our own is made), or the engine of a host that
    already has one on the database (the cloud server shares its own, so one process keeps
    one pool per database). Its SQLite transactions must begin IMMEDIATE, as ours do.
    """
    if pin_verifier is not None and pin_records is not None:
        raise ValueError("give pin_records or pin_verifier, not both")
    from payments.audit import AuditLog
    from payments.gateways import SandboxGateway
    from payments.stepup import ScryptPinVerifier
    from payments.storage import create_engine, create_schema

    engine = create_engine(db) if isinstance(db, str) else db
    create_schema(engine)
    return PaymentService(
        engine, {"sandbox": SandboxGateway(engine, timeout_delay_s=sandbox_timeout_s)}, staff=TableStaffRoster(engine),
        audit=AuditLog(engine), step_up=step_up,
        pin_verifier=pin_verifier or ScryptPinVerifier(dict(pin_records or {}).get),
    )


def intent_from_dict(data: Mapping[str, Any], payment_token: str) -> PaymentIntent:
    """Rebuild a :class:`PaymentIntent` from :meth:`PaymentIntent.as_dict` (which shows only the token's tail)."""
    def money(field: str) -> Money:
        return Money(int(data[field]["minor"]), data[field]["currency"])

    return PaymentIntent(
        intent_id=data["intent_id"], state=IntentState(data["state"]), amount=money("amount"),
        captured=money("captured"), refunded=money("refunded"), gateway=data["gateway"], payment_token=payment_token,
        cart_id=data["cart_id"], store_id=data["store_id"], shopper_id=data["shopper_id"],
        lines=tuple(PurchaseLine(line["sku"], int(line["quantity"]),
                                 Money(int(line["unit_price"]["minor"]), line["unit_price"]["currency"]),
                                 line["description"]) for line in data["lines"]),
        step_up_required=bool(data["step_up_required"]), pin_failures=int(data["pin_failures"]),
        authorization_id=data["authorization_id"], capture_id=data["capture_id"], failure_code=data["failure_code"],
        created_at_ms=int(data["created_at_ms"]), updated_at_ms=int(data["updated_at_ms"]),
    )
