"""One idempotency-key rule: a key the cloud refuses on a cart is refused by payments too, and the reverse."""
from __future__ import annotations

import pytest

from cloud.domain.validate import require_idempotency_key
from cloud.errors import InvalidArgument
from payments.errors import InvalidPaymentRequestError
from payments.idempotency import check_key

KEYS = [
    ("kiosk-3f2a9c1e", True),
    ("6f1c2e0a-9b7d-4c55-8e1a-2b3c4d5e6f70", True),
    ("x" * 128, True),
    ("", False),
    ("with space", False),
    (" leading", False),
    ("tab\tkey", False),
    ("ключ-1", False),  # Unicode look-alikes would be different keys byte for byte
    ("x" * 129, False),
]


@pytest.mark.parametrize(("key", "valid"), KEYS)
def test_the_cloud_and_payments_take_the_same_keys(key: str, valid: bool) -> None:
    if valid:
        assert require_idempotency_key(key) == key and check_key(key) == key
        return
    with pytest.raises(InvalidArgument, match="idempotency_key"):
        require_idempotency_key(key)
    if len(key) <= 128:  # payments stores keys the cloud scopes to the caller, so its column is longer
        with pytest.raises(InvalidPaymentRequestError, match="idempotency key"):
            check_key(key)
