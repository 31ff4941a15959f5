"""Checks on phone digits and shopper ids."""
from __future__ import annotations

import pytest

from payments.errors import EnrollmentError
from payments.face.identifiers import phone_last4


@pytest.mark.parametrize(
    ("number", "last4"), [("+44 20 7946 0958", "0958"), ("(555) 010-4477", "4477"), ("0612345678", "5678")]
)
def test_phone_last4(number: str, last4: str) -> None:
    assert phone_last4(number) == last4


@pytest.mark.parametrize("number", ["", "12345", "call me", "+1 555 0100 ext 7", "1" * 16])
def test_malformed_phone_numbers_are_refused(number: str) -> None:
    with pytest.raises(EnrollmentError, match="phone"):
        phone_last4(number)
