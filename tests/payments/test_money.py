"""Money: decimal amounts to integer minor units per currency exponent, never float."""
from __future__ import annotations

from decimal import Decimal

import pytest

from payments.errors import CurrencyMismatchError, InvalidAmountError, UnknownCurrencyError
from payments.money import Money


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("599.00", "CNY", 59900), ("599", "CNY", 59900), ("0.01", "CNY", 1), ("1200", "JPY", 1200),
     ("1.234", "KWD", 1234), (Decimal("12.5"), "USD", 1250), (7, "JPY", 7), ("-3.20", "EUR", -320)],
)
def test_parse_to_minor_units(amount: object, currency: str, minor: int) -> None:
    money = Money.parse(amount, currency)  # type: ignore[arg-type]
    assert money == Money(minor, currency)
    assert Money.parse(money.amount, currency) == money


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [("599.001", "CNY", InvalidAmountError), ("1.5", "JPY", InvalidAmountError), (0.1, "USD", InvalidAmountError),
     ("ten", "CNY", InvalidAmountError), ("NaN", "CNY", InvalidAmountError), ("Infinity", "CNY", InvalidAmountError),
     ("1.00", "XYZ", UnknownCurrencyError), ("1.00", "cny", UnknownCurrencyError)],
)
def test_parse_refuses(amount: object, currency: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        Money.parse(amount, currency)  # type: ignore[arg-type]
    assert str(amount).lower() in str(info.value).lower() or currency in str(info.value)


@pytest.mark.parametrize("typed", ["", ".", "0", "-3", "1.005", "12.3.4"])
def test_a_typed_refund_amount_must_be_a_positive_amount_of_the_currency(typed: str) -> None:
    with pytest.raises(InvalidAmountError):
        Money.parse(typed, "CNY").require_positive()


def test_amount_keeps_the_currency_decimals() -> None:
    assert str(Money(59900, "CNY")) == "599.00 CNY"
    assert str(Money(1200, "JPY")) == "1,200 JPY"
    assert str(Money(-123456789, "CNY")) == "-1,234,567.89 CNY"
    assert Money(1234, "KWD").as_dict() == {"minor": 1234, "amount": "1.234", "currency": "KWD"}


def test_arithmetic_and_comparison_need_one_currency() -> None:
    a, b = Money(500, "CNY"), Money(250, "CNY")
    assert a + b == Money(750, "CNY") and a - b == Money(250, "CNY") and -a == Money(-500, "CNY")
    assert b * 3 == Money(750, "CNY") and b < a and a >= b
    with pytest.raises(CurrencyMismatchError, match="expected CNY, got USD"):
        _ = a + Money(1, "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = a < Money(1, "USD")


@pytest.mark.parametrize("minor", [0, -1])
def test_require_positive(minor: int) -> None:
    with pytest.raises(InvalidAmountError, match="more than zero"):
        Money(minor, "CNY").require_positive()


def test_minor_units_must_be_int() -> None:
    with pytest.raises(InvalidAmountError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
