"""Pairing: the happy path with cart and profile merge, and every way a claim is refused."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from cloud.api.servicers import Services
from cloud.domain.pairing import ALPHABET, CODE_LENGTH, PairingService
from cloud.domain.types import BodyMeasurements, CartStatus, ChangeKind, FitProfile, FootMeasurements, Principal
from cloud.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, RateLimited
from cloud.storage import schema
from tests.cloud.conftest import STORE, StockedSkus, device, shopper


@pytest.fixture
def kiosk(services: Services) -> Principal:
    return device(services)


@pytest.fixture
def kiosk_cart(services: Services, kiosk: Principal, skus: StockedSkus) -> str:
    cart_id = services.carts.create_cart(kiosk, STORE, "c1").cart.cart_id
    services.carts.add_line(kiosk, cart_id, "a1", skus.plenty, 1)
    return cart_id


def test_code_is_short_unambiguous_and_drawn_as_qr(services: Services, kiosk: Principal, kiosk_cart: str) -> None:
    code = services.pairing.create_code(kiosk, kiosk_cart)
    assert len(code.code) == CODE_LENGTH and set(code.code) <= set(ALPHABET)
    assert not set("01OIL") & set(ALPHABET)
    assert code.qr_payload == f"omnifit://pair/{code.code}"
    image = Image.open(io.BytesIO(code.qr_png))
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 21 * 8
    with services.database.read() as conn:
        stored = conn.execute(sa.select(schema.pairing_codes.c.code_hash)).scalars().all()
    assert code.code not in stored and len(stored) == 1


def test_claim_hands_over_cart_and_merges_open_cart_and_profile(
    services: Services, kiosk: Principal, kiosk_cart: str, skus: StockedSkus
) -> None:
    bob = shopper(services, "bob@example.com")
    old = services.carts.create_cart(bob, STORE, "bob-1").cart.cart_id  # the same store: merged (another store's stays)
    services.carts.add_line(bob, old, "bob-a", skus.missing, 2)
    services.carts.add_line(bob, old, "bob-b", skus.plenty, 1)
    services.profiles.put_profile(
        bob, "", "p1", FitProfile(body=BodyMeasurements(height_mm=1700.0), left_foot=FootMeasurements(length_mm=250.0))
    )
    services.profiles.put_profile(
        kiosk, kiosk_cart, "p2",
        FitProfile(left_foot=FootMeasurements(length_mm=262.0), right_foot=FootMeasurements(length_mm=264.0)),
    )
    code = services.pairing.create_code(kiosk, kiosk_cart)

    result = services.pairing.claim(bob, code.qr_payload)

    cart = result.cart
    assert cart.cart_id == kiosk_cart and cart.owner_shopper_id == bob.subject_id
    assert {line.sku: line.quantity for line in cart.lines} == {skus.plenty: 2, skus.missing: 2}
    merged = services.carts.get_cart(bob, old)
    assert merged.status is CartStatus.MERGED and merged.merged_into == kiosk_cart
    assert [c.kind for c in result.changes] == [ChangeKind.MERGED, ChangeKind.CLAIMED]
    assert result.profile.left_foot.length_mm == 262.0  # the kiosk scan is newer
    assert result.profile.right_foot.length_mm == 264.0
    assert result.profile.body.height_mm == 1700.0
    assert services.profiles.get_profile(bob, "") == result.profile
    assert services.profiles.get_profile(kiosk, kiosk_cart).left_foot is None  # the anonymous copy is gone
    with pytest.raises(FailedPrecondition, match="already used"):
        services.pairing.claim(shopper(services, "eve@example.com"), code.code)


def test_expired_unknown_and_malformed_codes_are_refused(services: Services, kiosk: Principal, kiosk_cart: str) -> None:
    carol = shopper(services, "carol@example.com")
    expired = PairingService(services.database, services.pairing.carts, ttl_ms=-1).create_code(kiosk, kiosk_cart)
    with pytest.raises(FailedPrecondition, match="expired"):
        services.pairing.claim(carol, expired.code)
    guess = "".join(ALPHABET[(ALPHABET.index(ch) + 1) % len(ALPHABET)] for ch in expired.code)
    with pytest.raises(NotFound, match="unknown"):
        services.pairing.claim(carol, guess)
    with pytest.raises(InvalidArgument, match="code"):
        services.pairing.claim(carol, "0O1IL!")
    assert services.carts.get_cart(kiosk, kiosk_cart).owner_shopper_id is None


def test_guessing_is_rate_limited_per_caller(services: Services, kiosk: Principal, kiosk_cart: str) -> None:
    mallory, dave = shopper(services, "mallory@example.com"), shopper(services, "dave@example.com")
    code = services.pairing.create_code(kiosk, kiosk_cart)
    for attempt in range(5):
        with pytest.raises(NotFound):
            services.pairing.claim(mallory, f"{attempt + 2}" * CODE_LENGTH)
    with pytest.raises(RateLimited):
        services.pairing.claim(mallory, code.code)  # even the right code, once over the limit
    assert services.pairing.claim(dave, code.code).cart.owner_shopper_id == dave.subject_id


def test_only_kiosks_create_and_only_shoppers_claim(services: Services, kiosk: Principal, kiosk_cart: str) -> None:
    frank = shopper(services, "frank@example.com")
    with pytest.raises(PermissionDenied):
        services.pairing.create_code(frank, kiosk_cart)
    with pytest.raises(PermissionDenied):
        services.pairing.create_code(device(services), kiosk_cart)
    code = services.pairing.create_code(kiosk, kiosk_cart)
    with pytest.raises(PermissionDenied):
        services.pairing.claim(kiosk, code.code)
