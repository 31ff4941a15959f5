"""Retention: drop bookkeeping rows nobody can use any more, so the tables stop growing.

Idempotency keys are kept ``keep_days`` (a client replays its outbox within minutes
or hours; after that a retry would apply again). Pairing codes go a day after they
expired, failed-claim records once outside the rate-limit window. Carts and their
change log stay: they are the shoppers' data.
"""
from __future__ import annotations

from dataclasses import dataclass

from cloud.domain.pairing import FAILURE_WINDOW_MS
from cloud.domain.types import now_ms
from cloud.errors import InvalidArgument
from cloud.storage import Database, schema

DAY_MS = 24 * 3600 * 1000
DEFAULT_KEEP_DAYS = 7


@dataclass(frozen=True)
class PruneReport:
    idempotency_keys: int
    pairing_codes: int
    pairing_failures: int


def prune(database: Database, keep_days: int = DEFAULT_KEEP_DAYS) -> PruneReport:
    """Delete expired bookkeeping rows in one write transaction; how many of each went."""
    if keep_days < 1:
        raise InvalidArgument(f"keep_days must be at least 1; got {keep_days}", field="keep_days")
    now = now_ms()
    keys, codes, failures = schema.idempotency_keys, schema.pairing_codes, schema.pairing_failures
    with database.write() as conn:
        removed_keys = conn.execute(keys.delete().where(keys.c.created_at_ms < now - keep_days * DAY_MS)).rowcount
        removed_codes = conn.execute(codes.delete().where(codes.c.expires_at_ms < now - DAY_MS)).rowcount
        removed_failures = conn.execute(failures.delete().where(failures.c.at_ms < now - FAILURE_WINDOW_MS)).rowcount
    return PruneReport(removed_keys, removed_codes, removed_failures)
