"""Fuzzed request fields get clear status codes, never UNKNOWN or INTERNAL, and the server keeps serving."""
from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proto.omnifit.v1 import cart_pb2, catalog_pb2, pairing_pb2, profile_pb2
from tests.cloud.conftest import STORE, ServerThread, Stubs, bearer, stubs_for

CLEAR = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAUTHENTICATED,
}
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# NUL and other control characters are what PostgreSQL refuses outright, so draw them often.
text = st.text(alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from("\x00\x01\n\t")), max_size=80)
int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)


@pytest.fixture
def fuzz_env(server: ServerThread) -> Iterator[tuple[Stubs, str, str]]:
    token = server.services.accounts.issue_device_token(STORE).token
    with grpc.insecure_channel(server.address) as channel:
        stubs = stubs_for(channel)
        cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(token))
        yield stubs, token, cart.cart_id


def _clear(call, request, **kwargs) -> None:  # type: ignore[no-untyped-def]
    try:
        call(request, timeout=30, **kwargs)
    except grpc.RpcError as exc:
        assert exc.code() in CLEAR, f"{exc.code()}: {exc.details()} for {request!r}"
        assert exc.details()


@FUZZ
@given(cart_id=text, key=text, sku=text, quantity=int32, expected=st.none() | int64, pickup_only=st.booleans(), use_cart=st.booleans())
def test_add_line_fields(fuzz_env, cart_id, key, sku, quantity, expected, pickup_only, use_cart) -> None:  # type: ignore[no-untyped-def]
    stubs, token, real_cart = fuzz_env
    request = cart_pb2.AddLineRequest(
        cart_id=real_cart if use_cart else cart_id, idempotency_key=key, sku=sku, quantity=quantity, pickup_only=pickup_only
    )
    if expected is not None:
        request.expected_version = expected
    _clear(stubs.carts.AddLine, request, metadata=bearer(token))


@FUZZ
@given(
    query=text, category=int32, brand=text, gender=int32, store_id=text,
    in_stock=st.booleans(), max_price=int64, size=int32, page_token=text,
)
def test_list_products_fields(fuzz_env, query, category, brand, gender, store_id, in_stock, max_price, size, page_token) -> None:  # type: ignore[no-untyped-def]
    stubs, _, _ = fuzz_env
    request = catalog_pb2.ListProductsRequest(
        query=query, category=category, brand=brand, gender=gender, store_id=store_id, in_stock_only=in_stock,
        max_price_minor=max_price, page={"page_size": size, "page_token": page_token},
    )
    _clear(stubs.catalog.ListProducts, request)


@FUZZ
@given(
    line_id=text, key=text, quantity=int32, code=text,
    header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120),
)
def test_update_claim_and_headers(fuzz_env, line_id, key, quantity, code, header) -> None:  # type: ignore[no-untyped-def]
    stubs, token, cart_id = fuzz_env
    _clear(
        stubs.carts.UpdateLine,
        cart_pb2.UpdateLineRequest(cart_id=cart_id, idempotency_key=key, line_id=line_id, quantity=quantity),
        metadata=bearer(token),
    )
    _clear(stubs.pairing.ClaimPairingCode, pairing_pb2.ClaimPairingCodeRequest(code=code), metadata=bearer(token))
    _clear(stubs.carts.GetCart, cart_pb2.GetCartRequest(cart_id=cart_id), metadata=(("authorization", header),))


@FUZZ
@given(email=text, password=text, phone=text, name=text, length=st.floats(allow_nan=True, allow_infinity=True), key=text)
def test_account_and_profile_fields(fuzz_env, email, password, phone, name, length, key) -> None:  # type: ignore[no-untyped-def]
    stubs, token, cart_id = fuzz_env
    _clear(
        stubs.accounts.RegisterShopper,
        profile_pb2.RegisterShopperRequest(email=email, password=password, phone=phone, display_name=name),
    )
    profile = profile_pb2.FitProfile(left_foot={"length_mm": length})
    _clear(
        stubs.profiles.PutFitProfile,
        profile_pb2.PutFitProfileRequest(cart_id=cart_id, idempotency_key=key, profile=profile),
        metadata=bearer(token),
    )


@FUZZ
@given(store_id=text, skus=st.lists(text, max_size=4), product_id=text, cart_id=text, key=text, after=int64)
def test_stock_create_and_watch_fields(fuzz_env, store_id, skus, product_id, cart_id, key, after) -> None:  # type: ignore[no-untyped-def]
    stubs, token, _ = fuzz_env
    _clear(stubs.catalog.GetStock, catalog_pb2.GetStockRequest(store_id=store_id, skus=skus, product_id=product_id))
    _clear(stubs.catalog.GetProduct, catalog_pb2.GetProductRequest(product_id=product_id))
    _clear(stubs.carts.CreateCart, cart_pb2.CreateCartRequest(idempotency_key=key, store_id=store_id), metadata=bearer(token))
    try:
        next(iter(stubs.carts.WatchCart(
            cart_pb2.WatchCartRequest(cart_id=cart_id, after_version=after), metadata=bearer(token), timeout=30
        )))
    except grpc.RpcError as exc:
        assert exc.code() in CLEAR, f"{exc.code()}: {exc.details()}"
