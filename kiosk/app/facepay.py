"""Face pay at the kiosk: phone digits → capture → quality gate → liveness → embedding → identify → pay.

The checks are ``payments.face.pipeline`` (the one the demo and the benchmarks run), in
the kiosk's work process, warmed up while the shopper types the phone digits. Only the
128-number embedding leaves the kiosk; the server does the match (``IdentifyFace``); the
images stay in memory for the few hundred milliseconds the checks take. The kiosk's face
camera is a depth camera; a kiosk without one uses the synthetic face camera
(``payments.face.pipeline.SyntheticFaceCamera``): a photo of the shopper placed on a 3D
face surface and rendered through the depth camera model with its sensor noise, the same
rendering the liveness test set uses.
"""
from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pygame

from cloud.client import FaceConsent
from kiosk.app import ui
from kiosk.app.checkout import PayingScreen, PaymentAttempt
from kiosk.app.errors import describe_error
from kiosk.app.screen import Screen
from payments.face.pipeline import SyntheticFaceCamera, warm_up


@dataclass(frozen=True)
class FaceScan:
    """What the kiosk sends: the embedding; and what it tells the shopper: liveness and timings."""

    embedding: tuple[float, ...]
    relief_mm: float | None
    seconds: float


def scan_face(camera: SyntheticFaceCamera, progress: Callable[[str, float], None]) -> FaceScan:
    """Capture and check a live face (in the work process); FaceQualityError / FaceError say what the
    shopper should change."""
    from payments.face.pipeline import shared_pipeline

    started = time.perf_counter()
    progress("Look at the camera", 0.1)
    frames = camera.capture()
    check = shared_pipeline().check(frames, progress)
    embedding = check.require_live()
    return FaceScan(tuple(float(x) for x in embedding), check.liveness.relief_mm, time.perf_counter() - started)


