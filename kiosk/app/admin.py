"""Staff admin mode: sign in with a staff credential, refunds, face-data deletion, rig status, the outbox.

Every admin call goes out on a client holding the staff member's own token (the
cloud checks it and writes the staff audit); the kiosk's device token is never used
for staff actions. Signing out, or ``staff_idle_s`` without a touch, drops that token.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pygame

from cloud.client import Money
from kiosk.app import ui
from kiosk.app.journal import PaymentJournal
from kiosk.app.screen import Screen
from payments.errors import MoneyError


def _new_key() -> str:
    return f"kiosk-{uuid.uuid4().hex}"


class StaffSignInScreen(Screen):
    """Staff id and password on the on-screen keyboard (or a USB keyboard)."""

    name = "staff_sign_in"
    title = "Staff sign-in"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.keyboard = ui.TextKeyboard((60, 340), ("staff id", "password"), masked=frozenset({"password"}))

    def widgets(self) -> list:
        return [self.keyboard]

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return [ui.Button("Cancel", pygame.Rect(width - 300, height - 130, 260, 96), "cancel", colour=ui.PANEL)]

    def on_action(self, action: str) -> None:
        if action == "cancel":
            self.app.reset_session()

    def on_tap(self, pos: tuple[int, int]) -> None:
        for index, rect in enumerate(self._field_rects()):
            if rect.collidepoint(pos):
                self.keyboard.focus = index
                return
        if self.keyboard.tap(pos) == "ok":
            self._submit()

    def on_key(self, event: pygame.event.Event) -> None:
        if event.key == pygame.K_ESCAPE:
            self.app.reset_session()
        elif self.keyboard.key(event) == "ok":
            self._submit()

    def _submit(self) -> None:
        staff_id = self.keyboard.values["staff id"].strip()
        password = self.keyboard.values["password"]
        if not staff_id or not password:
            self.app.notify("Enter your staff id and password.", "warning")
            return
        if self.busy:
            return
        self.keyboard.values["password"] = ""  # not kept on screen or in memory past this call
        self.track(self.app.worker.sign_in_staff(staff_id, password),
                   lambda session, error: self._signed_in(staff_id, session, error), "Signing in")

    def _signed_in(self, staff_id: str, session, error) -> None:
        if error is not None:
            self.app.fail(error, "sign you in")
            return
        self.app.sign_in_staff(staff_id, session)
        self.app.go("admin_home")

    def _field_rects(self) -> list[pygame.Rect]:
        return [pygame.Rect(60, 150, 480, 80), pygame.Rect(600, 150, 480, 80)]

    def draw_body(self, surface: pygame.Surface) -> None:
        for index, (name, rect) in enumerate(zip(self.keyboard.field_names, self._field_rects())):
            ui.draw_field(surface, name.title(), self.keyboard.shown(name), rect, focused=index == self.keyboard.focus)
        ui.draw_text(surface, "Staff actions are recorded with your id.", (60, 270), size=ui.SMALL_PX, colour=ui.MUTED)
        self.keyboard.draw(surface)


class AdminScreen(Screen):
    """Base of the screens behind the staff sign-in; a way home and out on each."""

    staff_only = True

    def nav(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return ui.button_row([("Admin home", "home"), ("Sign out", "sign_out")], height - 120, width, margin=40,
                             height=88)

    def on_action(self, action: str) -> None:
        if action == "home":
            self.app.go("admin_home")
        elif action == "sign_out":
            self.app.sign_out_staff()


class AdminHomeScreen(AdminScreen):
    name = "admin_home"
    title = "Admin"

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        tiles = [("Payments and refunds", "admin_payments"), ("Delete face data", "admin_face"),
                 ("Rig and cameras", "admin_rig"), ("Sync outbox", "admin_outbox"),
                 ("Stock and replenishment", "admin_stock"), ("Kiosk health", "admin_health")]
        tile_w, tile_h = (width - 120) // 2, 130
        buttons = [ui.Button(label, pygame.Rect(40 + (i % 2) * (tile_w + 40), 140 + (i // 2) * (tile_h + 20), tile_w, tile_h),
                             action, colour=ui.PANEL) for i, (label, action) in enumerate(tiles)]
        sign_out = pygame.Rect(0, 0, 400, 96)
        sign_out.midbottom = (width // 2, height - 40)
        return buttons + [ui.Button("Sign out", sign_out, "sign_out", colour=ui.DANGER)]

    def on_action(self, action: str) -> None:
        if action.startswith("admin_"):
            self.app.go(action)
        else:
            super().on_action(action)

    def draw_body(self, surface: pygame.Surface) -> None:
        staff = self.app.staff
        if staff is not None:
            expires = time.strftime("%H:%M", time.localtime(staff.session.expires_at_ms / 1000))
            ui.draw_text(surface, f"Signed in as {staff.staff_id} (session until {expires}); "
                         f"closes after {int(self.app.config.staff_idle_s)} s without a touch.",
                         (40, 100), size=ui.SMALL_PX, colour=ui.MUTED)


class RigStatusScreen(AdminScreen):
    """The scanning rig: its source, its calibration file (cameras, reprojection error), and the way into the
    guided calibration (``kiosk.app.calibration``)."""

    name = "admin_rig"
    title = "Rig and cameras"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.calibration = None
        self.problem: str | None = None

    @property
    def calibration_path(self) -> Path:
        return self.app.config.calibration or self.app.config.data_dir / "rig-calibration.json"

    def enter(self) -> None:
        from scanning.calibration import RigCalibration
        from scanning.errors import CalibrationError

        self.calibration, self.problem = None, None
        path = self.calibration_path
        if not path.exists():
            self.problem = "Not calibrated yet: tap Calibrate now and follow the steps."
            return
        try:
            self.calibration = RigCalibration.load(path)
        except CalibrationError as exc:
            self.problem = str(exc)

    def layout(self) -> list[ui.Button]:
        width, _height = self.app.surface.get_size()
        button = ui.Button("Calibrate now", pygame.Rect(width - 400, 110, 360, 96), "calibrate")
        button.enabled = self.app.config.camera == "synthetic" and not self.busy
        return [button] + self.nav()

    def on_action(self, action: str) -> None:
        if action != "calibrate":
            return super().on_action(action)
        self.app.go("admin_calibrate", self.calibration_path)

    def draw_body(self, surface: pygame.Surface) -> None:
        config = self.app.config
        source = {"synthetic": "synthetic rig (virtual cameras, sensor noise model)",
                  "recorded": "a recorded session (played back, for testing)",
                  "realsense": "RealSense depth cameras"}[config.camera]
        ui.draw_text(surface, f"Depth source: {source}", (40, 110), size=ui.SMALL_PX)
        path = self.calibration_path
        saved = time.strftime("%d %b %Y %H:%M", time.localtime(path.stat().st_mtime)) if path.exists() else "never"
        ui.draw_text(surface, f"{config.rig.title()} rig, calibrated: {saved}", (40, 150), size=ui.SMALL_PX,
                     colour=ui.MUTED)
        if config.camera != "synthetic":  # the guided calibration captures only through the virtual rig
            ui.draw_text(surface, "These cameras are calibrated from recorded board captures with omnifit calibrate "
                         "(docs/calibration.md).", (40, surface.get_height() - 190), size=ui.SMALL_PX, colour=ui.MUTED)
        if self.problem is not None:
            ui.draw_paragraph(surface, self.problem, pygame.Rect(40, 220, 800, 200), colour=ui.WARNING)
            return
        from scanning.sources.frame import is_plantar

        cameras = self.calibration.cameras
        worst = max(c.reprojection_error_px for c in cameras.values())
        colour = ui.GOOD if worst <= 1.0 else ui.WARNING
        ui.draw_text(surface, f"{len(cameras)} cameras calibrated, worst reprojection error {worst:.2f} px",
                     (40, 230), colour=colour)
        for i, (camera_id, camera) in enumerate(sorted(cameras.items())):
            intr = camera.intrinsics
            height_cm = camera.extrinsic[2, 3] * 100
            where = (f"under the glass, {-height_cm:.0f} cm below it" if is_plantar(camera.extrinsic)
                     else f"{height_cm:.0f} cm above the platform")
            ui.draw_text(surface, f"{camera_id}: {intr.width}x{intr.height}, reprojection {camera.reprojection_error_px:.2f} px, "
                         f"{camera.corners} board corners, {where}", (60, 290 + i * 44), size=ui.SMALL_PX)


class OutboxScreen(AdminScreen):
    """Cart changes waiting for the cloud, and those it refused for good (with the reason)."""

    name = "admin_outbox"
    title = "Sync outbox"

    def layout(self) -> list[ui.Button]:
        width, _height = self.app.surface.get_size()
        send = ui.Button("Send now", pygame.Rect(width - 320, 110, 280, 88), "flush")
        send.enabled = bool(self.app.pending_mutations()) and not self.busy
        return [send] + self.nav()

    def on_action(self, action: str) -> None:
        if action == "flush":
            self.call(lambda client: client.flush_outbox(), self._flushed, waiting="Sending")
        else:
            super().on_action(action)

    def _flushed(self, applied, error) -> None:
        if error is not None:
            self.app.fail(error, "send the outbox")
        else:
            self.app.notify(f"{applied} change(s) reached the cloud; {self.app.pending_mutations()} still waiting.")

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        client = self.app.worker.device
        ui.draw_text(surface, f"{self.app.pending_mutations()} change(s) waiting to sync", (40, 120))
        dead = client.dead_letters() if client is not None else []
        ui.draw_text(surface, f"{len(dead)} refused by the cloud:", (40, 200), colour=ui.WARNING if dead else ui.MUTED)
        for i, (entry, reason) in enumerate(dead[-8:]):
            line = ui.fit_text(f"#{entry.seq} {entry.method} cart {entry.cart_id}: {reason}", width - 120, ui.SMALL_PX)
            ui.draw_text(surface, line, (60, 250 + i * 40), size=ui.SMALL_PX)


class FaceDataScreen(AdminScreen):
    """Delete a shopper's face data on their request: found by their account email (or shopper id), a
    confirmation naming them, then one audited call."""

    name = "admin_face"
    title = "Delete face data"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.keyboard = ui.TextKeyboard((60, 250), ("shopper",))
        self.confirming: str | None = None  # the shopper id found
        self.shown_as = ""  # how staff typed them (the email)
        self.key = _new_key()
        self.result: str | None = None

    def widgets(self) -> list:
        return [self.keyboard] if self.confirming is None else []

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        if self.confirming is not None:
            return ui.button_row([("Delete", "delete"), ("Keep", "keep")], height - 260, width,
                                 margin=min(200, width // 8)) + self.nav()
        return self.nav()

    def on_action(self, action: str) -> None:
        shopper_id = self.confirming
        if action == "keep":
            self.confirming = None
        elif action == "delete" and shopper_id and not self.busy:
            key = self.key
            self.call(lambda client: client.delete_face_data(shopper_id=shopper_id, idempotency_key=key),
                      self._deleted, waiting="Deleting", staff=True)
        else:
            super().on_action(action)

    def _deleted(self, deletion, error) -> None:
        if error is not None:
            self.app.fail(error, "delete the face data")
            return
        self.confirming = None
        self.key = _new_key()
        self.keyboard.values["shopper"] = ""
        who = self.shown_as or deletion.shopper_id
        if deletion.deleted:
            self.result = f"Face data of {who} deleted (template {deletion.template_id})."
        else:
            self.result = f"{who} had no face data stored; nothing to delete."
        self.app.notify(self.result)

    def on_tap(self, pos: tuple[int, int]) -> None:
        if self.confirming is None and self.keyboard.tap(pos) == "ok":
            self._find()

    def on_key(self, event: pygame.event.Event) -> None:
        if self.confirming is None and self.keyboard.key(event) == "ok":
            self._find()

    def _find(self) -> None:
        typed = self.keyboard.values["shopper"].strip()
        if not typed:
            self.app.notify("Enter the shopper's account email (or the shopper id from their app).", "warning")
            return
        if self.busy:
            return
        self.result = None
        by_email = "@" in typed
        self.call(lambda client: client.get_face_enrollment(**({"email": typed} if by_email else {"shopper_id": typed})),
                  lambda status, error: self._found(typed, status, error), waiting="Looking the shopper up", staff=True)

    def _found(self, typed: str, status, error) -> None:
        if error is not None:
            self.app.fail(error, "find that shopper")
            return
        self.confirming, self.shown_as = status.shopper_id, typed

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        if self.confirming is not None:
            ui.draw_paragraph(surface, f"Delete every face template of {self.shown_as}? The shopper will have to "
                              "enrol again to pay by face. This is recorded in the audit log.",
                              pygame.Rect(120, 200, width - 240, 200), centred=True)
            return
        ui.draw_field(surface, "Shopper's email (or shopper id)", self.keyboard.shown("shopper"),
                      pygame.Rect(60, 150, min(900, width - 120), 80), focused=True)
        if self.result:
            ui.draw_paragraph(surface, self.result, pygame.Rect(60, 720, width - 120, 120), size=ui.SMALL_PX,
                              colour=ui.GOOD)
        self.keyboard.draw(surface)


class PaymentsScreen(AdminScreen):
    """Every payment of this store from the cloud, newest first, five at a time, whichever kiosk (or the
    app) took it, so a refund can be made from any kiosk of the store."""

    name = "admin_payments"
    title = "Payments and refunds"
    PAGE = 5

    def __init__(self, app) -> None:
        super().__init__(app)
        self.intents: list = []
        self.tokens = [""]  # page tokens: the current page's is last
        self.next_token = ""
        self.taken_here = {entry.intent_id for entry in PaymentJournal(app.config.journal_path).recent(50)}

    def enter(self) -> None:
        store, token = self.app.store_id, self.tokens[-1]
        self.call(lambda client: client.list_store_payments(store, page_size=self.PAGE, page_token=token), self._loaded,
                  waiting="Loading payments", staff=True)

    def _loaded(self, page, error) -> None:
        if error is not None:
            self.app.fail(error, "load the store's payments")
            return
        self.intents, self.next_token = page

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = []
        for i, intent in enumerate(self.intents):
            button = ui.Button("Refund", pygame.Rect(width - 240, 190 + i * 90, 200, 76), f"refund:{intent.intent_id}",
                               colour=ui.PANEL)
            button.enabled = refundable(intent)
            buttons.append(button)
        find = ui.Button("Find a payment", pygame.Rect(width - 420, 90, 380, 76), "find", colour=ui.PANEL)
        pages = [ui.Button("Newer", pygame.Rect(40, height - 220, 200, 76), "newer", colour=ui.PANEL),
                 ui.Button("Older", pygame.Rect(260, height - 220, 200, 76), "older", colour=ui.PANEL)]
        pages[0].enabled = len(self.tokens) > 1 and not self.busy
        pages[1].enabled = bool(self.next_token) and not self.busy
        return buttons + [find] + pages + self.nav()

    def on_action(self, action: str) -> None:
        if action.startswith("refund:"):
            intent_id = action.split(":", 1)[1]
            self.app.go("admin_refund", next(i for i in self.intents if i.intent_id == intent_id))
        elif action == "find":
            self.app.go("admin_find_payment")
        elif action == "older" and self.next_token:
            self.tokens.append(self.next_token)
            self.enter()
        elif action == "newer" and len(self.tokens) > 1:
            self.tokens.pop()
            self.enter()
        else:
            super().on_action(action)

    def draw_body(self, surface: pygame.Surface) -> None:
        ui.draw_text(surface, "This store's payments, newest first:" if self.intents or self.busy else
                     "This store has taken no payments yet.", (40, 120), colour=ui.MUTED)
        for i, intent in enumerate(self.intents):
            y = 190 + i * 90
            when = time.strftime("%d %b %H:%M", time.localtime(intent.created_at_ms / 1000))
            where = "this kiosk" if intent.intent_id in self.taken_here else "another kiosk or the app"
            ui.draw_text(surface, f"{when}  {intent.amount}  {intent.payment_method}", (40, y + 4))
            ui.draw_text(surface, f"{intent.intent_id}  \u00b7  {describe_intent(intent)}  \u00b7  {where}", (40, y + 44),
                         size=ui.SMALL_PX, colour=ui.MUTED)


class FindPaymentScreen(AdminScreen):
    """A payment taken elsewhere (another kiosk, the app) by its id, e.g. read off the shopper's receipt."""

    name = "admin_find_payment"
    title = "Find a payment"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.keyboard = ui.TextKeyboard((60, 250), ("payment id",))

    def widgets(self) -> list:
        return [self.keyboard]

    def layout(self) -> list[ui.Button]:
        return self.nav()

    def on_tap(self, pos: tuple[int, int]) -> None:
        if self.keyboard.tap(pos) == "ok":
            self._find()

    def on_key(self, event: pygame.event.Event) -> None:
        if self.keyboard.key(event) == "ok":
            self._find()

    def _find(self) -> None:
        intent_id = self.keyboard.values["payment id"].strip()
        if not intent_id or self.busy:
            return
        self.call(lambda client: client.get_payment_intent(intent_id), self._found, waiting="Looking it up", staff=True)

    def _found(self, intent, error) -> None:
        if error is not None:
            self.app.fail(error, "find that payment")
        else:
            self.app.go("admin_refund", intent)

    def draw_body(self, surface: pygame.Surface) -> None:
        ui.draw_field(surface, "Payment id (pi_...)", self.keyboard.shown("payment id"), pygame.Rect(60, 150, 800, 80),
                      focused=True)
        self.keyboard.draw(surface)


