"""Payment PINs in the accounts layer: set with the account password, checked at step-up, locked when
wrong too often in a row.

Only a salted scrypt record (:class:`payments.stepup.PinRecord`) is stored. :meth:`PaymentPins.verify`
is the :class:`payments.stepup.PinVerifier` the server hands the payment service: besides the
payment service's own count per intent (which fails that intent), wrong PINs in a row are counted
per shopper across payments, so a new intent does not buy new guesses; after ``max_wrong_in_a_row``
the PIN is locked until the shopper sets it again (which needs their password).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from cloud.domain.auth import verify_password
from cloud.domain.lockout import PasswordGuard, shopper_account
from cloud.domain.types import Principal, PrincipalKind, now_ms
from cloud.errors import NotFound, PermissionDenied
from cloud.storage import Database, schema
from payments.errors import PaymentsError, PinLockedError
from payments.stepup import PinRecord, check_pin_format, hash_pin

_LOGGER = logging.getLogger(__name__)
MAX_WRONG_IN_A_ROW = 5
_pins, _shoppers = schema.payment_pins, schema.shoppers


@dataclass(frozen=True)
class PinStatus:
    shopper_id: str
    pin_set: bool
    updated_at_ms: int = 0


class PaymentPins:
    """Blocking PIN operations (run them on the worker pool)."""

    def __init__(self, database: Database, guard: PasswordGuard, *, max_wrong_in_a_row: int = MAX_WRONG_IN_A_ROW,
                 scrypt_n: int = 2**14) -> None:
        if max_wrong_in_a_row < 1:
            raise ValueError(f"max_wrong_in_a_row must be >= 1; got {max_wrong_in_a_row}")
        self.database = database
        self.guard = guard
        self.max_wrong_in_a_row = max_wrong_in_a_row
        self._scrypt_n = scrypt_n

    def set_pin(self, principal: Principal, password: str, pin: str, peer: str = "") -> PinStatus:
        """Set or change the calling shopper's PIN after checking their password again; unlocks it.

        The password check shares the sign-in lockout (the same account, whichever door guesses at it).
        """
        if principal.kind is not PrincipalKind.SHOPPER:
            raise PermissionDenied(f"SetPaymentPin: a shopper sets their own PIN, not a {principal.kind.value}")
        check_pin_format(pin)
        with self.database.read() as conn:
            stored = conn.execute(sa.select(_shoppers.c.password_hash)
                                  .where(_shoppers.c.shopper_id == principal.subject_id)).scalar()
        if stored is None:
            raise NotFound(f"shopper {principal.subject_id} does not exist", field="shopper_id")
        account = shopper_account(principal.subject_id)
        ticket = self.guard.check(account, peer)
        # The token is fine; the second proof is not: PERMISSION_DENIED, not UNAUTHENTICATED.
        if not verify_password(password, stored):
            self.guard.failed(account, peer, "SetPaymentPin", ticket)
            raise PermissionDenied("password is wrong; the PIN is unchanged", field="password")
        self.guard.succeeded(account)
        record, stamp = hash_pin(pin, n=self._scrypt_n).encode(), now_ms()
        with self.database.write() as conn:
            done = conn.execute(_pins.update().where(_pins.c.shopper_id == principal.subject_id).values(
                pin_record=record, failures=0, locked_at_ms=None, updated_at_ms=stamp))
            if done.rowcount == 0:
                conn.execute(_pins.insert().values(shopper_id=principal.subject_id, pin_record=record, failures=0,
                                                   locked_at_ms=None, updated_at_ms=stamp))
        _LOGGER.info("shopper %s set a payment PIN", principal.subject_id)
        return PinStatus(principal.subject_id, True, stamp)

    def status(self, shopper_id: str) -> PinStatus:
        with self.database.read() as conn:
            row = conn.execute(sa.select(_pins.c.updated_at_ms).where(_pins.c.shopper_id == shopper_id)).first()
        return PinStatus(shopper_id, row is not None, int(row.updated_at_ms) if row else 0)

    def verify(self, shopper_id: str, pin: str) -> bool:
        """Whether ``pin`` is the shopper's PIN; counts a wrong one. Raises PinLockedError when locked
        (already, or by this wrong PIN).

        False when the shopper has set no PIN (every PIN is wrong then).
        """
        with self.database.write() as conn:
            row = conn.execute(self.database.lock_for_update(
                sa.select(_pins.c.pin_record, _pins.c.failures, _pins.c.locked_at_ms)
                .where(_pins.c.shopper_id == shopper_id))).first()
            if row is None:
                return False
            if row.locked_at_ms is not None:
                raise PinLockedError(
                    f"the payment PIN of shopper {shopper_id} is locked after {row.failures} wrong PINs in a row; "
                    "the shopper sets it again in the app (with their password)", shopper_id=shopper_id)
            try:
                matches = PinRecord.decode(row.pin_record).matches(pin)
            except PaymentsError:
                _LOGGER.error("the stored PIN record of shopper %s does not decode", shopper_id)
                return False
            failures = 0 if matches else int(row.failures) + 1
            locked = failures >= self.max_wrong_in_a_row
            if failures != row.failures:
                conn.execute(_pins.update().where(_pins.c.shopper_id == shopper_id).values(
                    failures=failures, locked_at_ms=now_ms() if locked else None))
        if locked:
            _LOGGER.warning("payment PIN of shopper %s locked after %d wrong PINs in a row", shopper_id, failures)
            raise PinLockedError(
                f"wrong PIN {failures} times in a row: the payment PIN of shopper {shopper_id} is now locked; "
                "the shopper sets it again in the app (with their password)", shopper_id=shopper_id)
        return matches
