"""The one rule for idempotency keys, for every room that takes them (cloud mutations, payments).

A key is 1 to 128 printable ASCII characters without spaces (``kiosk-3f2a...``, a UUID): keys
are stored and compared byte for byte, so no Unicode look-alikes and no stray whitespace. A room
that stores a key scoped to its caller (the cloud's payments) checks the scoped key against a
longer ``max_length`` of its own column.
"""
from __future__ import annotations

import re

MAX_KEY_LENGTH = 128
_KEY = re.compile(r"^[\x21-\x7e]+$")


def key_problem(key: object, *, max_length: int = MAX_KEY_LENGTH) -> str | None:
    """Why ``key`` is not an idempotency key, in words for the caller; None when it is one."""
    if not isinstance(key, str) or not key:
        return "is required on every mutation"
    if len(key) > max_length or not _KEY.match(key):
        return f"must be 1..{max_length} printable ASCII characters without spaces; got {len(key)} characters"
    return None
