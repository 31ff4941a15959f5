"""Money: a ``Decimal`` amount in an ISO 4217 currency, held as integer minor units.

Amounts never pass through float. Each currency has its own exponent (CNY 2, JPY 0,
KWD 3); an amount with more decimal places than its currency allows is refused
rather than rounded, so ``599.001 CNY`` is an error, not ``599.00 CNY``.
"""
from __future__ import annotations

import dataclasses
import decimal
from decimal import Decimal

from payments.errors import CurrencyMismatchError, InvalidAmountError, UnknownCurrencyError

# ISO 4217 minor-unit exponents of the currencies the stores sell in.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2, "BHD": 3, "CAD": 2, "CHF": 2, "CNY": 2, "EUR": 2, "GBP": 2, "HKD": 2,
    "JPY": 0, "KRW": 0, "KWD": 3, "SGD": 2, "USD": 2,
}


def check_currency(currency: str) -> str:
    """``currency`` if it is an ISO 4217 code we know, else :class:`UnknownCurrencyError`."""
    if currency not in CURRENCY_EXPONENTS:
        raise UnknownCurrencyError(
            f"currency {currency!r} is not supported; expected one of {sorted(CURRENCY_EXPONENTS)}",
            field="currency", currency=currency,
        )
    return currency


@dataclasses.dataclass(frozen=True, order=False)
class Money:
    """An amount of one currency. ``minor`` is integer minor units (fen for CNY, yen for JPY)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InvalidAmountError(
                f"minor units must be an int, got {type(self.minor).__name__}", field="amount"
            )

    @classmethod
    def parse(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Money from a decimal amount in major units (``"599.00"``, ``Decimal("12.5")``, ``1200``).

        Floats are refused (they cannot hold 0.1 exactly); so are amounts with more
        decimal places than the currency's exponent, NaN and infinities.
        """
        exponent = CURRENCY_EXPONENTS[check_currency(currency)]
        if isinstance(amount, (float, bool)):
            raise InvalidAmountError(
                f"amount {amount!r} is a {type(amount).__name__}; expected a Decimal or a string", field="amount"
            )
        try:
            value = Decimal(amount)
        except (decimal.InvalidOperation, TypeError, ValueError) as exc:
            raise InvalidAmountError(f"amount {amount!r} is not a decimal number", field="amount") from exc
        if not value.is_finite():
            raise InvalidAmountError(f"amount {amount!r} is not a finite number", field="amount")
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise InvalidAmountError(
                f"amount {amount!r} has more than {exponent} decimal places, which {currency} allows",
                field="amount",
            )
        return cls(int(scaled), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    @property
    def amount(self) -> Decimal:
        """The amount in major units, with exactly the currency's number of decimal places."""
        return Decimal(self.minor).scaleb(-self.exponent)

    def require_positive(self, field: str = "amount") -> Money:
        """``self`` when it is more than zero, else :class:`InvalidAmountError` naming ``field``."""
        if self.minor <= 0:
            raise InvalidAmountError(f"{field} must be more than zero, got {self}", field=field)
        return self

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"currency mismatch: expected {self.currency}, got {other.currency}",
                expected=self.currency, got=other.currency,
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError(f"Money can only be multiplied by an int, got {type(quantity).__name__}")
        return Money(self.minor * quantity, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor >= other.minor

    def __str__(self) -> str:
        """For people: ``1,299.00 CNY`` (thousands grouped); :meth:`as_dict` keeps the plain ``1299.00``."""
        return f"{self.amount:,f} {self.currency}"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view: minor units, the decimal amount as a string, and the currency."""
        return {"minor": self.minor, "amount": f"{self.amount:f}", "currency": self.currency}
