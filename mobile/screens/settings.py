"""Me: language, my store, my account, the payment PIN and face pay set-up, and the way to My data.

Face pay from the phone: the consent text first and *I agree*, then a selfie (a picture
file stands in for the front camera) through the same quality gate as the kiosk; only
the 128-number embedding and the recorded consent leave the phone, never the picture.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from cloud.client import FaceConsent, FaceEnrollment, PaymentPinStatus, SyncClient
from mobile.i18n import tr
from mobile.screens.base import AppScreen, build
from mobile.screens.checkout import card_label
from omnifit.i18n import LANGUAGE_NAMES, LANGUAGES
from payments.gateways.sandbox import TEST_CARDS

FACE_PAY_RETENTION_DAYS = 365
CONSENT_VERSION = "face-pay-consent-v1"


def selfie_embedding(path: Path) -> list[float]:
    """The quality gate and the embedding of a selfie, on the phone (raises FaceQualityError for a bad picture)."""
    from payments.face.capture import capture_face, compute_embedding, load_image

    return [float(value) for value in compute_embedding(capture_face(load_image(path)))]


def quality_hint(reason: str) -> str:
    """What to do about a selfie the quality gate refused (``payments.errors.FaceQualityReason`` values)."""
    return {
        "no_face": tr._("No face found in that picture. Take a selfie with your whole face in view."),
        "multiple_faces": tr._("More than one face is in that picture. Take a selfie on your own."),
        "face_too_small": tr._("Your face is too small in that picture. Hold the phone closer."),
        "face_cut_off": tr._("Part of your face is cut off. Centre your face in the picture."),
        "pose": tr._("Look straight at the camera."),
        "blur": tr._("That picture is blurred. Hold the phone still."),
        "underexposed": tr._("That picture is too dark. Find more light."),
        "overexposed": tr._("That picture is too bright. Move out of direct light."),
    }.get(reason, tr._("That selfie cannot be used. Please take another."))


class SettingsScreen(AppScreen):
    agreed = BooleanProperty(False)
    face_status = StringProperty("")
    pin_status = StringProperty("")
    face_card = StringProperty("tok_visa_approve")

    def on_kv_post(self, base_widget: Any) -> None:
        self.app.bind(lang=self._draw, stores=self._draw, store_id=self._draw)

    def show(self, **params: Any) -> None:
        super().show()
        self.agreed = False
        self.face_status = ""
        self.pin_status = ""
        self._draw()

    def _draw(self, *_args: Any) -> None:
        if "languages" not in self.ids:
            return
        boxes = self.ids
        boxes.languages.clear_widgets()
        for lang in LANGUAGES:
            chip = build("Chip", text=LANGUAGE_NAMES[lang], group=f"lang-{id(self)}", allow_no_selection=False,
                                state="down" if lang == self.app.lang else "normal")
            chip.bind(on_release=lambda _chip, lang=lang: self.app.switch_language(lang))
            boxes.languages.add_widget(chip)
        boxes.stores.clear_widgets()
        for store in self.app.stores:
            chip = build("Chip", text=store.name, group=f"store-{id(self)}", allow_no_selection=False,
                                state="down" if store.store_id == self.app.store_id else "normal")
            chip.bind(on_release=lambda _chip, store_id=store.store_id: self.app.choose_store(store_id))
            boxes.stores.add_widget(chip)
        boxes.face_cards.clear_widgets()
        for token in TEST_CARDS:
            if not token.endswith("_approve"):
                continue
            chip = build("Chip", text=card_label(token), group=f"face-card-{id(self)}", allow_no_selection=False,
                                state="down" if token == self.face_card else "normal")
            chip.bind(on_release=lambda _chip, token=token: setattr(self, "face_card", token))
            boxes.face_cards.add_widget(chip)

    def set_pin(self, pin: str, password: str) -> None:
        if not (pin.isdigit() and 4 <= len(pin) <= 8):
            self.error = tr._("Enter your payment PIN (4 to 8 digits).")
            return
        if not password:
            self.error = tr._("Enter your password to set the PIN.")
            return
        self.working, self.error = True, ""
        self.app.call(lambda client: client.set_payment_pin(pin, password=password), done=self._pin_set, failed=self.fail)

    def _pin_set(self, status: PaymentPinStatus) -> None:
        self.working = False
        self.pin_status = tr._("Your payment PIN is set.") if status.pin_set else ""

    def set_up_face_pay(self, selfie: str) -> None:
        if not self.agreed:
            self.error = tr._("Read the consent and tap I agree first.")
            return
        path = Path(selfie.strip()).expanduser()
        if not selfie.strip() or not path.is_file():
            self.error = tr._("Choose a selfie picture.")
            return
        self.working, self.error = True, ""
        token, agreed_at = self.face_card, int(time.time() * 1000)

        async def enroll(client: SyncClient) -> FaceEnrollment:
            embedding = await self.app.run_blocking(selfie_embedding, path)
            consent = FaceConsent(tr._("Face pay at Omnifit checkouts"), retention_days=FACE_PAY_RETENTION_DAYS,
                                  granted_at_ms=agreed_at, text_version=CONSENT_VERSION)
            return await client.enroll_face(embedding, consent=consent, payment_token=token)

        self.app.call(enroll, done=self._enrolled, failed=self._refused)

    def _refused(self, error: Exception) -> None:
        from payments.errors import FaceQualityError

        if isinstance(error, FaceQualityError):
            self.working, self.error = False, quality_hint(getattr(getattr(error, "reason", None), "value", ""))
        else:
            self.fail(error)

    def _enrolled(self, enrollment: FaceEnrollment) -> None:
        self.working, self.agreed = False, False
        self.face_status = tr._("Face pay is on with {card}. At a kiosk checkout, type {digits} when asked.",
                                card=enrollment.payment_method, digits=enrollment.phone_hint)
