"""Checkout: pay by card (the reader's vault token) or by face, a PIN when step-up asks, then the receipt.

Every payment call carries an idempotency key made once per attempt and kept until
that attempt is settled, so a double tap, a retry after a lost answer or a kiosk
that fails over to another replica never charges twice. Payments are never queued:
with the cloud unreachable the shopper is told so and nothing is charged.
"""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field

import pygame

from cloud.client import ClientError, IntentState, PaymentIntent
from kiosk.app import text, ui
from kiosk.app.errors import describe_decline, describe_error, is_offline
from kiosk.app.journal import PaymentJournal
from kiosk.app.screen import Screen
from kiosk.app.text import N_, _
from omnifit.errors import ErrorCode

# A development kiosk (``--dev``) has no card hardware: its "reader" is the sandbox network's, and
# presenting a card hands the kiosk one of these vault tokens (payments.gateways.sandbox.TEST_TOKENS).
# A store's kiosk never shows them.
SANDBOX_CARDS = (
    ("Visa", "tok_visa_approve"),
    ("UnionPay", "tok_unionpay_approve"),
    ("Declined card", "tok_decline_insufficient_funds"),
    ("Card asking for PIN", "tok_step_up"),
)
RECEIPT_PAPER_MM = 58


# The cloud refuses a declined confirmation with FAILED_PRECONDITION and a message ending in the
# network's decline code ("gateway sandbox declined confirm of intent pi_…: insufficient_funds").
_DECLINED = re.compile(r"\bdeclined\b.*:\s*([a-z_]+)\s*$")


