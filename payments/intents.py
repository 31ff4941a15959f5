"""Payment intents: the states a payment goes through, the legal moves between them, and the intent record.

An intent is created ``requires_confirmation``; confirming it asks the gateway for an
authorisation, capturing it takes the money (and creates the order and receipt),
cancelling voids it, and staff refunds return money in full or in parts:

    requires_confirmation --confirm--> authorized | failed
    requires_confirmation --cancel---> cancelled
    authorized            --capture--> captured | failed
    authorized            --cancel---> cancelled
    captured              --refund---> refunded | partially_refunded
    partially_refunded    --refund---> refunded | partially_refunded

``cancelled``, ``failed`` and ``refunded`` are final. :data:`TRANSITIONS` is the
one table the service consults.
"""
from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from typing import Any

from payments.errors import IllegalTransitionError, InvalidPaymentRequestError
from payments.money import Money


class IntentState(str, enum.Enum):
    """Stable snake_case states; the proto and the apps rely on these values."""

    REQUIRES_CONFIRMATION = "requires_confirmation"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELLED = "cancelled"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class IntentAction(str, enum.Enum):
    """What a caller asks of an intent; also the ``operation`` of an idempotency key."""

    CREATE = "create"
    CONFIRM = "confirm"
    CAPTURE = "capture"
    CANCEL = "cancel"
    REFUND = "refund"
    RECONCILE = "reconcile"


S = IntentState
TRANSITIONS: Mapping[IntentState, Mapping[IntentAction, frozenset[IntentState]]] = {
    S.REQUIRES_CONFIRMATION: {
        IntentAction.CONFIRM: frozenset({S.AUTHORIZED, S.FAILED}),
        IntentAction.CANCEL: frozenset({S.CANCELLED}),
    },
    S.AUTHORIZED: {
        IntentAction.CAPTURE: frozenset({S.CAPTURED, S.FAILED}),
        IntentAction.CANCEL: frozenset({S.CANCELLED}),
    },
    S.CAPTURED: {IntentAction.REFUND: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED})},
    S.PARTIALLY_REFUNDED: {IntentAction.REFUND: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED})},
    S.CANCELLED: {},
    S.FAILED: {},
    S.REFUNDED: {},
}
del S

FINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)


def check_transition(intent_id: str, state: IntentState, action: IntentAction, to: IntentState | None = None) -> None:
    """Raise :class:`IllegalTransitionError` unless ``action`` is allowed from ``state`` (and may lead to ``to``)."""
    allowed = TRANSITIONS[state].get(action)
    if allowed is None or (to is not None and to not in allowed):
        legal = sorted(a.value for a in TRANSITIONS[state]) or ["nothing (final state)"]
        raise IllegalTransitionError(
            f"cannot {action.value} intent {intent_id}: it is {state.value}; allowed from there: {', '.join(legal)}",
            intent_id=intent_id, state=state.value, action=action.value,
        )


_ID_RE = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")


def check_identifier(value: str, field: str) -> str:
    """``value`` if it is a plausible id (1-64 of letters, digits, ``_-.:``), else a clear error naming ``field``."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise InvalidPaymentRequestError(
            f"{field} must be 1-64 letters, digits or '_-.:'; got {value!r}", field=field
        )
    return value


@dataclasses.dataclass(frozen=True)
class PurchaseLine:
    """One cart line being paid for: ``quantity`` units of ``sku`` at ``unit_price`` each."""

    sku: str
    quantity: int
    unit_price: Money
    description: str = ""

    def __post_init__(self) -> None:
        check_identifier(self.sku, "sku")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise InvalidPaymentRequestError(f"line {self.sku}: quantity must be a positive int, got {self.quantity!r}",
                                             field="quantity")
        self.unit_price.require_positive(field=f"line {self.sku} unit price")

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity

    def as_dict(self) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity, "unit_price": self.unit_price.as_dict(),
                "description": self.description}


@dataclasses.dataclass(frozen=True)
class PaymentIntent:
    """A snapshot of one intent. Money fields share ``amount.currency``; the token is opaque, never a PAN."""

    intent_id: str
    state: IntentState
    amount: Money
    captured: Money
    refunded: Money
    gateway: str
    payment_token: str
    cart_id: str
    store_id: str
    shopper_id: str
    lines: tuple[PurchaseLine, ...]
    step_up_required: bool
    pin_failures: int
    authorization_id: str | None
    capture_id: str | None
    failure_code: str | None
    created_at_ms: int
    updated_at_ms: int

    @property
    def token_last4(self) -> str:
        return self.payment_token[-4:]

    @property
    def refundable(self) -> Money:
        return self.captured - self.refunded

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the CLI and the apps (the token shows only its last four characters)."""
        return {
            "intent_id": self.intent_id, "state": self.state.value, "amount": self.amount.as_dict(),
            "captured": self.captured.as_dict(), "refunded": self.refunded.as_dict(), "gateway": self.gateway,
            "payment_method": f"token ...{self.token_last4}", "cart_id": self.cart_id, "store_id": self.store_id,
            "shopper_id": self.shopper_id, "lines": [line.as_dict() for line in self.lines],
            "step_up_required": self.step_up_required, "pin_failures": self.pin_failures,
            "authorization_id": self.authorization_id, "capture_id": self.capture_id,
            "failure_code": self.failure_code, "created_at_ms": self.created_at_ms, "updated_at_ms": self.updated_at_ms,
        }
