"""Fit profiles and the staff audit trail, on both databases."""
from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from cloud.api.servicers import Services
from cloud.domain.types import BodyMeasurements, FitProfile, FootMeasurements, Principal, PrincipalKind
from cloud.errors import InvalidArgument, PermissionDenied
from cloud.storage import schema
from tests.cloud.conftest import STORE, StockedSkus, device, shopper


def test_put_keeps_sections_not_given_and_replays_by_key(services: Services) -> None:
    ivy = shopper(services, "ivy@example.com")
    first = services.profiles.put_profile(ivy, "", "p1", FitProfile(left_foot=FootMeasurements(length_mm=250.0, width_mm=98.0)))
    second = services.profiles.put_profile(ivy, "", "p2", FitProfile(body=BodyMeasurements(height_mm=1650.0)))
    assert second.left_foot == first.left_foot and second.body.height_mm == 1650.0 and second.right_foot is None
    assert services.profiles.put_profile(ivy, "", "p1", FitProfile(left_foot=FootMeasurements(length_mm=250.0, width_mm=98.0))) == first
    with pytest.raises(InvalidArgument, match="idempotency_key"):
        services.profiles.put_profile(ivy, "", "p1", FitProfile(left_foot=FootMeasurements(length_mm=251.0)))
    assert services.profiles.get_profile(ivy, "") == second


@pytest.mark.parametrize("bad", [-1.0, 3001.0, math.nan, math.inf])
def test_measurements_out_of_range_are_refused_by_name(services: Services, bad: float) -> None:
    jon = shopper(services, "jon@example.com")
    with pytest.raises(InvalidArgument, match=r"profile\.right_foot\.ball_girth_mm"):
        services.profiles.put_profile(jon, "", "p", FitProfile(right_foot=FootMeasurements(ball_girth_mm=bad)))
    assert services.profiles.get_profile(jon, "").right_foot is None


def test_kiosk_profiles_live_with_their_cart(services: Services) -> None:
    kiosk, stranger = device(services), device(services)
    cart_id = services.carts.create_cart(kiosk, STORE, "c").cart.cart_id
    services.profiles.put_profile(kiosk, cart_id, "p", FitProfile(left_foot=FootMeasurements(length_mm=270.0)))
    assert services.profiles.get_profile(kiosk, cart_id).left_foot.length_mm == 270.0
    with pytest.raises(PermissionDenied):
        services.profiles.get_profile(stranger, cart_id)
    with pytest.raises(InvalidArgument, match="cart_id"):
        services.profiles.get_profile(kiosk, "")


def test_staff_changes_are_audited(services: Services, skus: StockedSkus) -> None:
    kiosk, staff = device(services), Principal(PrincipalKind.STAFF, "ops-9")
    cart_id = services.carts.create_cart(kiosk, STORE, "c").cart.cart_id
    services.carts.add_line(kiosk, cart_id, "k", skus.plenty, 1)
    services.carts.add_line(staff, cart_id, "s", skus.plenty, 1)
    with services.database.read() as conn:
        rows = conn.execute(sa.select(schema.staff_audit.c.staff_id, schema.staff_audit.c.action, schema.staff_audit.c.target)).all()
    assert [tuple(r) for r in rows] == [("ops-9", "AddLine", cart_id)]

