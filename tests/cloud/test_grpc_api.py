"""The gRPC boundary with a real server: auth, status codes, trailing metadata, profiles, pairing."""
from __future__ import annotations

import time

import grpc
import pytest

from cloud.domain.auth import TokenSigner, signer_for
from cloud.domain.types import Principal, PrincipalKind
from proto.omnifit.v1 import cart_pb2, pairing_pb2, profile_pb2
from tests.cloud.conftest import OTHER_STORE, STORE, ServerThread, StockedSkus, Stubs, bearer


def _code(call, *args, **kwargs) -> tuple[grpc.StatusCode, str, grpc.RpcError]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code(), err.value.details(), err.value


def _kiosk_token(server: ServerThread, store: str = STORE) -> str:
    return server.services.accounts.issue_device_token(store).token


def _register(stubs: Stubs, email: str) -> profile_pb2.Session:
    stubs.accounts.RegisterShopper(
        profile_pb2.RegisterShopperRequest(email=email, password="correct horse 1", phone="+8613800138000", display_name="Test")
    )
    return stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password="correct horse 1"))


@pytest.fixture
def kiosk_token(server: ServerThread) -> str:
    return _kiosk_token(server)


@pytest.fixture
def cart(stubs: Stubs, kiosk_token: str) -> cart_pb2.Cart:
    return stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c1", store_id=STORE), metadata=bearer(kiosk_token))


def test_missing_forged_expired_and_revoked_tokens_are_unauthenticated(
    server: ServerThread, stubs: Stubs, cart: cart_pb2.Cart, kiosk_token: str
) -> None:
    get = stubs.carts.GetCart
    request = cart_pb2.GetCartRequest(cart_id=cart.cart_id)
    assert _code(get, request)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert _code(get, request, metadata=(("authorization", "Basic abc"),))[0] == grpc.StatusCode.UNAUTHENTICATED
    head, payload, _ = kiosk_token.split(".")
    forged_staff = TokenSigner(b"x" * 32).issue(Principal(PrincipalKind.STAFF, "root"))[0]
    for token in (f"{head}.{payload}.AAAA", forged_staff, "ofv1.not.atoken"):
        status, details, _ = _code(get, request, metadata=bearer(token))
        assert status == grpc.StatusCode.UNAUTHENTICATED, details
    signer = signer_for(server.services.database)
    expired = signer.issue(Principal(PrincipalKind.STAFF, "ops"), lifetime_ms=-1)[0]
    status, details, _ = _code(get, request, metadata=bearer(expired))
    assert status == grpc.StatusCode.UNAUTHENTICATED and "expired" in details
    assert get(request, metadata=bearer(kiosk_token)).version == 1
    device_id = signer.verify(kiosk_token).subject_id
    server.services.accounts.revoke_device(device_id)
    time.sleep(1.1)  # the revocation cache lives one second
    assert _code(get, request, metadata=bearer(kiosk_token))[0] == grpc.StatusCode.UNAUTHENTICATED


def test_other_store_and_other_shopper_are_denied_and_nothing_changes(
    server: ServerThread, stubs: Stubs, cart: cart_pb2.Cart, kiosk_token: str, skus: StockedSkus
) -> None:
    elsewhere = _kiosk_token(server, OTHER_STORE)
    shopper = _register(stubs, "gina@example.com").token
    add = cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="x1", sku=skus.plenty, quantity=1)
    for token in (elsewhere, shopper):
        assert _code(stubs.carts.AddLine, add, metadata=bearer(token))[0] == grpc.StatusCode.PERMISSION_DENIED
        get = cart_pb2.GetCartRequest(cart_id=cart.cart_id)
        assert _code(stubs.carts.GetCart, get, metadata=bearer(token))[0] == grpc.StatusCode.PERMISSION_DENIED
    status, details, _ = _code(
        stubs.carts.CreateCart, cart_pb2.CreateCartRequest(idempotency_key="c2", store_id=OTHER_STORE), metadata=bearer(kiosk_token)
    )
    assert status == grpc.StatusCode.PERMISSION_DENIED and "store_id" in details
    assert stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(kiosk_token)).version == 1


