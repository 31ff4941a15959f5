"""Step-up authentication at checkout: when a PIN is needed, and how a PIN is checked.

A PIN is asked for when the amount reaches the store's limit for its currency, when
the face match was close to the threshold, or when the issuer asks (a
``step_up_required`` decline). PINs are verified against a salted scrypt hash that
the account layer keeps (:class:`PinRecord`, encoded as one string); the payment
service only sees a :class:`PinVerifier`.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Mapping
from typing import Protocol

from payments.errors import InvalidPaymentRequestError
from payments.money import Money

_PIN_RE = re.compile(r"^\d{4,8}$")

# Confirm needs a PIN at or above these amounts (minor units); other currencies always need one.
DEFAULT_PIN_LIMITS_MINOR: dict[str, int] = {
    "CNY": 100_000, "HKD": 100_000, "JPY": 20_000, "KRW": 200_000, "USD": 15_000, "EUR": 15_000,
    "GBP": 12_000, "CHF": 15_000, "SGD": 20_000, "AUD": 20_000, "CAD": 20_000,
}


@dataclasses.dataclass(frozen=True)
class StepUpPolicy:
    """When confirm needs a PIN. ``pin_limits_minor`` maps currency to the limit in minor units."""

    pin_limits_minor: Mapping[str, int] = dataclasses.field(default_factory=lambda: dict(DEFAULT_PIN_LIMITS_MINOR))
    max_pin_attempts: int = 3

    def __post_init__(self) -> None:
        if self.max_pin_attempts < 1:
            raise ValueError(f"max_pin_attempts must be >= 1, got {self.max_pin_attempts}")
        bad = {currency: limit for currency, limit in self.pin_limits_minor.items() if limit < 0}
        if bad:
            raise ValueError(f"PIN limits must be >= 0 minor units, got {bad}")

    def requires_pin(self, amount: Money, *, face_match_close: bool) -> bool:
        """True when confirming ``amount`` needs a PIN (a close face match always does)."""
        limit = self.pin_limits_minor.get(amount.currency)
        return face_match_close or limit is None or amount.minor >= limit


class PinVerifier(Protocol):
    """Checks a shopper's PIN; True when it matches. Must not raise for a wrong PIN."""

    def __call__(self, shopper_id: str, pin: str) -> bool: ...


@dataclasses.dataclass(frozen=True)
class PinRecord:
    """A salted scrypt hash of a PIN with its cost parameters (n, r, p)."""

    salt: bytes
    digest: bytes
    n: int = 2**14
    r: int = 8
    p: int = 1

    def encode(self) -> str:
        """``scrypt$n$r$p$salt$digest`` (base64), the form the account layer stores."""
        b64 = base64.urlsafe_b64encode
        return f"scrypt${self.n}${self.r}${self.p}${b64(self.salt).decode()}${b64(self.digest).decode()}"

    @classmethod
    def decode(cls, text: str) -> PinRecord:
        try:
            scheme, n, r, p, salt, digest = text.split("$")
            if scheme != "scrypt":
                raise ValueError(f"scheme {scheme!r}")
            return cls(base64.urlsafe_b64decode(salt), base64.urlsafe_b64decode(digest), int(n), int(r), int(p))
        except ValueError as exc:
            raise InvalidPaymentRequestError(f"PIN record is not scrypt$n$r$p$salt$digest: {exc}",
                                             field="pin_record") from exc

    def matches(self, pin: str) -> bool:
        candidate = _scrypt(pin, self.salt, self.n, self.r, self.p)
        return hmac.compare_digest(candidate, self.digest)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def check_pin_format(pin: str) -> str:
    if not isinstance(pin, str) or not _PIN_RE.match(pin):
        raise InvalidPaymentRequestError("PIN must be 4 to 8 digits", field="pin")
    return pin


def hash_pin(pin: str, *, n: int = 2**14, salt: bytes | None = None) -> PinRecord:
    """A fresh :class:`PinRecord` for ``pin`` (4-8 digits) with a random 16-byte salt."""
    check_pin_format(pin)
    salt = salt if salt is not None else os.urandom(16)
    return PinRecord(salt=salt, digest=_scrypt(pin, salt, n, 8, 1), n=n)


class ScryptPinVerifier:
    """A :class:`PinVerifier` over the account layer's PIN records.

    ``records`` returns the encoded :class:`PinRecord` of a shopper, or None when the
    shopper has no PIN (then every PIN is wrong).
    """

    def __init__(self, records: Callable[[str], str | None]) -> None:
        self._records = records

    def __call__(self, shopper_id: str, pin: str) -> bool:
        encoded = self._records(shopper_id)
        if encoded is None or not isinstance(pin, str) or not _PIN_RE.match(pin):
            return False
        return PinRecord.decode(encoded).matches(pin)