def refundable(intent) -> bool:
    return intent.status.value in ("captured", "partially_refunded")


def describe_intent(intent) -> str:
    text = intent.status.value.replace("_", " ")
    if intent.refunded.minor:
        text += f", {intent.refunded} refunded"
    return text


class RefundScreen(AdminScreen):
    """A full refund in one tap, or a partial one typed on the keypad; a confirmation either way."""

    name = "admin_refund"
    title = "Refund"

    def __init__(self, app, intent) -> None:
        super().__init__(app)
        self.intent = intent
        self.keypad = ui.Keypad((700, 130), max_length=10, decimal=True)
        self.pending: Money | None = None
        self.key = _new_key()

    @property
    def remaining(self) -> Money:
        return self.intent.captured - self.intent.refunded

    def widgets(self) -> list:
        return [self.keypad] if self.pending is None else []

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        if self.pending is not None:
            return ui.button_row([(f"Refund {self.pending}", "confirm"), ("Back", "back")], height - 260, width,
                                 margin=120) + self.nav()
        full = ui.Button(f"Refund all {self.remaining}", pygame.Rect(40, 330, 560, 96), "full")
        full.enabled = refundable(self.intent)
        return [full] + self.nav()

    def on_action(self, action: str) -> None:
        if action == "full":
            self.pending = self.remaining
        elif action == "back":
            self.pending = None
        elif action == "confirm" and self.pending is not None and not self.busy:
            intent_id, amount, key = self.intent.intent_id, self.pending, self.key
            self.call(lambda client: client.refund_payment_intent(intent_id, amount, idempotency_key=key),
                      self._refunded, waiting="Refunding", staff=True)
        else:
            super().on_action(action)

    def on_tap(self, pos: tuple[int, int]) -> None:
        if self.pending is None and self.keypad.tap(pos) == "ok":
            self._partial()

    def on_key(self, event: pygame.event.Event) -> None:
        if self.pending is None and self.keypad.key(event) == "ok":
            self._partial()

    def _partial(self) -> None:
        try:
            amount = Money.parse(self.keypad.value, self.remaining.currency).require_positive()
        except MoneyError as exc:
            self.app.notify(str(exc), "warning")
            return
        if amount > self.remaining:
            self.app.notify(f"At most {self.remaining} is left to refund.", "warning")
            return
        self.pending = amount

    def _refunded(self, intent, error) -> None:
        if error is not None:
            self.app.fail(error, "refund")
            return
        self.app.notify(f"Refunded {self.pending}; the payment is now {describe_intent(intent)}.")
        self.intent, self.pending, self.key = intent, None, _new_key()
        self.keypad.value = ""

    def draw_body(self, surface: pygame.Surface) -> None:
        intent = self.intent
        ui.draw_text(surface, f"Payment {intent.intent_id}", (40, 110), size=ui.SMALL_PX, colour=ui.MUTED)
        ui.draw_text(surface, f"Paid {intent.captured} ({intent.payment_method})", (40, 160))
        ui.draw_text(surface, f"Refunded so far {intent.refunded}", (40, 210))
        ui.draw_text(surface, f"State: {describe_intent(intent)}", (40, 260), colour=ui.MUTED)
        if self.pending is not None:
            ui.draw_text(surface, f"Refund {self.pending} to {intent.payment_method}?", (40, 460), size=ui.TITLE_PX,
                         colour=ui.WARNING)
            return
        ui.draw_text(surface, "Or a part of it:", (40, 470))
        ui.draw_field(surface, f"Amount ({self.remaining.currency})", self.keypad.value, pygame.Rect(40, 540, 560, 80),
                      focused=True)
        self.keypad.draw(surface)


