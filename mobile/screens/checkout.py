"""Pay for the cart by card: a payment intent for the subtotal shown, confirmed (the PIN on step-up), captured.

The card is a token from the card network's vault (the sandbox network's test cards
here); the app never sees a card number. Each step carries its own idempotency key,
so a retry after a lost answer cannot charge twice; a refused payment starts a new
intent on the next try.
"""
from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from cloud.client import ClientError, IntentState, PaymentIntent, SyncClient
from mobile.i18n import tr
from mobile.screens.base import AppScreen, build
from omnifit.errors import ErrorCode, OmnifitError
from payments.gateways.sandbox import TEST_CARDS


class PinNeeded(OmnifitError):
    """The bank or the amount asks for the shopper's payment PIN."""

    code = ErrorCode.FAILED_PRECONDITION


class Declined(OmnifitError):
    """The card network refused the payment; the message says why, in the shopper's language."""

    code = ErrorCode.FAILED_PRECONDITION


def card_label(token: str) -> str:
    card = TEST_CARDS[token]
    return f"{card.brand} •••• {card.last4}"


class CheckoutScreen(AppScreen):
    card_token = StringProperty("tok_visa_approve")
    needs_pin = BooleanProperty(False)
    intent_id = StringProperty("")
    total_text = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        self.app.bind(cart=self._draw, lang=self._draw)

    def show(self, **params: Any) -> None:
        super().show()
        self.needs_pin, self.intent_id = False, ""
        self._draw()

    def _draw(self, *_args: Any) -> None:
        cart = self.app.cart
        self.total_text = tr.money(cart.subtotal) if cart is not None else ""
        box = self.ids.cards
        box.clear_widgets()
        for token in TEST_CARDS:
            chip = build("Chip", text=card_label(token), group=f"card-{id(self)}", allow_no_selection=False,
                                state="down" if token == self.card_token else "normal")
            chip.bind(on_release=lambda _chip, token=token: setattr(self, "card_token", token))
            box.add_widget(chip)

    def pay(self, pin: str) -> None:
        cart = self.app.cart
        if cart is None or not cart.lines:
            self.error = tr._("Your cart is empty")
            return
        if self.needs_pin and not (pin.isdigit() and 4 <= len(pin) <= 8):
            self.error = tr._("Enter your payment PIN (4 to 8 digits).")
            return
        self.working, self.error = True, ""
        token, cart_id, amount = self.card_token, cart.cart_id, cart.subtotal

        async def pay(client: SyncClient) -> PaymentIntent:
            if not self.intent_id:
                self.intent_id = (await client.create_payment_intent(cart_id, amount, payment_token=token)).intent_id
            try:
                await client.confirm_payment_intent(self.intent_id, pin=pin or None)
            except ClientError as exc:
                if exc.code is ErrorCode.FAILED_PRECONDITION and "PIN" in str(exc):
                    raise PinNeeded(str(exc)) from exc
                intent = await client.get_payment_intent(self.intent_id)
                if intent.status in (IntentState.FAILED, IntentState.CANCELLED):
                    self.intent_id = ""
                    if intent.failure_code:
                        raise Declined(tr._("Your card was declined ({reason}). Choose another card.",
                                            reason=intent.failure_code)) from exc
                raise
            return await client.capture_payment_intent(self.intent_id)

        self.app.call(pay, done=self._paid, failed=self._refused)

    def _refused(self, error: Exception) -> None:
        if isinstance(error, PinNeeded):
            self.working, self.needs_pin = False, True
            self.error = tr._("Your bank asks for your payment PIN.")
            return
        if isinstance(error, Declined):
            self.working, self.error = False, str(error)
            return
        self.fail(error)

    def _paid(self, intent: PaymentIntent) -> None:
        self.working, self.needs_pin = False, False
        self.app.cart_paid()
        self.app.go("receipt", intent_id=intent.intent_id)
