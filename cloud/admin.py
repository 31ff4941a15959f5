"""Operator actions on a database: migrate, kiosk device tokens, staff credentials, pruning.

Used by ``omnifit admin ...`` and, programmatically, by tests and the demo. Each
call opens the database (migrating and seeding it if needed) and closes it again.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from cloud.domain.accounts import AccountService
from cloud.domain.auth import signer_for
from cloud.domain.types import Session
from cloud.storage import Database, open_database


@contextlib.contextmanager
def _accounts(db_url: str) -> Iterator[AccountService]:
    database = open_database(db_url, pool_size=1)
    try:
        yield AccountService(database, signer_for(database))
    finally:
        database.close()


def migrate(db_url: str) -> str:
    """Bring ``db_url`` to the newest schema (seeding an empty catalog); returns the revision."""
    from cloud.storage.migrate import current_revision

    database: Database = open_database(db_url, pool_size=1)
    try:
        with database.read() as conn:
            return current_revision(conn) or ""
    finally:
        database.close()


def issue_device_session(db_url: str, store_id: str) -> Session:
    """Register a kiosk device for ``store_id``; its token, device id (``subject_id``) and expiry."""
    with _accounts(db_url) as accounts:
        return accounts.issue_device_token(store_id)


def issue_device_token(db_url: str, store_id: str) -> str:
    """A new kiosk device token bound to ``store_id``."""
    return issue_device_session(db_url, store_id).token


def revoke_device(db_url: str, device_id: str) -> None:
    """Revoke a kiosk device; servers refuse its token within about a second."""
    with _accounts(db_url) as accounts:
        accounts.revoke_device(device_id)


def prune(db_url: str, keep_days: int = 7, change_window_hours: float = 24.0) -> dict[str, int]:
    """Drop old idempotency keys, long-expired pairing codes and stale failed claims, and compact
    cart versions older than ``change_window_hours`` (each cart keeps its newest); counts removed."""
    from dataclasses import asdict

    from cloud.domain.retention import prune as prune_database

    database = open_database(db_url, pool_size=1)
    try:
        return asdict(prune_database(database, keep_days, change_window_hours))
    finally:
        database.close()


def create_staff(db_url: str, staff_id: str, password: str) -> None:
    """Create a staff credential (or set a new password for an existing one)."""
    with _accounts(db_url) as accounts:
        accounts.create_staff(staff_id, password)
