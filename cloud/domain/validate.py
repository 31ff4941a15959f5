"""One-line checks of request fields; each failure names the field and says what was expected."""
from __future__ import annotations

import re

from cloud.errors import InvalidArgument
from omnifit.idempotency import key_problem

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
MAX_QUANTITY = 20
MAX_ID_LENGTH = 100


def require_id(value: str, field: str, max_length: int = MAX_ID_LENGTH) -> str:
    """An identifier: non-empty, at most ``max_length`` characters of ``[A-Za-z0-9_.:-]``."""
    if not value:
        raise InvalidArgument(f"{field} is required", field=field)
    if len(value) > max_length or not _ID.match(value):
        raise InvalidArgument(
            f"{field} {value[:40]!r} is malformed; expected up to {max_length} characters of letters, digits, '_', '.', ':' or '-'",
            field=field,
        )
    return value


def require_text(value: str, field: str, max_length: int) -> str:
    """Free text (a search query, a brand, an email): printable, at most ``max_length`` characters."""
    if len(value) > max_length or not value.isprintable():
        raise InvalidArgument(
            f"{field} must be at most {max_length} printable characters; got {len(value)} characters", field=field
        )
    return value


def require_idempotency_key(value: str) -> str:
    """Every mutation carries a key (:mod:`omnifit.idempotency`'s rule) so a retry changes nothing more."""
    problem = key_problem(value)
    if problem is not None:
        raise InvalidArgument(f"idempotency_key {problem}", field="idempotency_key")
    return value


def require_quantity(value: int, field: str = "quantity") -> int:
    if not 1 <= value <= MAX_QUANTITY:
        raise InvalidArgument(f"{field} must be 1..{MAX_QUANTITY}; got {value}", field=field)
    return value


def require_expected_version(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InvalidArgument(f"expected_version must be at least 1 when set; got {value}", field="expected_version")
    return value
