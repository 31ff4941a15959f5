"""QR codes that the shopper's phone and a plain scanner can read.

Simple decoders (OpenCV's among them) miss a few percent of valid codes, where the
data area happens to mimic a finder pattern; changing the data mask fixes that. So a
code is read back before it is handed out and drawn again with another mask if needed.
"""
from __future__ import annotations

import logging

import numpy as np
import qrcode
from PIL import Image

_LOGGER = logging.getLogger(__name__)
MASK_PATTERNS = range(8)


def qr_image(payload: str, size_px: int, *, mask_pattern: int | None = None) -> Image.Image:
    """``payload`` as a greyscale QR code about ``size_px`` square, with the standard 4-module quiet zone.

    ``mask_pattern`` 0-7 picks the data mask; None lets the encoder choose by its penalty rules.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=mask_pattern)
    code.add_data(payload)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(2, size_px // modules)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def reads_back(image: Image.Image, payload: str) -> bool:
    """Whether OpenCV's plain QR detector reads ``payload`` from ``image``."""
    import cv2

    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(np.asarray(image.convert("L")))
    return text == payload


def scannable_qr(payload: str, size_px: int) -> Image.Image:
    """A QR code of ``payload`` that reads back: the encoder's choice first, then each mask in turn."""
    first = qr_image(payload, size_px)
    if reads_back(first, payload):
        return first
    for mask in MASK_PATTERNS:
        image = qr_image(payload, size_px, mask_pattern=mask)
        if reads_back(image, payload):
            return image
    _LOGGER.warning("no mask makes the QR code of %r read back; handing out the encoder's choice", payload)
    return first
