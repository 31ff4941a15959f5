"""Checks on the identifiers enrollment links a face to: shopper id, phone digits, payment token.

A payment-method token is an opaque reference issued by the gateway; a card number
(PAN) must never reach face pay, so anything holding a Luhn-valid run of 13–19 digits
is refused.
"""
from __future__ import annotations

import re

from payments.errors import EnrollmentError

_SHOPPER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
_DIGIT_RUN = re.compile(r"\d[\d -]{11,}\d")


def check_shopper_id(shopper_id: str) -> str:
    if not isinstance(shopper_id, str) or not _SHOPPER_ID.match(shopper_id):
        raise EnrollmentError(
            f"shopper id must be 1-64 of [A-Za-z0-9_.:-]; got {shopper_id!r}", field="shopper_id"
        )
    return shopper_id


def bucket_digits(last4: str) -> str:
    """The second factor the shopper types at checkout: exactly 4 digits."""
    if not isinstance(last4, str) or not re.fullmatch(r"\d{4}", last4):
        raise EnrollmentError(f"phone digits must be exactly 4 digits (0-9); got {last4!r}", field="phone_last4")
    return last4


def phone_last4(phone_number: str) -> str:
    """The last 4 digits of a phone number written with digits, spaces, dashes, dots, brackets, '+'."""
    digits = re.sub(r"\D", "", phone_number or "")
    if not _PHONE.match(phone_number or "") or not 7 <= len(digits) <= 15:
        raise EnrollmentError(
            f"phone number must have 7-15 digits (E.164), optionally '+', spaces, dashes; got {phone_number!r}",
            field="phone",
        )
    return digits[-4:]


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
    if not isinstance(token, str) or looks_like_card_number(token):
        raise EnrollmentError(
            "payment token looks like a card number (a Luhn-valid 13-19 digit run); "
            "pass the gateway's opaque token, never the card number",
            field="payment_token",
        )
    if not _TOKEN.match(token):
        raise EnrollmentError(
            f"payment token must be 8-128 of [A-Za-z0-9_.:-]; got {len(token)} characters", field="payment_token"
        )
    return token
