"""Operator actions on a database: migrate, kiosk device tokens, staff credentials, pruning.

Used by ``omnifit admin ...`` and, programmatically, by tests and the demo. Each
call opens the database (migrating and seeding it if needed) and closes it again.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloud.domain.accounts import AccountService
from cloud.domain.auth import TokenSigner, signer_for
from cloud.domain.token_keys import TokenKeyRing
from cloud.domain.types import Session
from cloud.storage import Database, open_database


@contextlib.contextmanager
def _accounts(db_url: str, *, signs: bool = False) -> Iterator[AccountService]:
    """The account service on ``db_url``; with the deployment's token keys only when the action issues a token
    (the others must not create a key file, or a key in a PostgreSQL database, as a side effect)."""
    database = open_database(db_url, pool_size=1)
    try:
        signer = signer_for(database) if signs else TokenSigner(TokenKeyRing.generate())  # the latter signs nothing
        yield AccountService(database, signer)
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
    with _accounts(db_url, signs=True) as accounts:
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


def create_staff(db_url: str, staff_id: str, password: str, *, stores: tuple[str, ...] = ()) -> None:
    """Create a staff credential (or set a new password for an existing one), working in ``stores``."""
    with _accounts(db_url) as accounts:
        accounts.create_staff(staff_id, password)
    if stores:
        assign_staff_stores(db_url, staff_id, stores)


def assign_staff_stores(db_url: str, staff_id: str, stores: tuple[str, ...]) -> None:
    """Let ``staff_id`` see and act on the stock of ``stores`` (added to any they had)."""
    import sqlalchemy as sa

    from cloud.errors import InvalidArgument
    from cloud.storage import schema

    database = open_database(db_url, pool_size=1)
    try:
        with database.write() as conn:
            known = set(conn.execute(sa.select(schema.stores.c.store_id).where(schema.stores.c.store_id.in_(stores))).scalars())
            unknown = sorted(set(stores) - known)
            if unknown:
                raise InvalidArgument(f"unknown store(s) {unknown}; the cloud has no such store", field="store")
            held = set(conn.execute(sa.select(schema.staff_stores.c.store_id)
                                    .where(schema.staff_stores.c.staff_id == staff_id)).scalars())
            for store_id in sorted(set(stores) - held):
                conn.execute(schema.staff_stores.insert().values(staff_id=staff_id, store_id=store_id))
    finally:
        database.close()


def set_staff_disabled(db_url: str, staff_id: str, disabled: bool = True) -> None:
    """Disable a staff member (their tokens stop within seconds on every replica) or enable them again."""
    with _accounts(db_url) as accounts:
        accounts.set_staff_disabled(staff_id, disabled)


def token_keys(db_url: str, action: str, key_file: Path | None = None) -> dict[str, Any]:
    """``rotate`` the token-signing keys, or ``move`` a database's old secret into ``key_file``; what the ring holds now."""
    from cloud.domain import token_keys as keys

    database = open_database(db_url, pool_size=1)
    try:
        if action == "move":
            if key_file is None:
                raise ValueError("move needs the key file to move the secret into")
            ring = keys.move_out_of_database(database, key_file)
        else:
            ring = keys.rotate(database, key_file)
    finally:
        database.close()
    return {"active": ring.active_id,
            "keys": {kid: {"retired_at_ms": key.retired_at_ms} for kid, key in sorted(ring.keys.items())}}