def test_stale_version_is_aborted_with_current_version_metadata(
    stubs: Stubs, cart: cart_pb2.Cart, kiosk_token: str, skus: StockedSkus
) -> None:
    meta = bearer(kiosk_token)
    stubs.carts.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="a1", sku=skus.plenty, quantity=1), metadata=meta)
    stale = cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="a2", sku=skus.plenty, quantity=1, expected_version=1)
    status, details, error = _code(stubs.carts.AddLine, stale, metadata=meta)
    assert status == grpc.StatusCode.ABORTED and "version 2" in details
    assert dict(error.trailing_metadata())["current-version"] == "2"


@pytest.mark.parametrize(
    ("request_fields", "status", "needle"),
    [
        ({"sku": "NOPE-1", "quantity": 1}, grpc.StatusCode.NOT_FOUND, "NOPE-1"),
        ({"quantity": 25}, grpc.StatusCode.INVALID_ARGUMENT, "quantity"),
        ({"quantity": 1, "idempotency_key": ""}, grpc.StatusCode.INVALID_ARGUMENT, "idempotency_key"),
    ],
)
def test_bad_fields_map_to_clear_codes(
    stubs: Stubs, cart: cart_pb2.Cart, kiosk_token: str, skus: StockedSkus, request_fields: dict, status: grpc.StatusCode, needle: str
) -> None:
    fields = {"cart_id": cart.cart_id, "idempotency_key": "k", "sku": skus.plenty, **request_fields}
    got, details, _ = _code(stubs.carts.AddLine, cart_pb2.AddLineRequest(**fields), metadata=bearer(kiosk_token))
    assert got == status and needle in details


def test_accounts_profiles_and_pairing_over_the_wire(
    stubs: Stubs, cart: cart_pb2.Cart, kiosk_token: str, server: ServerThread
) -> None:
    kiosk = bearer(kiosk_token)
    stubs.profiles.PutFitProfile(
        profile_pb2.PutFitProfileRequest(cart_id=cart.cart_id, idempotency_key="p1", profile={"left_foot": {"length_mm": 261.5}}),
        metadata=kiosk,
    )
    session = _register(stubs, "hana@example.com")
    wrong = profile_pb2.SignInRequest(email="hana@example.com", password="wrong password")
    assert _code(stubs.accounts.SignIn, wrong)[0] == grpc.StatusCode.UNAUTHENTICATED
    signed_in = stubs.accounts.SignIn(profile_pb2.SignInRequest(email="HANA@example.com", password="correct horse 1"))
    assert signed_in.subject_id == session.subject_id
    code = stubs.pairing.CreatePairingCode(pairing_pb2.CreatePairingCodeRequest(cart_id=cart.cart_id), metadata=kiosk)
    assert code.qr_png.startswith(b"\x89PNG")
    claimed = stubs.pairing.ClaimPairingCode(pairing_pb2.ClaimPairingCodeRequest(code=code.code), metadata=bearer(signed_in.token))
    assert claimed.cart.owner_shopper_id == session.subject_id and claimed.cart.status == cart_pb2.CART_STATUS_OPEN
    assert claimed.profile.left_foot.length_mm == pytest.approx(261.5)
    mine = stubs.profiles.GetFitProfile(profile_pb2.GetFitProfileRequest(), metadata=bearer(signed_in.token))
    assert mine.left_foot.length_mm == pytest.approx(261.5) and not mine.HasField("body")
    server.services.accounts.create_staff("ops-7", "staff password 7")
    staff = stubs.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id="ops-7", password="staff password 7"))
    assert stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(staff.token)).cart_id == cart.cart_id
    status, details, _ = _code(
        stubs.accounts.RegisterShopper,
        profile_pb2.RegisterShopperRequest(email="x@example.com", password="short", phone="+8613800138000"),
    )
    assert status == grpc.StatusCode.INVALID_ARGUMENT and "password" in details
