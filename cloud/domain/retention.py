"""Retention: drop bookkeeping rows nobody can use any more, so the tables stop growing.

Idempotency keys are kept ``keep_days`` (a client replays its outbox within minutes
or hours; after that a retry would apply again). Pairing codes go a day after they
expired, failed-claim records once outside the rate-limit window. Carts stay: they are
the shoppers' data.

A cart's change log (``cart_changes``, one full snapshot per version) only serves
``WatchCart``: a live watcher is at most a few seconds behind, and a client that comes
back resumes after the last version it saw. ``compact_changes`` drops the versions older
than the kept window except each cart's newest, which is the cart itself (checked-out
and idle carts keep exactly that one). A watch resuming from a version that is gone gets
a fresh SNAPSHOT of the cart instead of the changes it missed, so nothing is lost, only
the steps between.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from cloud.domain.pairing import FAILURE_WINDOW_MS
from cloud.domain.types import now_ms
from cloud.errors import InvalidArgument
from cloud.storage import Database, schema

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000
DEFAULT_KEEP_DAYS = 7
DEFAULT_CHANGE_WINDOW_HOURS = 24.0
COMPACT_BATCH_CARTS = 500  # carts per write transaction, so a large backlog never holds locks for long

_changes, _carts = schema.cart_changes, schema.carts
# Per cart, the newest version that may go: older than the window and not the cart's current version.
_COMPACTABLE = (
    sa.select(_changes.c.cart_id, sa.func.max(_changes.c.version).label("upto"))
    .join_from(_changes, _carts, _changes.c.cart_id == _carts.c.cart_id)
    .where(_changes.c.cart_id > sa.bindparam("after_cart"), _changes.c.created_at_ms < sa.bindparam("cutoff"),
           _changes.c.version < _carts.c.version)
    .group_by(_changes.c.cart_id)
    .order_by(_changes.c.cart_id)
    .limit(sa.bindparam("batch"))
)
_DELETE_UPTO = _changes.delete().where(
    _changes.c.cart_id == sa.bindparam("cart"), _changes.c.version <= sa.bindparam("upto")
)


@dataclass(frozen=True)
class PruneReport:
    idempotency_keys: int
    pairing_codes: int
    pairing_failures: int
    cart_changes: int = 0


def compact_changes(database: Database, window_hours: float = DEFAULT_CHANGE_WINDOW_HOURS,
                    batch_carts: int = COMPACT_BATCH_CARTS) -> int:
    """Delete cart versions older than ``window_hours`` except each cart's newest; how many rows went."""
    if not window_hours > 0:
        raise InvalidArgument(f"change window must be more than 0 hours; got {window_hours}", field="window_hours")
    cutoff = now_ms() - int(window_hours * HOUR_MS)
    removed, after_cart = 0, ""
    while True:
        with database.write() as conn:
            batch = conn.execute(_COMPACTABLE, {"after_cart": after_cart, "cutoff": cutoff, "batch": batch_carts}).all()
            if batch:
                after_cart = batch[-1].cart_id
                # ``upto`` is below the version read in the same statement, and versions only grow:
                # a mutation committing meanwhile adds a newer row and never loses its own.
                removed += conn.execute(_DELETE_UPTO, [{"cart": row.cart_id, "upto": row.upto} for row in batch]).rowcount
        if len(batch) < batch_carts:
            return removed


def prune(database: Database, keep_days: int = DEFAULT_KEEP_DAYS,
          change_window_hours: float = DEFAULT_CHANGE_WINDOW_HOURS) -> PruneReport:
    """Delete expired bookkeeping rows and compact the cart change log; how many of each went."""
    if keep_days < 1:
        raise InvalidArgument(f"keep_days must be at least 1; got {keep_days}", field="keep_days")
    if not change_window_hours > 0:
        raise InvalidArgument(f"change window must be more than 0 hours; got {change_window_hours}",
                              field="change_window_hours")
    now = now_ms()
    keys, codes, failures = schema.idempotency_keys, schema.pairing_codes, schema.pairing_failures
    with database.write() as conn:
        removed_keys = conn.execute(keys.delete().where(keys.c.created_at_ms < now - keep_days * DAY_MS)).rowcount
        removed_codes = conn.execute(codes.delete().where(codes.c.expires_at_ms < now - DAY_MS)).rowcount
        removed_failures = conn.execute(failures.delete().where(failures.c.at_ms < now - FAILURE_WINDOW_MS)).rowcount
    removed_changes = compact_changes(database, change_window_hours)
    return PruneReport(removed_keys, removed_codes, removed_failures, removed_changes)
