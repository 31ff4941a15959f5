"""Staff and shopper tokens end when their credentials change: a password reset, a disabled staff
member, or sign-out-everywhere stops every token issued before, on every replica.

(Item 5 of issue 12: a staff token kept working for its whole 8 hours after the password was reset.)
"""
from __future__ import annotations

import time

import grpc
import sqlalchemy as sa

from cloud import admin
from cloud.storage import schema
from proto.omnifit.v1 import cart_pb2, profile_pb2
from tests.cloud.conftest import STORE, ServerThread, Stubs, bearer
from tests.security.conftest import ServerFactory, failure, register_and_sign_in

STAFF, STAFF_PASSWORD = "ops-7", "staff password 1"
CACHE_S = 1.2  # the authenticator reuses a database answer for one second


def _staff_session(server: ServerThread, stubs: Stubs) -> str:
    server.services.accounts.create_staff(STAFF, STAFF_PASSWORD)
    return stubs.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id=STAFF, password=STAFF_PASSWORD)).token


def _kiosk_cart(server: ServerThread, stubs: Stubs) -> str:
    kiosk = server.services.accounts.issue_device_token(STORE).token
    return stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(kiosk)).cart_id


def _get(stubs: Stubs, cart_id: str, token: str) -> cart_pb2.Cart:
    return stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart_id), metadata=bearer(token))


def test_a_password_reset_ends_the_staff_token_on_every_replica(start: ServerFactory, channel_to, db_url: str) -> None:  # type: ignore[no-untyped-def]
    first, second = start(), start()
    stubs_a, stubs_b = channel_to(first), channel_to(second)
    cart_id = _kiosk_cart(first, stubs_a)
    old = _staff_session(first, stubs_a)
    assert _get(stubs_b, cart_id, old).cart_id == cart_id
    admin.create_staff(db_url, STAFF, "a new password 2")  # `omnifit admin create-staff` on an existing id
    time.sleep(CACHE_S)
    for stubs in (stubs_a, stubs_b):
        code, details = failure(_get, stubs, cart_id, old)
        assert code == grpc.StatusCode.UNAUTHENTICATED and "sign in again" in details, details
    fresh = stubs_b.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id=STAFF, password="a new password 2")).token
    assert _get(stubs_a, cart_id, fresh).cart_id == cart_id


def test_a_disabled_staff_member_is_refused_until_enabled(start: ServerFactory, channel_to, db_url: str) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    cart_id = _kiosk_cart(server, stubs)
    token = _staff_session(server, stubs)
    admin.set_staff_disabled(db_url, STAFF, True)
    time.sleep(CACHE_S)
    assert failure(_get, stubs, cart_id, token)[0] == grpc.StatusCode.UNAUTHENTICATED
    code, details = failure(stubs.accounts.StaffSignIn, profile_pb2.StaffSignInRequest(staff_id=STAFF, password=STAFF_PASSWORD))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "disabled" in details
    admin.set_staff_disabled(db_url, STAFF, False)
    time.sleep(CACHE_S)
    assert failure(_get, stubs, cart_id, token)[0] == grpc.StatusCode.UNAUTHENTICATED  # the old token stays ended
    again = stubs.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id=STAFF, password=STAFF_PASSWORD)).token
    assert _get(stubs, cart_id, again).cart_id == cart_id


def test_sign_out_everywhere_ends_only_that_accounts_older_tokens(start: ServerFactory, channel_to) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    phone = register_and_sign_in(stubs, "lost-phone@example.com")
    laptop = stubs.accounts.SignIn(profile_pb2.SignInRequest(email="lost-phone@example.com", password="correct horse 1"))
    bystander = register_and_sign_in(stubs, "bystander@example.com")
    profile = profile_pb2.GetFitProfileRequest()
    stubs.accounts.SignOutEverywhere(profile_pb2.SignOutEverywhereRequest(), metadata=bearer(laptop.token))
    for token in (phone.token, laptop.token):
        assert failure(stubs.profiles.GetFitProfile, profile, metadata=bearer(token))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert stubs.profiles.GetFitProfile(profile, metadata=bearer(bystander.token)).shopper_id == bystander.subject_id
    after = stubs.accounts.SignIn(profile_pb2.SignInRequest(email="lost-phone@example.com", password="correct horse 1"))
    assert stubs.profiles.GetFitProfile(profile, metadata=bearer(after.token)).shopper_id == phone.subject_id


def test_who_may_sign_whom_out(start: ServerFactory, channel_to) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    alice = register_and_sign_in(stubs, "alice@example.com")
    mallory = register_and_sign_in(stubs, "mallory@example.com")
    kiosk = server.services.accounts.issue_device_token(STORE).token
    staff = _staff_session(server, stubs)
    out = stubs.accounts.SignOutEverywhere
    # Another shopper, and a kiosk, may not end alice's sessions (nor a staff member's).
    for token, request in ((mallory.token, profile_pb2.SignOutEverywhereRequest(shopper_id=alice.subject_id)),
                           (mallory.token, profile_pb2.SignOutEverywhereRequest(staff_id=STAFF)),
                           (kiosk, profile_pb2.SignOutEverywhereRequest(shopper_id=alice.subject_id)),
                           (kiosk, profile_pb2.SignOutEverywhereRequest())):
        assert failure(out, request, metadata=bearer(token))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert failure(out, profile_pb2.SignOutEverywhereRequest())[0] == grpc.StatusCode.UNAUTHENTICATED
    profile = profile_pb2.GetFitProfileRequest()
    assert stubs.profiles.GetFitProfile(profile, metadata=bearer(alice.token)).shopper_id == alice.subject_id
    # Staff may, and it is audited.
    answer = out(profile_pb2.SignOutEverywhereRequest(shopper_id=alice.subject_id), metadata=bearer(staff))
    assert answer.principal == f"shopper:{alice.subject_id}"
    assert failure(stubs.profiles.GetFitProfile, profile, metadata=bearer(alice.token))[0] == grpc.StatusCode.UNAUTHENTICATED
    audit = schema.staff_audit
    with server.services.database.read() as conn:
        rows = conn.execute(sa.select(audit.c.staff_id, audit.c.action, audit.c.target)).all()
    assert (STAFF, "sign_out_everywhere", f"shopper:{alice.subject_id}") in [tuple(row) for row in rows]
    assert failure(out, profile_pb2.SignOutEverywhereRequest(shopper_id="shp_nobody"), metadata=bearer(staff))[0] \
        == grpc.StatusCode.NOT_FOUND
