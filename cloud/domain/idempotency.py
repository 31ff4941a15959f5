"""Idempotency keys: the same key and request replays the stored result, a different request is refused.

Keys are scoped per principal and method. Cart mutations store their result
optimistically, as the last statement of their own transaction
(``INSERT ... ON CONFLICT DO NOTHING``): a key that is already taken rolls the
whole mutation back and the caller reads the stored result instead. So the common
path (a fresh key) pays no lookup, and a retry racing the original waits on its
row and then sees the original's result.
"""
from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from cloud.domain.types import Principal, now_ms
from cloud.errors import CloudError, InvalidArgument
from cloud.storage import schema
from omnifit.errors import ErrorCode

_keys = schema.idempotency_keys
_SELECT = sa.select(_keys.c.request_hash, _keys.c.response).where(
    _keys.c.principal == sa.bindparam("principal"), _keys.c.method == sa.bindparam("method"), _keys.c.key == sa.bindparam("key")
)
_INSERT = _keys.insert()
_INSERT_IF_NEW = {
    "postgresql": postgresql.insert(_keys).on_conflict_do_nothing().returning(_keys.c.key),
    "sqlite": sqlite.insert(_keys).on_conflict_do_nothing().returning(_keys.c.key),
}


class KeyAlreadyUsed(CloudError):
    """The key already holds a result; the transaction that found out is rolled back."""

    code = ErrorCode.CONFLICT


def request_hash(request: dict[str, object]) -> str:
    """SHA-256 of the request fields in canonical JSON form."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def find_replay(conn: Connection, principal: Principal, method: str, key: str, digest: str) -> str | None:
    """The stored response of an earlier identical request, or ``None`` if the key is new."""
    row = conn.execute(_SELECT, {"principal": principal.key, "method": method, "key": key}).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise InvalidArgument(
            f"idempotency_key {key!r} was already used for a different {method} request; use a fresh key",
            field="idempotency_key",
        )
    response: str | None = row.response
    return response


def remember(conn: Connection, principal: Principal, method: str, key: str, digest: str, response: str) -> None:
    conn.execute(
        _INSERT,
        {"principal": principal.key, "method": method, "key": key, "request_hash": digest, "response": response, "created_at_ms": now_ms()},
    )


def insert_if_new(
    conn: Connection, principal: Principal, method: str, key: str, digest: str, response: str
) -> tuple[sa.Executable, dict[str, object]]:
    """The statement storing ``response`` under the key; it returns no row when the key is taken."""
    row = {"principal": principal.key, "method": method, "key": key, "request_hash": digest, "response": response,
           "created_at_ms": now_ms()}
    return _INSERT_IF_NEW[conn.dialect.name], row