class StockScreen(AdminScreen):
    """This store's SKUs below their safety stock and its replenishment requests (the cloud's ``StockService``).

    A low SKU without a request can be raised by hand; an open request marked received (the stock
    goes up by its quantity) or cancelled. Each action carries an idempotency key made once per tap.
    """

    name = "admin_stock"
    title = "Stock and replenishment"
    ROWS = 6

    def __init__(self, app) -> None:
        super().__init__(app)
        self.low: list = []
        self.requests: list = []
        self.keys: dict[str, str] = {}

    def enter(self) -> None:
        store = self.app.store_id
        self.call(lambda client: client.list_low_stock(store), self._listed_low, waiting="Loading stock", staff=True)
        self.call(lambda client: client.list_replenishments(store, open_only=True), self._listed_requests,
                  waiting="Loading requests", staff=True)

    def _listed_low(self, items, error) -> None:
        if error is not None:
            self.app.fail(error, "load the store's low stock")
        else:
            self.low = items

    def _listed_requests(self, requests, error) -> None:
        if error is not None:
            self.app.fail(error, "load the replenishment requests")
        else:
            self.requests = requests

    def _key(self, action: str) -> str:
        return self.keys.setdefault(action, _new_key())

    def layout(self) -> list[ui.Button]:
        width, _height = self.app.surface.get_size()
        half = width // 2
        buttons = []
        for i, item in enumerate(self.low[:self.ROWS]):
            if not item.open_request_id:
                buttons.append(ui.Button("Raise", pygame.Rect(half - 170, 160 + i * 90, 140, 72), f"raise:{item.sku}",
                                         colour=ui.PANEL, text_size=ui.SMALL_PX))
        for i, request in enumerate(self.requests[:self.ROWS]):
            y = 160 + i * 90
            buttons.append(ui.Button("Received", pygame.Rect(width - 330, y, 160, 72), f"receive:{request.request_id}",
                                     text_size=ui.SMALL_PX))
            buttons.append(ui.Button("Cancel", pygame.Rect(width - 160, y, 130, 72), f"cancel:{request.request_id}",
                                     colour=ui.PANEL, text_size=ui.SMALL_PX))
        for button in buttons:
            button.enabled = not self.busy
        return buttons + self.nav()

    def on_action(self, action: str) -> None:
        verb, _, target = action.partition(":")
        store = self.app.store_id
        key = self._key(action)
        if verb == "raise":
            self.call(lambda client: client.raise_replenishment(store, target, idempotency_key=key),
                      lambda value, error: self._done(action, "raise that request", value, error),
                      waiting="Raising the request", staff=True)
        elif verb in ("receive", "cancel"):
            call = "receive_replenishment" if verb == "receive" else "cancel_replenishment"
            self.call(lambda client: getattr(client, call)(target, idempotency_key=key),
                      lambda value, error: self._done(action, f"{verb} that request", value, error),
                      waiting="Saving", staff=True)
        else:
            super().on_action(action)

    def _done(self, action: str, doing: str, value, error) -> None:
        if error is not None:
            self.app.fail(error, doing)
            return
        self.keys.pop(action, None)  # done: a next tap is a new action
        what = {"open": "raised", "received": "received: stock is up by", "cancelled": "cancelled"}[value.status]
        self.app.notify(f"Request for {value.sku} {what}" + (f" {value.quantity}" if value.status == "received" else "") + ".")
        self.enter()

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        half = width // 2
        ui.draw_text(surface, f"Below safety stock ({len(self.low)})", (40, 104), colour=ui.MUTED)
        ui.draw_text(surface, f"Open requests ({len(self.requests)})", (half + 20, 104), colour=ui.MUTED)
        for i, item in enumerate(self.low[:self.ROWS]):
            y = 160 + i * 90
            ui.draw_text(surface, ui.fit_text(f"{item.product_name} {item.colour} {item.size_label}", half - 240,
                                              ui.SMALL_PX), (40, y + 4), size=ui.SMALL_PX)
            state = f"on hand {item.on_hand} of {item.safety_stock}" + ("  \u00b7  requested" if item.open_request_id else "")
            ui.draw_text(surface, state, (40, y + 38), size=ui.SMALL_PX,
                         colour=ui.DANGER if item.on_hand == 0 else ui.WARNING)
        for i, request in enumerate(self.requests[:self.ROWS]):
            y = 160 + i * 90
            ui.draw_text(surface, ui.fit_text(request.sku, width - half - 380, ui.SMALL_PX), (half + 20, y + 4),
                         size=ui.SMALL_PX)
            ui.draw_text(surface, f"{request.quantity} asked ({request.reason}, {request.raised_by})", (half + 20, y + 38),
                         size=ui.SMALL_PX, colour=ui.MUTED)


