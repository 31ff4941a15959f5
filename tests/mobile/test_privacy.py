"""PrivacyService.DeleteFitProfile: a shopper deletes their own fit profile, audited; nobody else may.

A real server on SQLite and PostgreSQL; the profile arrives as in the store, from a kiosk scan
claimed with the pairing code.
"""
from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from cloud.client import ClientError, SyncClient
from cloud.testing import ServerProcess
from omnifit.errors import ErrorCode

STORE = "sh-jingan"
FOOT = {"length": 266.0, "width": 101.0, "ball_girth": 247.0, "instep_girth": 252.0, "heel_width": 66.0}


def _audit_entries(db_url: str, subject: str) -> list[str]:
    from payments.audit import audit_log_table

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log_table.c.event).where(audit_log_table.c.subject == subject)).all()
    finally:
        engine.dispose()
    return [row.event for row in rows]


def test_a_shopper_deletes_their_fit_profile_and_nobody_else_can(db_url: str) -> None:
    from cloud.admin import issue_device_token

    server = ServerProcess(db_url).start()
    try:
        device_token = issue_device_token(db_url, STORE)

        async def check() -> str:
            async with SyncClient(server.target, token=device_token) as kiosk, SyncClient(server.target) as ann, \
                    SyncClient(server.target) as nobody:
                cart = await kiosk.create_cart(STORE)
                await kiosk.put_fit_profile(cart_id=cart.cart_id, left_foot=FOOT, right_foot=FOOT)
                code = await kiosk.create_pairing_code(cart.cart_id)
                session = await ann.register("ann@example.com", "correct horse battery", "+8613800138001")
                _cart, profile = await ann.claim_pairing_code(code.code)
                assert profile.left_foot["length"] == 266.0

                for caller, refusal in ((kiosk, ErrorCode.PERMISSION_DENIED), (nobody, ErrorCode.UNAUTHENTICATED)):
                    with pytest.raises(ClientError) as refused:
                        await caller.delete_fit_profile()
                    assert refused.value.code is refusal
                assert (await ann.get_fit_profile()).left_foot  # the refusals changed nothing

                assert await ann.delete_fit_profile(idempotency_key="forget-me-1") is True
                assert await ann.delete_fit_profile(idempotency_key="forget-me-1") is True  # a retry: same answer
                assert await ann.delete_fit_profile() is False  # nothing left to delete
                after = await ann.get_fit_profile()
                assert not after.left_foot and not after.right_foot
                return session.subject_id

        shopper_id = asyncio.run(check())
        assert _audit_entries(db_url, shopper_id).count("fit_profile.deleted") == 2  # the retry was not a deletion
    finally:
        server.stop()
