"""Idempotency keys: the same key with the same parameters returns the same result, once.

A call first *claims* its key. The first claim wins and runs; a concurrent claim of
the same key (a double tap) waits for the winner and replays its stored outcome;
a later claim replays it at once; the same key with different parameters is refused.

Following the usual rule of payment APIs, an outcome is stored only once the call
changed something (an intent created, money moved, a decline booked, a PIN attempt
counted). A call that failed before that — bad input, a state that forbids the
action, a gateway that did not answer — *releases* its key, so a retry with the same
key runs again (and the service reconciles with the gateway first).
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnifit.idempotency import key_problem
from payments import errors
from payments.errors import IdempotencyKeyReusedError, IntentBusyError, InvalidPaymentRequestError, MoneyError
from payments.storage import payment_idempotency_keys as keys_table

_LOGGER = logging.getLogger(__name__)
MAX_STORED_KEY_LENGTH = 200  # the column: a caller's key plus the scope a server puts before it
_POLL_S = 0.02


class KeyStatus(str, enum.Enum):
    """Where a key's call stands; stable values stored in ``payment_idempotency_keys.status``."""

    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def check_key(key: str) -> str:
    """``key`` if it keeps :mod:`omnifit.idempotency`'s rule, up to the stored column's length."""
    problem = key_problem(key, max_length=MAX_STORED_KEY_LENGTH)
    if problem is not None:
        raise InvalidPaymentRequestError(f"idempotency key {problem}", field="idempotency_key")
    return key


def fingerprint(operation: str, params: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the operation and its parameters."""
    text = json.dumps({"operation": operation, **params}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class StoredOutcome:
    """What a finished call returned: an intent record on success, an error description on failure."""

    succeeded: bool
    payload: dict[str, Any]

    def raise_error(self) -> None:
        """Re-raise the stored error as the same :class:`MoneyError` subclass with the same details."""
        cls = _error_classes().get(self.payload["type"], MoneyError)
        raise cls(self.payload["message"], **self.payload["details"])


def _outcome(row: sa.Row[Any]) -> StoredOutcome:
    return StoredOutcome(row.status == KeyStatus.SUCCEEDED.value, json.loads(row.response))


def error_payload(exc: MoneyError) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": exc.message, "details": dict(exc.details)}


def _error_classes() -> dict[str, type[MoneyError]]:
    found: dict[str, type[MoneyError]] = {}
    pending = [errors.MoneyError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


class IdempotencyStore:
    """Keys in ``payment_idempotency_keys``. ``wait_s`` bounds how long a double tap waits for its twin."""

    def __init__(self, engine: Engine, *, clock_ms: Callable[[], int], lease_ms: int, wait_s: float) -> None:
        self.engine = engine
        self._clock_ms = clock_ms
        self._lease_ms = lease_ms
        self._wait_s = wait_s

    def claim(self, key: str, operation: str, intent_id: str | None, request_digest: str) -> StoredOutcome | None:
        """None when this call owns ``key`` now; the stored outcome when the key already finished."""
        deadline = time.monotonic() + self._wait_s
        while True:
            outcome = self._try_claim(key, operation, intent_id, request_digest)
            if outcome is None or isinstance(outcome, StoredOutcome):
                return outcome
            if time.monotonic() > deadline:
                raise IntentBusyError(
                    f"idempotency key {key!r} is still being processed by another request; retry shortly",
                    idempotency_key=key,
                )
            time.sleep(_POLL_S)

    def _try_claim(self, key: str, operation: str, intent_id: str | None, request_digest: str) -> StoredOutcome | None | bool:
        now = self._clock_ms()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(keys_table).where(keys_table.c.key == key)).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(keys_table.insert().values(
                            key=key, operation=operation, intent_id=intent_id, fingerprint=request_digest,
                            status=KeyStatus.IN_PROGRESS.value, response=None, lease_until_ms=now + self._lease_ms,
                            created_at_ms=now,
                        ))
                    return None
                except sa.exc.IntegrityError:
                    return True  # a twin inserted it first; look again
            if row.fingerprint != request_digest:
                raise IdempotencyKeyReusedError(
                    f"idempotency key {key!r} was first used for {row.operation} with other parameters; "
                    "use a new key for a new request",
                    idempotency_key=key,
                )
            if row.status != KeyStatus.IN_PROGRESS.value:
                return _outcome(row)
            if row.lease_until_ms < now:  # its owner died; take the key over
                conn.execute(keys_table.update().where(keys_table.c.key == key)
                             .values(lease_until_ms=now + self._lease_ms))
                return None
            return True

    def finish_in(
        self, conn: Connection, key: str, operation: str, intent_id: str | None, request_digest: str, outcome: StoredOutcome
    ) -> None:
        """Store ``outcome`` for ``key`` inside the caller's transaction (the one that made the change)."""
        conn.execute(keys_table.delete().where(keys_table.c.key == key))
        conn.execute(keys_table.insert().values(
            key=key, operation=operation, intent_id=intent_id, fingerprint=request_digest,
            status=(KeyStatus.SUCCEEDED if outcome.succeeded else KeyStatus.FAILED).value,
            response=json.dumps(outcome.payload, sort_keys=True), lease_until_ms=0, created_at_ms=self._clock_ms(),
        ))

    def stored(self, key: str) -> StoredOutcome | None:
        """The final outcome stored for ``key``, or None while it has none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(keys_table).where(keys_table.c.key == key)).first()
        if row is None or row.status == KeyStatus.IN_PROGRESS.value:
            return None
        return _outcome(row)

    def release(self, key: str) -> None:
        """Forget an unfinished claim so that a retry with the same key runs again."""
        with self.engine.begin() as conn:
            conn.execute(keys_table.delete().where(
                keys_table.c.key == key, keys_table.c.status == KeyStatus.IN_PROGRESS.value
            ))
