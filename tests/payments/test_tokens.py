"""Payment-method tokens: one rule for intents and face enrollment, and no card number ever."""
from __future__ import annotations

import pytest

from payments.errors import EnrollmentError, InvalidPaymentRequestError, PaymentTokenError
from payments.tokens import check_payment_token, looks_like_card_number, luhn_valid


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


@pytest.mark.parametrize("token", ["4111111111111111", "short", "tok with spaces", "x" * 129, "12345678"])
def test_bad_tokens_are_refused_as_a_bad_request_and_a_bad_enrollment(token: str) -> None:
    with pytest.raises(PaymentTokenError, match="payment token") as caught:
        check_payment_token(token)
    assert isinstance(caught.value, InvalidPaymentRequestError) and isinstance(caught.value, EnrollmentError)
    assert caught.value.field == "payment_token"


@pytest.mark.parametrize("token", ["tok_visa_approve", "pm_2026_11_27_0001", "a" * 128, "tok:1234-5678.x"])
def test_opaque_tokens_pass(token: str) -> None:
    assert check_payment_token(token) == token
