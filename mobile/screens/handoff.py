"""Continue from a kiosk: the kiosk's pairing QR (a camera frame or a picture) or its typed code.

Frames are decoded with OpenCV's QR detector on a worker thread. A claimed code moves
the kiosk's cart and scan into the account; the app shows that cart at once.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cloud.client import Cart, ClientError, FitProfile
from mobile.i18n import tr
from mobile.screens.base import AppScreen
from omnifit.errors import ErrorCode, OmnifitError


class NoQrCode(OmnifitError):
    """The picture holds no readable QR code."""

    code = ErrorCode.INVALID_ARGUMENT


def decode_qr(image: np.ndarray) -> str:
    """The text of the QR code in ``image`` (H, W) or (H, W, 3) uint8; NoQrCode when there is none."""
    import cv2

    detector = cv2.QRCodeDetector()
    text, points, _ = detector.detectAndDecode(image)
    if not text and image.ndim == 3:  # a dim or colour-cast frame: try its grey levels stretched
        grey = cv2.normalize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), None, 0, 255, cv2.NORM_MINMAX)
        text, points, _ = detector.detectAndDecode(grey)
    if not text:
        raise NoQrCode("no QR code could be read in the picture")
    return str(text)


def decode_qr_file(path: Path) -> str:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise NoQrCode(f"{path} is not a picture this app can open")
    return decode_qr(image)


class HandoffScreen(AppScreen):
    def claim_picture(self, path_text: str) -> None:
        path = Path(path_text.strip()).expanduser()
        if not path_text.strip():
            self.error = tr._("Choose the picture of the kiosk's QR code.")
            return
        self.working = True

        async def read_and_claim(client: Any) -> tuple[Cart, FitProfile]:
            try:
                payload = await self.app.run_blocking(decode_qr_file, path)
            except NoQrCode as exc:
                raise NoQrCode(tr._("No QR code found in that picture. Hold the phone closer to the kiosk's screen."))\
                    from exc
            return await client.claim_pairing_code(payload)

        self.app.call(read_and_claim, done=self._claimed, failed=self.fail)

    def claim_code(self, code: str) -> None:
        code = code.strip().replace(" ", "").replace("-", "")
        if len(code) != 8:
            self.error = tr._("The code on the kiosk has 8 letters and digits.")
            return
        self.working = True
        self.app.call(lambda client: client.claim_pairing_code(code), done=self._claimed, failed=self.fail)

    def fail(self, error: Exception) -> None:
        """A refused code says what to do next in the shopper's words; other errors as usual."""
        if isinstance(error, ClientError) and error.code is ErrorCode.NOT_FOUND:
            self.working, self.error = False, tr._("That code is not known. Check it on the kiosk's screen.")
        elif isinstance(error, ClientError) and error.code is ErrorCode.FAILED_PRECONDITION and "used" in str(error):
            self.working, self.error = False, tr._("This code was already used. Ask the kiosk for a new one.")
        elif isinstance(error, ClientError) and error.code is ErrorCode.FAILED_PRECONDITION and "expired" in str(error):
            self.working, self.error = False, tr._("This code has expired. Ask the kiosk for a new one.")
        else:
            super().fail(error)

    def _claimed(self, claimed: tuple[Cart, FitProfile]) -> None:
        self.working = False
        cart, profile = claimed
        self.app.adopt_cart(cart, profile)
        self.app.go("cart")
        self.app.say(tr._("Your kiosk cart and scan are here."))
