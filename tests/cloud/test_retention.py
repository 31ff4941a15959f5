"""Retention: old bookkeeping goes, recent keys and shoppers' carts stay."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cloud.api.servicers import Services
from cloud.domain.retention import DAY_MS, prune
from cloud.domain.types import now_ms
from cloud.errors import InvalidArgument
from cloud.storage import schema
from tests.cloud.conftest import STORE, device


def test_prune_drops_only_expired_bookkeeping(services: Services) -> None:
    kiosk = device(services)
    cart_id = services.carts.create_cart(kiosk, STORE, "fresh").cart.cart_id
    old = now_ms() - 8 * DAY_MS
    keys, codes, failures = schema.idempotency_keys, schema.pairing_codes, schema.pairing_failures
    with services.database.write() as conn:
        conn.execute(keys.insert().values(
            principal="device:x", method="AddLine", key="old", request_hash="h", response="{}", created_at_ms=old
        ))
        conn.execute(codes.insert().values(
            code_hash="h" * 64, cart_id=cart_id, created_by="device:x", created_at_ms=old, expires_at_ms=old
        ))
        conn.execute(failures.insert().values(principal="shopper:x", at_ms=old))
    report = prune(services.database, keep_days=7)
    assert (report.idempotency_keys, report.pairing_codes, report.pairing_failures) == (1, 1, 1)
    with services.database.read() as conn:
        assert conn.execute(sa.select(keys.c.key)).scalars().all() == ["fresh"]
    assert services.carts.create_cart(kiosk, STORE, "fresh").change is None  # the recent key still replays
    with pytest.raises(InvalidArgument, match="keep_days"):
        prune(services.database, keep_days=0)
