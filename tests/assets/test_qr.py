"""Every QR code we hand out reads back, including payloads whose default mask trips the decoder."""
from __future__ import annotations

import random

from assets.qr import qr_image, reads_back, scannable_qr

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def test_pairing_payloads_always_read_back():
    draw = random.Random(20261127)
    payloads = [f"omnifit://pair/{''.join(draw.choices(ALPHABET, k=8))}" for _ in range(150)]
    unreadable_by_default = [p for p in payloads if not reads_back(qr_image(p, 264), p)]
    assert all(reads_back(scannable_qr(p, 264), p) for p in payloads)
    # The fallback is not dead weight: with this seed some payloads do not scan with the encoder's own mask.
    assert unreadable_by_default


def test_a_wrong_payload_does_not_read_back():
    image = scannable_qr("omnifit://pair/ABCDEFGH", 264)
    assert not reads_back(image, "omnifit://pair/ABCDEFGX")
    assert reads_back(image, "omnifit://pair/ABCDEFGH")


def test_size_follows_the_request():
    small, large = qr_image("https://receipts.omnifit.example/r/1", 120), qr_image("https://receipts.omnifit.example/r/1", 480)
    assert small.size[0] < large.size[0] <= 480
