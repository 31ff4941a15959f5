"""Checkout: pay by card (the reader's vault token) or by face, a PIN when step-up asks, then the receipt.

Every payment call carries an idempotency key made once per attempt and kept until
that attempt is settled, so a double tap, a retry after a lost answer or a kiosk
that fails over to another replica never charges twice. Payments are never queued:
with the cloud unreachable the shopper is told so and nothing is charged.
"""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field

import pygame

from cloud.client import ClientError, IntentState, PaymentIntent
from kiosk.app import ui
from kiosk.app.errors import describe_error, is_offline
from kiosk.app.journal import PaymentJournal
from kiosk.app.screen import Screen
from omnifit.errors import ErrorCode

# The card reader of a kiosk without card hardware is the sandbox network's: presenting a
# card hands the kiosk one of these vault tokens (see payments.gateways.sandbox.TEST_TOKENS).
SANDBOX_CARDS = (
    ("Visa", "tok_visa_approve"),
    ("UnionPay", "tok_unionpay_approve"),
    ("Declined card", "tok_decline_insufficient_funds"),
    ("Card asking for PIN", "tok_step_up"),
)
RECEIPT_PAPER_MM = 58


def _key() -> str:
    return f"kiosk-pay-{uuid.uuid4().hex}"


@dataclass
class PaymentAttempt:
    """One try at paying the cart: its intent and the idempotency key of each step, made once."""

    method: str  # "card" or "face"
    payment_token: str = ""
    face_match: object | None = None
    intent: PaymentIntent | None = None
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, step: str) -> str:
        return self.keys.setdefault(step, _key())

    def new_key(self, step: str) -> str:
        """A fresh key for a step that must be asked again with new input (a PIN)."""
        self.keys[step] = _key()
        return self.keys[step]


