"""Live streams end with their credentials: a WatchCart opened with a token that is then revoked,
expires, or whose account signs out everywhere ends UNAUTHENTICATED, and no change reaches it after.

(Item 4 of issue 12: the stream checked its token once, so a revoked kiosk kept receiving a cart's
changes for as long as it stayed connected.)
"""
from __future__ import annotations

import queue
import time

import grpc
import pytest

from cloud import admin
from cloud.domain.types import Principal, PrincipalKind
from cloud.fanout import CREDENTIAL_RECHECK_S
from proto.omnifit.v1 import cart_pb2, pairing_pb2, profile_pb2
from tests.cloud.conftest import STORE, ServerThread, Watcher, bearer
from tests.security.conftest import ServerFactory, register_and_sign_in

# A revocation nobody announces (another process on a SQLite file) is seen at the next periodic check;
# the authenticator's one-second cache and a scheduling margin on a loaded machine come on top.
UNANNOUNCED_S = CREDENTIAL_RECHECK_S + 1.0 + 4.0


def _ended(watcher: Watcher, within_s: float) -> tuple[grpc.RpcError, list[cart_pb2.CartEvent], float]:
    """Wait for the stream to end; the error, the events it delivered meanwhile, and how long it took."""
    started = time.monotonic()
    events = []
    while True:
        remaining = within_s - (time.monotonic() - started)
        try:
            item = watcher.events.get(timeout=max(0.01, remaining))
        except queue.Empty:
            pytest.fail(f"the stream was still open {within_s:.0f} s later")
        if isinstance(item, grpc.RpcError):
            return item, events, time.monotonic() - started
        events.append(item)


def _kiosk_cart(server: ServerThread, stubs) -> tuple[str, str, cart_pb2.Cart]:  # type: ignore[no-untyped-def]
    session = server.services.accounts.issue_device_token(STORE)
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c1", store_id=STORE),
                                  metadata=bearer(session.token))
    return session.token, session.subject_id, cart


def test_a_revoked_kiosk_stream_ends_unauthenticated(start: ServerFactory, channel_to, db_url: str) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    token, device_id, cart = _kiosk_cart(server, stubs)
    watcher = Watcher(stubs.carts, cart.cart_id, token)
    try:
        assert watcher.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
        # The operator's command, as `omnifit admin revoke-device` runs it: its own connection to the database.
        admin.revoke_device(db_url, device_id)
        error, _, took = _ended(watcher, UNANNOUNCED_S)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
        assert "revoked" in error.details()
        if db_url.startswith("postgresql"):
            assert took < 3.0, f"the NOTIFY of the revocation should end the stream at once; took {took:.1f} s"
    finally:
        watcher.close()


def test_an_expired_token_stream_ends_at_its_expiry(start: ServerFactory, channel_to) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    _, device_id, cart = _kiosk_cart(server, stubs)
    short, _ = server.services.accounts.signer.issue(Principal(PrincipalKind.DEVICE, device_id, STORE), lifetime_ms=2000)
    watcher = Watcher(stubs.carts, cart.cart_id, short)
    try:
        assert watcher.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
        error, _, took = _ended(watcher, 6.0)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "expired" in error.details(), error.details()
        assert took < 4.0
    finally:
        watcher.close()


def _shopper_cart(server: ServerThread, stubs) -> tuple[profile_pb2.Session, cart_pb2.Cart]:  # type: ignore[no-untyped-def]
    kiosk, _, cart = _kiosk_cart(server, stubs)
    code = stubs.pairing.CreatePairingCode(pairing_pb2.CreatePairingCodeRequest(cart_id=cart.cart_id), metadata=bearer(kiosk))
    session = register_and_sign_in(stubs, "watcher@example.com")
    claimed = stubs.pairing.ClaimPairingCode(pairing_pb2.ClaimPairingCodeRequest(code=code.code), metadata=bearer(session.token))
    return session, claimed.cart


def test_sign_out_everywhere_ends_the_shoppers_stream_on_this_replica_at_once(start: ServerFactory, channel_to) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    session, cart = _shopper_cart(server, stubs)
    watcher = Watcher(stubs.carts, cart.cart_id, session.token)
    try:
        assert watcher.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
        # The shopper, from another phone, ends every session (a lost phone).
        other = stubs.accounts.SignIn(profile_pb2.SignInRequest(email="watcher@example.com", password="correct horse 1"))
        stubs.accounts.SignOutEverywhere(profile_pb2.SignOutEverywhereRequest(), metadata=bearer(other.token))
        error, _, took = _ended(watcher, 3.0)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
        assert took < 2.0
    finally:
        watcher.close()


def test_sign_out_everywhere_reaches_a_stream_on_another_replica(start: ServerFactory, channel_to, db_url: str) -> None:  # type: ignore[no-untyped-def]
    first, second = start(), start()
    stubs_a, stubs_b = channel_to(first), channel_to(second)
    session, cart = _shopper_cart(first, stubs_a)
    watcher = Watcher(stubs_b.carts, cart.cart_id, session.token)
    try:
        assert watcher.next().kind == cart_pb2.CART_CHANGE_KIND_SNAPSHOT
        stubs_a.accounts.SignOutEverywhere(profile_pb2.SignOutEverywhereRequest(), metadata=bearer(session.token))
        error, _, took = _ended(watcher, UNANNOUNCED_S)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
        if db_url.startswith("postgresql"):
            assert took < 3.0, f"replicas hear revocations on the NOTIFY channel; took {took:.1f} s"
    finally:
        watcher.close()