class FacePayScreen(Screen):
    """Last four phone digits on the keypad, then the face capture and the match."""

    name = "pay_face"
    title = "Pay with your face"

    def __init__(self, app) -> None:
        super().__init__(app)
        width, _ = app.surface.get_size()
        self.keypad: ui.Keypad | None = ui.Keypad((width // 2 - 164, 250), max_length=4)
        self.stage = ""
        self.failed: str | None = None
        self.digits = ""
        # The face models load in the work process while the shopper types the digits (nobody waits on it).
        app.worker.run_blocking(warm_up)

    def widgets(self) -> list:
        return [self.keypad] if self.keypad is not None else []

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = [ui.Button("Pay by card instead", pygame.Rect(40, height - 130, 420, 96), "card", colour=ui.PANEL)]
        if self.failed is not None:
            buttons.append(ui.Button("Try again", pygame.Rect(width - 340, height - 130, 300, 96), "again"))
        return buttons

    def on_action(self, action: str) -> None:
        if action == "card":
            from kiosk.app.checkout import CardScreen

            self.app.go(CardScreen(self.app))
        elif action == "again":
            self.failed = None
            width, _ = self.app.surface.get_size()
            self.keypad = ui.Keypad((width // 2 - 164, 250), max_length=4)

    def on_tap(self, pos: tuple[int, int]) -> None:
        if self.keypad is not None and self.keypad.tap(pos) == "ok":
            self._digits_entered()

    def on_key(self, event: pygame.event.Event) -> None:
        if self.keypad is not None and self.keypad.key(event) == "ok":
            self._digits_entered()

    def _digits_entered(self) -> None:
        if len(self.keypad.value) != 4:
            self.app.notify("Type the last 4 digits of your phone number.", "warning")
            return
        self.digits, self.keypad = self.keypad.value, None
        camera = SyntheticFaceCamera(self.app.config.face_photo, seed=self.app.session.scans)
        self.run_blocking(functools.partial(scan_face, camera), self._scanned, waiting="Look at the camera",
                          progress=self._progress)

    def _progress(self, stage: str, _fraction: float) -> None:
        self.stage = stage

    def _scanned(self, scan: FaceScan | None, error) -> None:
        if error is not None:
            self.failed = describe_error(error)
            self.app.fail(error, "check your face")
            return
        digits = self.digits
        self.stage = "Recognising"
        self.call(lambda client: client.identify_face(scan.embedding, digits), self._identified, waiting="Recognising")

    def _identified(self, match, error) -> None:
        if error is not None:
            self.failed = describe_error(error)
            self.app.fail(error, "recognise you")
            return
        if not match.matched:
            self.failed = (f"We could not match your face to an account with those digits "
                           f"({match.attempts_left} tries left). You can pay by card instead.")
            return
        self.app.go(PayingScreen(self.app, PaymentAttempt("face", face_match=match)))

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _ = surface.get_size()
        cart = self.app.session.cart
        if cart is not None:
            ui.draw_text(surface, f"{cart.subtotal}", (width - 40, 60), size=ui.TITLE_PX, anchor="topright")
        if self.failed is not None:
            ui.draw_paragraph(surface, self.failed, pygame.Rect(160, 220, width - 320, 240), centred=True)
        elif self.keypad is not None:
            ui.draw_text(surface, "Type the last 4 digits of your phone number", (width // 2, 150), anchor="center")
            ui.draw_text(surface, self.keypad.value or " ", (width // 2, 205), size=ui.TITLE_PX, anchor="center")
            self.keypad.draw(surface)
        else:
            ui.draw_text(surface, self.stage or "Look at the camera", (width // 2, 300), size=ui.TITLE_PX, anchor="center")



CONSENT_TEXT_VERSION = "face-pay-consent-v1"
CONSENT_PURPOSE = "face pay at Omnifit checkouts"
RETENTION_DAYS = 365
CONSENT_TEXT = (
    "Face pay keeps a numeric template of your face (never a photo), encrypted, linked to your Omnifit "
    f"account and the card you choose, for {CONSENT_PURPOSE}. It is deleted after {RETENTION_DAYS} days, "
    "or as soon as you ask: in the app, or at any kiosk through a member of staff. At checkout you type the "
    "last 4 digits of your phone number and look at the camera; above a limit you also enter your PIN."
)


class FaceEnrollScreen(Screen):
    """Consented enrollment of the shopper who owns the cart: consent → card → live capture → enroll."""

    name = "face_enroll"
    title = "Set up face pay"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.step = "consent"  # consent → card → capture → done
        self.agreed_at_ms = 0
        self.payment_token = ""
        self.key = f"kiosk-enroll-{uuid.uuid4().hex}"
        self.result = ""

    def layout(self) -> list[ui.Button]:
        from kiosk.app.checkout import SANDBOX_CARDS

        width, height = self.app.surface.get_size()
        back = ui.Button("Back", pygame.Rect(40, height - 130, 300, 96), "back", colour=ui.PANEL)
        if self.step == "consent":
            return [back, ui.Button("I agree", pygame.Rect(width - 340, height - 130, 300, 96), "agree")]
        if self.step == "card":
            approving = [(label, token) for label, token in SANDBOX_CARDS if token.endswith("_approve")]
            return [back] + [ui.Button(label, pygame.Rect(40 + i * ((width - 100) // 2 + 20), 300, (width - 100) // 2, 100),
                                       f"card:{token}", colour=ui.PANEL) for i, (label, token) in enumerate(approving)]
        if self.step == "done" or (self.step == "capture" and not self.busy):
            label = "Back to paying" if self.step == "done" else "Try again"
            return [back, ui.Button(label, pygame.Rect(width - 340, height - 130, 300, 96),
                                    "back" if self.step == "done" else "again")]
        return []

    def on_action(self, action: str) -> None:
        if action == "back":
            from kiosk.app.checkout import CheckoutScreen

            self.app.go(CheckoutScreen(self.app))
        elif action == "agree":
            self.agreed_at_ms = int(time.time() * 1000)
            self.step = "card"
        elif action.startswith("card:"):
            self.payment_token = action.split(":", 1)[1]
            self._capture()
        elif action == "again":
            self._capture()

    def _capture(self) -> None:
        self.step, self.result = "capture", ""
        camera = SyntheticFaceCamera(self.app.config.face_photo, seed=self.app.session.scans)
        self.run_blocking(functools.partial(scan_face, camera), self._captured, waiting="Look at the camera",
                          progress=self._progress)

    def _progress(self, stage: str, _fraction: float) -> None:
        self.result = stage

    def _captured(self, scan: FaceScan | None, error) -> None:
        if error is not None:
            self.result = describe_error(error)
            self.app.fail(error, "capture your face")
            return
        cart = self.app.session.cart
        consent = FaceConsent(CONSENT_PURPOSE, RETENTION_DAYS, self.agreed_at_ms, CONSENT_TEXT_VERSION)
        token, key = self.payment_token, self.key
        self.call(lambda client: client.enroll_face(scan.embedding, consent=consent, payment_token=token,
                                                    cart_id=cart.cart_id, idempotency_key=key),
                  self._enrolled, waiting="Saving your face pay")

    def _enrolled(self, enrollment, error) -> None:
        if error is not None:
            self.result = describe_error(error)
            self.app.fail(error, "set up face pay")
            return
        self.step = "done"
        self.result = (f"Face pay is set up with {enrollment.payment_method}. At checkout type the last 4 digits "
                       f"of your phone ({enrollment.phone_hint}) and look at the camera.")

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _ = surface.get_size()
        if self.step == "consent":
            ui.draw_paragraph(surface, CONSENT_TEXT, pygame.Rect(80, 130, width - 160, 420))
        elif self.step == "card":
            ui.draw_text(surface, "Hold the card face pay should charge to the reader", (40, 140))
        else:
            ui.draw_paragraph(surface, self.result or "Look at the camera, then turn your head slowly.",
                              pygame.Rect(120, 200, width - 240, 300), centred=True)
