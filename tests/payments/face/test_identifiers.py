"""Checks on phone digits, shopper ids and payment tokens (no card number ever)."""
from __future__ import annotations

import pytest

from payments.errors import EnrollmentError
from payments.face.identifiers import check_payment_token, looks_like_card_number, luhn_valid, phone_last4


@pytest.mark.parametrize(
    ("number", "last4"), [("+44 20 7946 0958", "0958"), ("(555) 010-4477", "4477"), ("0612345678", "5678")]
)
def test_phone_last4(number: str, last4: str) -> None:
    assert phone_last4(number) == last4


@pytest.mark.parametrize("number", ["", "12345", "call me", "+1 555 0100 ext 7", "1" * 16])
def test_malformed_phone_numbers_are_refused(number: str) -> None:
    with pytest.raises(EnrollmentError, match="phone"):
        phone_last4(number)


@pytest.mark.parametrize(
    ("text", "is_card"),
    [
        ("4111111111111111", True),
        ("4111-1111-1111-1111", True),
        ("5500 0000 0000 0004", True),
        ("378282246310005", True),  # Amex, 15 digits
        ("4111111111111112", False),  # fails Luhn
        ("tok_visa_approve", False),
        ("pm_2026_11_27_0001", False),
    ],
)
def test_card_numbers_are_recognised(text: str, is_card: bool) -> None:
    assert looks_like_card_number(text) is is_card


def test_luhn() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


@pytest.mark.parametrize("token", ["4111111111111111", "short", "tok with spaces", "x" * 129])
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(EnrollmentError, match="payment token"):
        check_payment_token(token)
