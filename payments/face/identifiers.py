"""Checks on the identifiers enrollment links a face to: shopper id and phone digits.

The payment-method token it links is checked by :func:`payments.tokens.check_payment_token`,
the rule payment intents use too.
"""
from __future__ import annotations

import re

from payments.errors import EnrollmentError

_SHOPPER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")


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
