"""Payment-method tokens: what the gateway's vault hands us instead of a card number.

One rule for every place a token comes in (face enrollment, CreateIntent, the CLIs), so a
token that enrollment stores is one an intent can later be created with.
"""
from __future__ import annotations

import re

from payments.errors import PaymentTokenError

_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
_DIGIT_RUN = re.compile(r"\d[\d -]{11,}\d")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """Whether ``text`` holds 13-19 digits (spaces/dashes allowed between) that pass Luhn."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def check_payment_token(token: str) -> str:
    """``token`` if it is an opaque payment-method token; a card number (PAN) or junk is refused.

    Raises :class:`PaymentTokenError`, which is both an ``InvalidPaymentRequestError`` and an
    ``EnrollmentError``, naming the field ``payment_token``.
    """
    if not isinstance(token, str) or looks_like_card_number(token):
        raise PaymentTokenError(
            "payment token looks like a card number (a Luhn-valid 13-19 digit run); "
            "pass the gateway's opaque token (e.g. tok_...), never the card number",
            field="payment_token",
        )
    if not _TOKEN.match(token) or token.isdigit():
        raise PaymentTokenError(
            f"payment token must be 8-128 of [A-Za-z0-9_.:-] and not only digits; got {len(token)} characters",
            field="payment_token",
        )
    return token
