"""Kiosk device tokens live a week, not a year, and the kiosk renews its own before it ends.

(From reading the code in issue 12: a device token lived 365 days, so a copied kiosk token was good for a
year unless someone noticed and revoked the device.)
"""
from __future__ import annotations

import asyncio
import time

import grpc

from cloud import admin
from cloud.client import SyncClient
from cloud.client.client import device_token_due
from cloud.domain.auth import TOKEN_LIFETIME_MS
from cloud.domain.types import Principal, PrincipalKind, Session, now_ms
from proto.omnifit.v1 import cart_pb2, profile_pb2
from tests.cloud.conftest import STORE, bearer
from tests.security.conftest import ServerFactory, failure, register_and_sign_in

WEEK_MS = 7 * 24 * 3600 * 1000


def test_a_device_token_lives_a_week_and_the_device_renews_it(start: ServerFactory, channel_to, db_url: str) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    session = server.services.accounts.issue_device_token(STORE)
    assert session.expires_at_ms - now_ms() <= WEEK_MS
    assert TOKEN_LIFETIME_MS[PrincipalKind.DEVICE] <= WEEK_MS
    time.sleep(0.01)
    renewed = stubs.accounts.RenewDeviceToken(profile_pb2.RenewDeviceTokenRequest(), metadata=bearer(session.token))
    assert renewed.subject_id == session.subject_id and renewed.expires_at_ms > session.expires_at_ms
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(session.token))
    for token in (session.token, renewed.token):  # the same device; the old token lasts until it expires
        assert stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(token)).cart_id == cart.cart_id
    # Only a device renews a device token; a revoked one cannot renew itself back.
    shopper = register_and_sign_in(stubs, "renewer@example.com")
    code, _ = failure(stubs.accounts.RenewDeviceToken, profile_pb2.RenewDeviceTokenRequest(), metadata=bearer(shopper.token))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    admin.revoke_device(db_url, session.subject_id)
    time.sleep(1.2)
    code, _ = failure(stubs.accounts.RenewDeviceToken, profile_pb2.RenewDeviceTokenRequest(), metadata=bearer(renewed.token))
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_the_kiosk_client_renews_past_half_the_lifetime_and_hands_the_token_over(start: ServerFactory) -> None:
    server = start()
    device = server.services.accounts.issue_device_token(STORE)
    short, _ = server.services.accounts.signer.issue(Principal(PrincipalKind.DEVICE, device.subject_id, STORE), lifetime_ms=3000)
    assert not device_token_due(short)
    saved: list[Session] = []

    async def run() -> tuple[str, str]:
        async with SyncClient(server.address, token=short, on_token_renewed=saved.append) as kiosk:
            await kiosk.create_cart(STORE)
            unchanged = kiosk.token
            await asyncio.sleep(1.6)  # past half of three seconds
            await kiosk.create_cart(STORE)
            return unchanged or "", kiosk.token or ""

    unchanged, after = asyncio.run(run())
    assert unchanged == short and after != short
    assert len(saved) == 1 and saved[0].token == after and saved[0].expires_at_ms > now_ms() + WEEK_MS // 2
    assert device_token_due(short) and not device_token_due(after)
