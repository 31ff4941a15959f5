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
from kiosk.app import text, ui
from kiosk.app.checkout import SANDBOX_CARDS, PaymentAttempt
from kiosk.app.errors import describe_error
from kiosk.app.screen import Screen
from kiosk.app.text import N_, _
from payments.face.pipeline import SyntheticFaceCamera, warm_up

LOOK = N_("Look at the camera")
RECOGNISING = N_("Recognising")
# What the face pipeline reports while it runs (``payments.face.pipeline``: its progress stages and
# CHALLENGE_PROMPTS), marked here so the catalog has them; the screen translates the stage it shows.
STAGES = (LOOK, N_("Checking the picture"), N_("Turn your head slowly"), N_("Blink once"), RECOGNISING)


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
    progress(LOOK, 0.1)
    frames = camera.capture()
    check = shared_pipeline().check(frames, progress)
    embedding = check.require_live()
    return FaceScan(tuple(float(x) for x in embedding), check.liveness.relief_mm, time.perf_counter() - started)


class FacePayScreen(Screen):
    """Last four phone digits on the keypad, then the face capture and the match."""

    name = "pay_face"
    title = N_("Pay with your face")

    def __init__(self, app) -> None:
        super().__init__(app)
        self.keypad: ui.Keypad | None = self._keypad()
        self.stage = ""  # English, as the pipeline reports it; translated when drawn
        self.failed: str | None = None  # in the shopper's words, translated when it happened
        self.digits = ""
        # The face models load in the work process while the shopper types the digits (nobody waits on it).
        app.worker.run_blocking(warm_up)

    def _keypad(self) -> ui.Keypad:
        width, _height = self.app.surface.get_size()
        return ui.Keypad((width // 2 - 164, 250), max_length=4)

    def widgets(self) -> list:
        return [self.keypad] if self.keypad is not None else []

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = [ui.Button(_("Pay by card instead"), pygame.Rect(40, height - 130, 420, 96), "card", colour=ui.PANEL)]
        if self.failed is not None:
            buttons.append(ui.Button(_("Try again"), pygame.Rect(width - 340, height - 130, 300, 96), "again"))
        return buttons

    def on_action(self, action: str) -> None:
        if action == "card":
            self.app.go("pay_card")
        elif action == "again":
            self.failed = None
            self.keypad = self._keypad()

    def on_tap(self, pos: tuple[int, int]) -> None:
        if self.keypad is not None and self.keypad.tap(pos) == "ok":
            self._digits_entered()

    def on_key(self, event: pygame.event.Event) -> None:
        if self.keypad is not None and self.keypad.key(event) == "ok":
            self._digits_entered()

    def _digits_entered(self) -> None:
        if self.keypad is None or len(self.keypad.value) != 4:
            self.app.notify(_("Type the last 4 digits of your phone number."), "warning")
            return
        self.digits, self.keypad = self.keypad.value, None
        camera = SyntheticFaceCamera(self.app.config.face_photo, seed=self.app.session.scans)
        self.run_blocking(functools.partial(scan_face, camera), self._scanned, waiting=LOOK, progress=self._progress)

    def _progress(self, stage: str, _fraction: float) -> None:
        self.stage = stage

    def _scanned(self, scan: FaceScan | None, error) -> None:
        if error is not None:
            self.failed = describe_error(error)
            self.app.fail(error, _("check your face"))
            return
        digits = self.digits
        self.stage = RECOGNISING
        self.call(lambda client: client.identify_face(scan.embedding, digits), self._identified, waiting=RECOGNISING)

    def _identified(self, match, error) -> None:
        if error is not None:
            self.failed = describe_error(error)
            self.app.fail(error, _("recognise you"))
            return
        if not match.matched:
            self.failed = _("We could not match your face to an account with those digits ({tries} tries left). "
                            "You can pay by card instead.", tries=match.attempts_left)
            return
        self.app.go("paying", PaymentAttempt("face", face_match=match))

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        cart = self.app.session.cart
        if cart is not None:
            ui.draw_text(surface, text.money(cart.subtotal), (width // 2, 100), size=ui.TITLE_PX, anchor="center")
        if self.failed is not None:
            ui.draw_paragraph(surface, self.failed, pygame.Rect(160, 220, width - 320, 240), centred=True)
        elif self.keypad is not None:
            ui.draw_text(surface, _("Type the last 4 digits of your phone number"), (width // 2, 160), anchor="center")
            ui.draw_text(surface, self.keypad.value or " ", (width // 2, 210), size=ui.TITLE_PX, anchor="center")
            self.keypad.draw(surface)
        else:
            ui.draw_text(surface, _(self.stage or LOOK), (width // 2, 300), size=ui.TITLE_PX, anchor="center")


CONSENT_TEXT_VERSION = "face-pay-consent-v1"
# The purpose as the cloud records it with the consent (English, the record's language).
CONSENT_PURPOSE = "face pay at Omnifit checkouts"
RETENTION_DAYS = 365
# The text the shopper agrees to, version CONSENT_TEXT_VERSION, in their language.
CONSENT_TEXT = N_(
    "Face pay keeps a numeric template of your face (never a photo), encrypted, linked to your Omnifit "
    "account and the card you choose, for face pay at Omnifit checkouts. It is deleted after {days} days, "
    "or as soon as you ask: in the app, or at any kiosk through a member of staff. At checkout you type the "
    "last 4 digits of your phone number and look at the camera; above a limit you also enter your PIN."
)


class FaceEnrollScreen(Screen):
    """Consented enrollment of the shopper who owns the cart: consent → card → live capture → enroll.

    The card is read as on the card screen: a store's reader types the network's vault token and
    Enter; a ``--dev`` kiosk shows the sandbox network's approving test cards instead.
    """

    name = "face_enroll"
    title = N_("Set up face pay")

    def __init__(self, app) -> None:
        super().__init__(app)
        self.step = "consent"  # consent → card → capture → done
        self.agreed_at_ms = 0
        self.payment_token = ""
        self.read = ""
        self.key = f"kiosk-enroll-{uuid.uuid4().hex}"
        self.result = ""  # the pipeline's stage (English, translated when drawn) or a translated outcome

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        back = ui.Button(_("Back"), pygame.Rect(40, height - 130, 300, 96), "back", colour=ui.PANEL)
        if self.step == "consent":
            return [back, ui.Button(_("I agree"), pygame.Rect(width - 340, height - 130, 300, 96), "agree")]
        if self.step == "card":
            if not self.app.config.dev:
                return [back]
            approving = [(label, token) for label, token in SANDBOX_CARDS if token.endswith("_approve")]
            return [back] + [ui.Button(label, pygame.Rect(40 + i * ((width - 100) // 2 + 20), 300, (width - 100) // 2, 100),
                                       f"card:{token}", colour=ui.PANEL) for i, (label, token) in enumerate(approving)]
        if self.step == "done" or (self.step == "capture" and not self.busy):
            label = _("Back to paying") if self.step == "done" else _("Try again")
            return [back, ui.Button(label, pygame.Rect(width - 340, height - 130, 300, 96),
                                    "back" if self.step == "done" else "again")]
        return []

    def on_action(self, action: str) -> None:
        if action == "back":
            self.app.go("checkout")
        elif action == "agree":
            self.agreed_at_ms = int(time.time() * 1000)
            self.step = "card"
        elif action.startswith("card:"):
            self.payment_token = action.split(":", 1)[1]
            self._capture()
        elif action == "again":
            self._capture()

    def on_key(self, event: pygame.event.Event) -> None:
        if self.step != "card":
            return
        if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            token, self.read = self.read.strip(), ""
            if token:
                self.on_action(f"card:{token}")
        elif event.unicode and event.unicode.isprintable() and len(self.read) < 128:
            self.read += event.unicode

    def _capture(self) -> None:
        self.step, self.result = "capture", ""
        camera = SyntheticFaceCamera(self.app.config.face_photo, seed=self.app.session.scans)
        self.run_blocking(functools.partial(scan_face, camera), self._captured, waiting=LOOK, progress=self._progress)

    def _progress(self, stage: str, _fraction: float) -> None:
        self.result = stage

    def _captured(self, scan: FaceScan | None, error) -> None:
        if error is not None:
            self.result = describe_error(error)
            self.app.fail(error, _("capture your face"))
            return
        cart = self.app.session.cart
        consent = FaceConsent(CONSENT_PURPOSE, RETENTION_DAYS, self.agreed_at_ms, CONSENT_TEXT_VERSION)
        token, key = self.payment_token, self.key
        self.call(lambda client: client.enroll_face(scan.embedding, consent=consent, payment_token=token,
                                                    cart_id=cart.cart_id, idempotency_key=key),
                  self._enrolled, waiting=N_("Saving your face pay"))

    def _enrolled(self, enrollment, error) -> None:
        if error is not None:
            self.result = describe_error(error)
            self.app.fail(error, _("set up face pay"))
            return
        self.step = "done"
        self.result = _("Face pay is set up with {method}. At checkout type the last 4 digits of your phone "
                        "({phone}) and look at the camera.", method=enrollment.payment_method,
                        phone=enrollment.phone_hint)

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        if self.step == "consent":
            ui.draw_paragraph(surface, _(CONSENT_TEXT, days=RETENTION_DAYS), pygame.Rect(80, 130, width - 160, 420))
        elif self.step == "card":
            ui.draw_paragraph(surface, _("Hold the card face pay should charge to the reader"),
                              pygame.Rect(40, 130, width - 80, 120))
            if self.app.config.dev:
                ui.draw_text(surface, _("Development kiosk: sandbox test cards"), (40, 250), size=ui.SMALL_PX,
                             colour=ui.WARNING)
        else:
            ui.draw_paragraph(surface, _(self.result) if self.result else _("Look at the camera, then turn your head slowly."),
                              pygame.Rect(120, 200, width - 240, 300), centred=True)
