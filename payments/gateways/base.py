"""The one interface every payment gateway plugin implements.

A gateway reports a business failure (a decline) as data, a :class:`GatewayResult`
whose ``decline_code`` says why; only a transport failure — no answer in time —
raises (:class:`payments.errors.GatewayTimeoutError`). The payment service is the
entry point that turns declines into exceptions.

Every call carries a ``reference``: the caller's idempotency reference for that
network operation. Card networks do not deduplicate on it, so after a lost answer
the caller must ask :meth:`PaymentGateway.lookup` what happened before trying again.
"""
from __future__ import annotations

import dataclasses
import enum
from typing import Protocol, runtime_checkable

from payments.money import Money


class GatewayOperation(str, enum.Enum):
    """What a network transaction did. Stable values (stored by gateways and in intents)."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class DeclineCode(str, enum.Enum):
    """Why a gateway said no. Stable values the kiosk maps to shopper-facing messages."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    DO_NOT_HONOUR = "do_not_honour"
    STEP_UP_REQUIRED = "step_up_required"
    INVALID_TOKEN = "invalid_token"
    AUTHORIZATION_NOT_FOUND = "authorization_not_found"
    AMOUNT_EXCEEDS_AUTHORIZATION = "amount_exceeds_authorization"
    ALREADY_SETTLED = "already_settled"
    PIN_ATTEMPTS_EXCEEDED = "pin_attempts_exceeded"  # set by the service, not a network


@dataclasses.dataclass(frozen=True)
class GatewayResult:
    """One network answer. ``transaction_id`` is the gateway's id (None when declined)."""

    operation: GatewayOperation
    reference: str
    approved: bool
    amount: Money
    transaction_id: str | None = None
    decline_code: DeclineCode | None = None

    def __post_init__(self) -> None:
        if self.approved == (self.decline_code is not None):
            raise ValueError("a result is either approved or carries a decline code, not both or neither")


@dataclasses.dataclass(frozen=True)
class CardDescription:
    """The card behind a payment token as its network knows it: what a screen or receipt may show.

    Never the card number: the brand and the last four digits, which the card itself shows.
    """

    brand: str   # "Visa", "Mastercard", "UnionPay"
    last4: str   # four digits

    def __post_init__(self) -> None:
        if not (len(self.last4) == 4 and self.last4.isdigit()) or not self.brand:
            raise ValueError(f"a card description is a brand and four digits; got {self.brand!r}, {self.last4!r}")

    @property
    def label(self) -> str:
        return f"{self.brand} ending {self.last4}"


@runtime_checkable
class PaymentGateway(Protocol):
    """A card network or payment provider behind one interface."""

    name: str

    def authorize(self, *, token: str, amount: Money, reference: str, step_up_verified: bool) -> GatewayResult:
        """Reserve ``amount`` on the payment method ``token``; ``step_up_verified`` says the shopper passed a PIN."""

    def capture(self, *, authorization_id: str, amount: Money, reference: str) -> GatewayResult:
        """Take ``amount`` (at most the authorised amount) under an approved authorisation."""

    def void(self, *, authorization_id: str, amount: Money, reference: str) -> GatewayResult:
        """Release the authorisation of ``amount`` that was not captured."""

    def refund(self, *, capture_id: str, amount: Money, reference: str) -> GatewayResult:
        """Return ``amount`` of a capture to the shopper."""

    def lookup(self, reference: str) -> GatewayResult | None:
        """The answer the network gave to ``reference`` (None when it never saw it)."""

    def describe(self, token: str) -> CardDescription | None:
        """The card behind ``token`` as the network's vault describes it (None when it does not know the token)."""
