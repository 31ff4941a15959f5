"""Step-up rules and salted scrypt PIN records."""
from __future__ import annotations

import pytest

from payments.errors import InvalidPaymentRequestError
from payments.money import Money
from payments.stepup import PinRecord, ScryptPinVerifier, StepUpPolicy, hash_pin


@pytest.mark.parametrize(
    ("amount", "close", "needs_pin"),
    [(Money(99_999, "CNY"), False, False), (Money(100_000, "CNY"), False, True), (Money(100, "CNY"), True, True),
     (Money(19_999, "JPY"), False, False), (Money(500, "KWD"), False, True)],  # no KWD limit: always ask
)
def test_policy(amount: Money, close: bool, needs_pin: bool) -> None:
    policy = StepUpPolicy(pin_limits_minor={"CNY": 100_000, "JPY": 20_000})
    assert policy.requires_pin(amount, face_match_close=close) is needs_pin


@pytest.mark.parametrize("kwargs", [{"max_pin_attempts": 0}, {"pin_limits_minor": {"CNY": -1}}])
def test_policy_validates(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        StepUpPolicy(**kwargs)


def test_pin_records_round_trip_and_salt() -> None:
    first, second = hash_pin("4821", n=2**10), hash_pin("4821", n=2**10)
    assert first.salt != second.salt and first.digest != second.digest
    decoded = PinRecord.decode(first.encode())
    assert decoded == first and decoded.matches("4821") and not decoded.matches("4822")
    assert first.encode().startswith("scrypt$1024$8$1$")


def test_verifier_refuses_unknown_shoppers_and_malformed_pins() -> None:
    verify = ScryptPinVerifier({"s1": hash_pin("123456", n=2**10).encode()}.get)
    assert verify("s1", "123456")
    assert not verify("s1", "12345a") and not verify("s1", "") and not verify("s2", "123456")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", ""])
def test_hash_pin_refuses_bad_pins(pin: str) -> None:
    with pytest.raises(InvalidPaymentRequestError, match="4 to 8 digits"):
        hash_pin(pin)


@pytest.mark.parametrize("record", ["bcrypt$1$2$3$a$b", "scrypt$x$8$1$a$b", "nonsense"])
def test_bad_records_are_clear_errors(record: str) -> None:
    with pytest.raises(InvalidPaymentRequestError, match="PIN record"):
        PinRecord.decode(record)