class HealthScreen(AdminScreen):
    """How the kiosk is doing: the UI loop's frame rate, the depth cameras' fill rate in the last scan,
    the cloud's round-trip time, the outbox, and the work process."""

    name = "admin_health"
    title = "Kiosk health"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.rtt_ms: float | None = None
        self.rtt_error: str | None = None
        self.frames: list[float] = []

    def enter(self) -> None:
        started = time.perf_counter()

        def answered(_stores, error) -> None:
            if error is not None:
                self.rtt_error = str(error)
            else:
                self.rtt_ms = (time.perf_counter() - started) * 1000

        self.rtt_ms, self.rtt_error = None, None
        self.call(lambda client: client.list_stores(), answered, waiting="Measuring the cloud", staff=True)

    def update(self, now: float) -> None:
        self.frames = [t for t in self.frames if now - t <= 2.0] + [now]

    def layout(self) -> list[ui.Button]:
        width, _height = self.app.surface.get_size()
        return [ui.Button("Measure again", pygame.Rect(width - 360, 100, 320, 84), "again", colour=ui.PANEL)] + self.nav()

    def on_action(self, action: str) -> None:
        if action == "again":
            self.enter()
        else:
            super().on_action(action)

    def figures(self) -> list[tuple[str, str, bool]]:
        """(what, its value, whether it is healthy) for each line of the screen."""
        fps = (len(self.frames) - 1) / (self.frames[-1] - self.frames[0]) if len(self.frames) > 2 else 0.0
        fills = self.app.last_depth_fill
        fill = min(fills.values()) if fills else None
        worker = self.app.worker.state()
        rtt = ("no answer: " + self.rtt_error) if self.rtt_error else (
            "measuring" if self.rtt_ms is None else f"{self.rtt_ms:.0f} ms")
        pending = self.app.pending_mutations()
        return [
            ("Screen", f"{fps:.0f} frames a second", fps >= 20 or len(self.frames) <= 2),
            ("Mirror camera", self.app.config.mirror_camera or "not set up", True),
            ("Depth cameras (last scan)", "no scan since the kiosk started" if fill is None else
             f"{len(fills)} cameras, the emptiest {fill:.0%} filled",
             fill is None or fill >= 0.5),
            ("Cloud round trip", rtt, self.rtt_error is None and (self.rtt_ms or 0) < 500),
            ("Outbox", f"{pending} change(s) waiting to sync", pending == 0),
            ("Work process", worker, worker in ("ready", "working", "not started")),
        ]

    def draw_body(self, surface: pygame.Surface) -> None:
        for i, (what, value, healthy) in enumerate(self.figures()):
            y = 200 + i * 70
            ui.draw_text(surface, what, (40, y), colour=ui.MUTED)
            ui.draw_text(surface, value, (420, y), colour=ui.GOOD if healthy else ui.WARNING)