class CheckoutScreen(Screen):
    """The total, and the two ways to pay."""

    name = "checkout"
    title = "Pay"

    def enter(self) -> None:
        cart = self.app.session.cart
        if cart is not None:  # the phone may have claimed it (and merged other lines in) meanwhile
            self.call(lambda client: client.get_cart(cart.cart_id), self._loaded, waiting="Checking your cart")

    def _loaded(self, cart, error) -> None:
        if error is not None:
            self.app.fail(error, "check your cart")
        else:
            self.app.session.cart = cart

    def card_allowed(self) -> bool:
        """The cloud charges a card to a shopper's account, so the cart must be linked to one first."""
        cart = self.app.session.cart
        return cart is not None and bool(cart.owner_shopper_id)

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        face = pygame.Rect(0, 0, 520, 140)
        face.center = (width // 2 - 290, height // 2 + 40)
        card = face.move(580, 0)
        back = pygame.Rect(40, height - 130, 300, 96)
        face_button = ui.Button("Pay with my face", face, "face", text_size=ui.TITLE_PX - 8)
        face_button.enabled = self.app.face_camera_ready() and not self.busy
        card_button = ui.Button("Pay by card", card, "card", text_size=ui.TITLE_PX - 8)
        card_button.enabled = self.card_allowed() and not self.busy
        buttons = [face_button, card_button, ui.Button("Back to cart", back, "back", colour=ui.PANEL)]
        corner = pygame.Rect(width - 360, height - 130, 320, 96)
        if not self.card_allowed() and not self.busy:
            buttons.append(ui.Button("Link my phone", corner, "pair"))
        elif self.app.face_camera_ready() and not self.busy:  # a linked shopper may enrol for face pay here
            buttons.append(ui.Button("Set up face pay", corner, "enroll", colour=ui.PANEL))
        return buttons

    def on_action(self, action: str) -> None:
        if action == "card":
            self.app.go("pay_card")
        elif action == "face":
            self.app.go("pay_face")
        elif action == "back":
            self.app.go("cart")
        elif action == "pair":
            self.app.go("pair")
        elif action == "enroll":
            self.app.go("face_enroll")

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        cart = self.app.session.cart
        if not self.card_allowed() and not self.busy:
            ui.draw_paragraph(surface, "To pay by card, link this cart to your Omnifit account first: tap \u201cLink my "
                              "phone\u201d and scan the code with the app.", pygame.Rect(width // 2 - 10, height // 2 + 130,
                              width // 2 - 30, 110), size=ui.SMALL_PX, colour=ui.MUTED)
        if cart is not None:
            ui.draw_text(surface, f"Total {cart.subtotal}", (width // 2, height // 4), size=84, anchor="center")
            ui.draw_text(surface, f"{sum(line.quantity for line in cart.lines)} item(s)", (width // 2, height // 4 + 70),
                         colour=ui.MUTED, anchor="center")
        if not self.app.face_camera_ready():
            ui.draw_text(surface, "Face pay is not set up on this kiosk.", (width // 2 - 290, height // 2 + 130),
                         size=ui.SMALL_PX, colour=ui.MUTED, anchor="midtop")


class PayingScreen(Screen):
    """Runs an attempt: create the intent, confirm (with a PIN when asked), capture, then the receipt."""

    name = "paying"
    title = "Paying"

    def __init__(self, app, attempt: PaymentAttempt) -> None:
        super().__init__(app)
        self.attempt = attempt
        self.failed: str | None = None
        self.outcome_unknown = False
        self.pin_pad: ui.Keypad | None = None

    def widgets(self) -> list:
        return [self.pin_pad] if self.pin_pad is not None else []

    def enter(self) -> None:
        self._create()

    def _create(self) -> None:
        cart, attempt = self.app.session.cart, self.attempt
        key = attempt.key("create")
        self.call(lambda client: client.create_payment_intent(
            cart.cart_id, cart.subtotal, payment_token=attempt.payment_token, face_match=attempt.face_match,
            idempotency_key=key), self._created, waiting="Starting the payment")

    def _created(self, intent: PaymentIntent | None, error) -> None:
        if error is not None:
            return self._stop(error, "start the payment")
        self.attempt.intent = intent
        PaymentJournal(self.app.config.journal_path).record(
            intent.intent_id, intent.cart_id, intent.amount.minor, intent.amount.currency, self.attempt.method)
        close = bool(getattr(self.attempt.face_match, "step_up_required", False))
        if intent.step_up_required or close:
            self._ask_pin()
        else:
            self._confirm(None)

    def _confirm(self, pin: str | None) -> None:
        intent, attempt = self.attempt.intent, self.attempt
        key = attempt.new_key("confirm") if pin is not None else attempt.key("confirm")
        close = bool(getattr(attempt.face_match, "step_up_required", False))
        self.call(lambda client: client.confirm_payment_intent(intent.intent_id, pin, close, idempotency_key=key),
                  self._confirmed, waiting="Authorising")

    def _confirmed(self, intent: PaymentIntent | None, error) -> None:
        if isinstance(error, ClientError) and error.code is ErrorCode.FAILED_PRECONDITION and "PIN" in str(error):
            return self._ask_pin()
        if isinstance(error, ClientError) and error.code is ErrorCode.PERMISSION_DENIED and self.pin_pad is not None:
            self.app.fail(error, "accept that PIN")
            self.pin_pad.value = ""
            return
        if error is not None:
            return self._stop(error, "authorise the payment")
        self.attempt.intent = intent
        if intent.status is IntentState.FAILED:
            return self._stop(None, "take the payment", f"the card was declined ({intent.failure_code}).")
        self.pin_pad = None
        key = self.attempt.key("capture")
        self.call(lambda client: client.capture_payment_intent(intent.intent_id, idempotency_key=key),
                  self._captured, waiting="Taking the payment")

    def _captured(self, intent: PaymentIntent | None, error) -> None:
        if error is not None:
            return self._stop(error, "finish the payment")
        self.attempt.intent = intent
        self.app.go("receipt", intent)

    def _ask_pin(self) -> None:
        width, _ = self.app.surface.get_size()
        self.pin_pad = ui.Keypad((width // 2 - 164, 260), max_length=8, masked=True)

    def _stop(self, error, doing: str, why: str = "") -> None:
        self.pin_pad = None
        # No answer at all: the step may have happened, so a retry repeats it with the same key.
        # A clear refusal (a decline, a changed cart): a retry starts a new attempt with new keys.
        self.outcome_unknown = is_offline(error)
        self.failed = why or ""
        if error is not None:
            self.app.fail(error, doing)
            self.failed = describe_error(error)
        else:
            self.app.notify(f"Could not {doing}: {why}", "error")

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        if self.failed is not None:
            return ui.button_row([("Try again", "again"), ("Other way to pay", "other")], height - 260, width, margin=160)
        if self.pin_pad is not None:
            return [ui.Button("Cancel", pygame.Rect(40, height - 130, 300, 96), "other", colour=ui.PANEL)]
        return []

    def on_action(self, action: str) -> None:
        if action == "again":
            self.failed = None
            if not self.outcome_unknown:
                self._cancel_open_intent()
                if self.attempt.method == "face":  # a match token pays once: a new try is a new match
                    self.app.go("pay_face")
                    return
                self.attempt = PaymentAttempt(self.attempt.method, self.attempt.payment_token, self.attempt.face_match)
            intent = self.attempt.intent
            if intent is None:
                self._create()
            elif intent.status is IntentState.AUTHORIZED:
                self._confirmed(intent, None)  # authorised already: capture (with the same key)
            else:
                self._confirm(None)
        elif action == "other":
            self._cancel_open_intent()
            self.app.go("checkout")

    def _cancel_open_intent(self) -> None:
        """An intent left waiting for a PIN is cancelled so it holds nothing; its outcome is only logged."""
        intent = self.attempt.intent
        if intent is not None and intent.status in (IntentState.REQUIRES_CONFIRMATION, IntentState.AUTHORIZED):
            key = self.attempt.key("cancel")
            self.app.worker.call(lambda client: client.cancel_payment_intent(intent.intent_id, idempotency_key=key))

    def on_tap(self, pos: tuple[int, int]) -> None:
        if self.pin_pad is not None and self.pin_pad.tap(pos) == "ok":
            self._pin_entered()

    def on_key(self, event: pygame.event.Event) -> None:
        if self.pin_pad is not None and self.pin_pad.key(event) == "ok":
            self._pin_entered()

    def _pin_entered(self) -> None:
        pin = self.pin_pad.value
        if not 4 <= len(pin) <= 8:
            self.app.notify("Your PIN has 4 to 8 digits.", "warning")
            return
        self._confirm(pin)

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        cart = self.app.session.cart
        if cart is not None:
            ui.draw_text(surface, f"{cart.subtotal}", (width // 2, 140), size=ui.TITLE_PX, anchor="center")
        if self.failed is not None:
            ui.draw_paragraph(surface, "The payment did not go through. " + self.failed + " Nothing was charged "
                              "unless a receipt is shown.", pygame.Rect(160, 220, width - 320, 200), centred=True)
        elif self.pin_pad is not None:
            ui.draw_text(surface, "Enter your payment PIN", (width // 2, 200), anchor="center")
            ui.draw_text(surface, self.pin_pad.shown() or " ", (width // 2, 236), size=ui.TITLE_PX, anchor="center")
            self.pin_pad.draw(surface)


class CardScreen(Screen):
    """Present a card to the reader. Without card hardware the reader is the sandbox network's."""

    name = "pay_card"
    title = "Pay by card"

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = [ui.Button(label, pygame.Rect(40 + (i % 2) * ((width - 100) // 2 + 20), 300 + (i // 2) * 120,
                                                (width - 100) // 2, 100), f"card:{token}", colour=ui.PANEL)
                   for i, (label, token) in enumerate(SANDBOX_CARDS)]
        return buttons + [ui.Button("Back", pygame.Rect(40, height - 130, 300, 96), "back", colour=ui.PANEL)]

    def on_action(self, action: str) -> None:
        if action.startswith("card:"):
            self.app.go("paying", PaymentAttempt("card", payment_token=action.split(":", 1)[1]))
        elif action == "back":
            self.app.go("checkout")

    def draw_body(self, surface: pygame.Surface) -> None:
        cart = self.app.session.cart
        ui.draw_text(surface, f"Hold your card to the reader to pay {cart.subtotal if cart else ''}", (40, 130))
        ui.draw_text(surface, "Card reader: sandbox network (test cards below)", (40, 190), size=ui.SMALL_PX,
                     colour=ui.MUTED)


class ReceiptScreen(Screen):
    """Paid: the e-receipt as a QR code, and the printable receipt (sent to the printer as an image)."""

    name = "receipt"
    title = "Thank you!"

    def __init__(self, app, intent: PaymentIntent) -> None:
        super().__init__(app)
        self.intent = intent
        self.receipt = None
        self.qr: pygame.Surface | None = None

    def enter(self) -> None:
        intent_id = self.intent.intent_id
        self.call(lambda client: client.get_receipt(intent_id, paper_mm=RECEIPT_PAPER_MM), self._loaded,
                  waiting="Printing your receipt")

    def _loaded(self, receipt, error) -> None:
        if error is not None:
            self.app.fail(error, "fetch the receipt (the payment itself went through)")
            return
        from assets.qr import scannable_qr

        self.receipt = receipt
        image = scannable_qr(receipt.url, 360)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        self.qr = ui.image_surface(buffer.getvalue())
        if receipt.printable_png:
            path = self.app.config.data_dir / "receipts" / f"{receipt.receipt_id}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(receipt.printable_png)  # the printer spool picks printable images up from here

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return [ui.Button("Done", pygame.Rect(width - 340, height - 130, 300, 96), "done")]

    def on_action(self, action: str) -> None:
        if action == "done":
            self.app.reset_session()

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _ = surface.get_size()
        intent = self.intent
        ui.draw_text(surface, f"Paid {intent.captured}", (40, 110))
        # The card as the shopper knows it ("Visa ending 4242", "Face pay (Visa ending 4242)"), on its own
        # line so the last four digits are never cut short beside the QR code.
        ui.draw_text(surface, f"with {intent.payment_method}", (40, 152))
        ui.draw_text(surface, f"Order {intent.order_id}", (40, 196), size=ui.SMALL_PX, colour=ui.MUTED)
        if self.receipt is None or self.qr is None:
            return
        surface.blit(self.qr, (width - 420, 110))
        ui.draw_text(surface, "Scan for your e-receipt", (width - 240, 480), size=ui.SMALL_PX, anchor="midtop")
        for i, line in enumerate(self.receipt.lines[:6]):
            where = "ships to your home" if line.fulfilment == "ship_to_home" else "take it with you"
            ui.draw_text(surface, ui.fit_text(f"{line.quantity} x {line.description or line.sku}", width - 520),
                         (40, 240 + i * 70))
            ui.draw_text(surface, f"{line.unit_price}  \u00b7  {where}", (60, 276 + i * 70), size=ui.SMALL_PX,
                         colour=ui.MUTED)
        ui.draw_text(surface, "A printed receipt is coming out below the screen.", (40, 700), size=ui.SMALL_PX,
                     colour=ui.MUTED)