def declined_code(error: BaseException | None) -> str | None:
    """The decline code of a refusal that is a card decline, else None."""
    if isinstance(error, ClientError) and error.code is ErrorCode.FAILED_PRECONDITION:
        match = _DECLINED.search(str(error))
        if match:
            return match.group(1)
    return None


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
    title = N_("Pay")

    def enter(self) -> None:
        cart = self.app.session.cart
        if cart is not None:  # the phone may have claimed it (and merged other lines in) meanwhile
            self.call(lambda client: client.get_cart(cart.cart_id), self._loaded, waiting=N_("Checking your cart"))

    def _loaded(self, cart, error) -> None:
        if error is not None:
            self.app.fail(error, _("check your cart"))
        else:
            self.app.session.cart = cart

    def card_allowed(self) -> bool:
        """The cloud charges a card to a shopper's account, so the cart must be linked to one first."""
        cart = self.app.session.cart
        return cart is not None and bool(cart.owner_shopper_id)

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        face, card = self._pay_rects(width, height)
        back = pygame.Rect(40, height - 130, 300, 96)
        face_button = ui.Button(_("Pay with my face"), face, "face", text_size=ui.TITLE_PX - 8)
        face_button.enabled = self.app.face_camera_ready() and not self.busy
        card_button = ui.Button(_("Pay by card"), card, "card", text_size=ui.TITLE_PX - 8)
        card_button.enabled = self.card_allowed() and not self.busy
        buttons = [face_button, card_button, ui.Button(_("Back to cart"), back, "back", colour=ui.PANEL)]
        corner = pygame.Rect(width - 360, height - 130, 320, 96)
        if not self.card_allowed() and not self.busy:
            buttons.append(ui.Button(_("Link my phone"), corner, "pair"))
        elif self.app.face_camera_ready() and not self.busy:  # a linked shopper may enrol for face pay here
            buttons.append(ui.Button(_("Set up face pay"), corner, "enroll", colour=ui.PANEL))
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

    @staticmethod
    def _pay_rects(width: int, height: int) -> tuple[pygame.Rect, pygame.Rect]:
        """The two ways to pay: side by side on a landscape screen, one above the other on a portrait one."""
        face = pygame.Rect(0, 0, min(520, width - 160), 140)
        if width > height:
            face.center = (width // 2 - 290, height // 2 + 40)
            return face, face.move(580, 0)
        face.center = (width // 2, height // 2 - 80)
        return face, face.move(0, 300)

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        cart = self.app.session.cart
        face, card = self._pay_rects(width, height)
        if not self.card_allowed() and not self.busy:
            ui.draw_paragraph(surface, _("To pay by card, link this cart to your Omnifit account first: tap \u201cLink my "
                                         "phone\u201d and scan the code with the app."),
                              pygame.Rect(card.left, card.bottom + 20, card.width, 110), size=ui.SMALL_PX, colour=ui.MUTED)
        if cart is not None:
            ui.draw_text(surface, _("Total {amount}", amount=text.money(cart.subtotal)), (width // 2, height // 4),
                         size=84, anchor="center")
            ui.draw_text(surface, _("{count} item(s)", count=sum(line.quantity for line in cart.lines)),
                         (width // 2, height // 4 + 70), colour=ui.MUTED, anchor="center")
        if not self.app.face_camera_ready():
            ui.draw_text(surface, _("Face pay is not set up on this kiosk."), (face.centerx, face.bottom + 20),
                         size=ui.SMALL_PX, colour=ui.MUTED, anchor="midtop")


class PayingScreen(Screen):
    """Runs an attempt: create the intent, confirm (with a PIN when asked), capture, then the receipt."""

    name = "paying"
    title = N_("Paying")

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
            idempotency_key=key), self._created, waiting=N_("Starting the payment"))

    def _created(self, intent: PaymentIntent | None, error) -> None:
        if error is not None:
            return self._stop(error, _("start the payment"))
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
                  self._confirmed, waiting=N_("Authorising"))

    def _confirmed(self, intent: PaymentIntent | None, error) -> None:
        if isinstance(error, ClientError) and error.code is ErrorCode.FAILED_PRECONDITION and "PIN" in str(error):
            return self._ask_pin()
        if isinstance(error, ClientError) and error.code is ErrorCode.PERMISSION_DENIED and self.pin_pad is not None:
            self.app.fail(error, _("accept that PIN"))
            self.pin_pad.value = ""
            return
        decline = declined_code(error)
        if decline is not None:
            return self._stop(None, _("take the payment"), describe_decline(decline))
        if error is not None:
            return self._stop(error, _("authorise the payment"))
        self.attempt.intent = intent
        if intent.status is IntentState.FAILED:
            return self._stop(None, _("take the payment"), describe_decline(intent.failure_code))
        self.pin_pad = None
        key = self.attempt.key("capture")
        self.call(lambda client: client.capture_payment_intent(intent.intent_id, idempotency_key=key),
                  self._captured, waiting=N_("Taking the payment"))

    def _captured(self, intent: PaymentIntent | None, error) -> None:
        if error is not None:
            return self._stop(error, _("finish the payment"))
        self.attempt.intent = intent
        self.app.go("receipt", intent)

    def _ask_pin(self) -> None:
        width, _height = self.app.surface.get_size()
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
            self.app.notify(why, "error")

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        if self.failed is not None:
            return ui.button_row([(_("Try again"), "again"), (_("Other way to pay"), "other")], height - 260, width,
                                 margin=min(160, width // 10))
        if self.pin_pad is not None:
            return [ui.Button(_("Cancel"), pygame.Rect(40, height - 130, 300, 96), "other", colour=ui.PANEL)]
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
            self.app.notify(_("Your PIN has 4 to 8 digits."), "warning")
            return
        self._confirm(pin)

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        cart = self.app.session.cart
        if cart is not None:
            ui.draw_text(surface, text.money(cart.subtotal), (width // 2, 140), size=ui.TITLE_PX, anchor="center")
        if self.failed is not None:
            ui.draw_paragraph(surface, _("The payment did not go through. {why} Nothing was charged unless a receipt "
                                         "is shown.", why=self.failed), pygame.Rect(120, 220, width - 240, 200), centred=True)
        elif self.pin_pad is not None:
            ui.draw_text(surface, _("Enter your payment PIN"), (width // 2, 200), anchor="center")
            ui.draw_text(surface, self.pin_pad.shown() or " ", (width // 2, 236), size=ui.TITLE_PX, anchor="center")
            self.pin_pad.draw(surface)


class CardScreen(Screen):
    """Present a card to the reader.

    A store's reader is a USB keyboard-wedge device: presenting a card types the network's vault
    token and Enter, which this screen takes (the card number never reaches the kiosk). A ``--dev``
    kiosk without a reader shows the sandbox network's test cards as buttons instead.
    """

    name = "pay_card"
    title = N_("Pay by card")

    def __init__(self, app) -> None:
        super().__init__(app)
        self.read = ""

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = []
        if self.app.config.dev:
            columns = 2 if width > height else 1
            each = (width - 80 - 20 * (columns - 1)) // columns
            buttons = [ui.Button(label, pygame.Rect(40 + (i % columns) * (each + 20), 300 + (i // columns) * 120, each, 100),
                                 f"card:{token}", colour=ui.PANEL) for i, (label, token) in enumerate(SANDBOX_CARDS)]
        return buttons + [ui.Button(_("Back"), pygame.Rect(40, height - 130, 300, 96), "back", colour=ui.PANEL)]

    def on_action(self, action: str) -> None:
        if action.startswith("card:"):
            self._pay(action.split(":", 1)[1])
        elif action == "back":
            self.app.go("checkout")

    def on_key(self, event: pygame.event.Event) -> None:
        if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            token, self.read = self.read.strip(), ""
            if token:
                self._pay(token)
        elif event.unicode and event.unicode.isprintable() and len(self.read) < 128:
            self.read += event.unicode

    def _pay(self, token: str) -> None:
        self.app.go("paying", PaymentAttempt("card", payment_token=token))

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        cart = self.app.session.cart
        amount = text.money(cart.subtotal) if cart else ""
        ui.draw_paragraph(surface, _("Hold your card to the reader to pay {amount}", amount=amount),
                          pygame.Rect(40, 130, width - 80, 120))
        if self.app.config.dev:
            ui.draw_text(surface, _("Development kiosk: sandbox test cards"), (40, 250), size=ui.SMALL_PX,
                         colour=ui.WARNING)


class ReceiptScreen(Screen):
    """Paid: the e-receipt as a QR code, and the printable receipt (sent to the printer as an image)."""

    name = "receipt"
    title = N_("Thank you!")

    def __init__(self, app, intent: PaymentIntent) -> None:
        super().__init__(app)
        self.intent = intent
        self.receipt = None
        self.qr: pygame.Surface | None = None

    def enter(self) -> None:
        intent_id = self.intent.intent_id
        self.call(lambda client: client.get_receipt(intent_id, paper_mm=RECEIPT_PAPER_MM), self._loaded,
                  waiting=N_("Printing your receipt"))

    def _loaded(self, receipt, error) -> None:
        if error is not None:
            self.app.fail(error, _("fetch the receipt (the payment itself went through)"))
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
        return [ui.Button(_("Done"), pygame.Rect(width - 340, height - 130, 300, 96), "done")]

    def on_action(self, action: str) -> None:
        if action == "done":
            self.app.reset_session()

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        intent = self.intent
        ui.draw_text(surface, _("Paid {amount}", amount=text.money(intent.captured)), (40, 110))
        # The card as the shopper knows it ("Visa ending 4242", "Face pay (Visa ending 4242)"), on its own
        # line so the last four digits are never cut short beside the QR code.
        ui.draw_text(surface, _("with {method}", method=intent.payment_method), (40, 152))
        paid_at = self.receipt.created_at_ms if self.receipt is not None else intent.updated_at_ms
        ui.draw_text(surface, _("Order {order} \u00b7 {when}", order=intent.order_id,
                                when=text.when(paid_at, self.app.store_timezone)), (40, 196), size=ui.SMALL_PX,
                     colour=ui.MUTED)
        if self.receipt is None or self.qr is None:
            return
        # The QR beside the lines on a landscape screen, under them on a portrait one.
        qr_at = (width - 420, 110) if width > height else (width // 2 - 180, height - 660)
        surface.blit(self.qr, qr_at)
        ui.draw_text(surface, _("Scan for your e-receipt"), (qr_at[0] + 180, qr_at[1] + 370), size=ui.SMALL_PX,
                     anchor="midtop")
        for i, line in enumerate(self.receipt.lines[:6]):
            where = _("ships to your home") if line.fulfilment == "ship_to_home" else _("take it with you")
            ui.draw_text(surface, ui.fit_text(f"{line.quantity} x {line.description or line.sku}",
                                              (width - 520) if width > height else width - 80), (40, 240 + i * 70))
            ui.draw_text(surface, f"{text.money(line.unit_price)}  \u00b7  {where}", (60, 276 + i * 70),
                         size=ui.SMALL_PX, colour=ui.MUTED)
        ui.draw_text(surface, _("A printed receipt is coming out below the screen."), (40, height - 100),
                     size=ui.SMALL_PX, colour=ui.MUTED)
