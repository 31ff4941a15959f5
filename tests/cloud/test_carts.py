"""Cart mutations on both databases: idempotency, versions, endless aisle, access, and no change on error."""
from __future__ import annotations

import pytest

from cloud.api.servicers import Services
from cloud.domain.types import Cart, CartStatus, ChangeKind, Fulfilment, Principal, PrincipalKind
from cloud.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, VersionConflict
from payments.money import Money
from tests.cloud.conftest import OTHER_STORE, STORE, StockedSkus, device, shopper


@pytest.fixture
def kiosk(services: Services) -> Principal:
    return device(services)


@pytest.fixture
def cart_id(services: Services, kiosk: Principal) -> str:
    return services.carts.create_cart(kiosk, STORE, "create-1").cart.cart_id


def test_create_add_update_remove_bump_versions_and_log_every_change(
    services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus
) -> None:
    carts = services.carts
    added = carts.add_line(kiosk, cart_id, "k1", skus.plenty, 2).cart
    assert added.version == 2 and len(added.lines) == 1
    line = added.lines[0]
    assert (line.sku, line.quantity, line.fulfilment) == (skus.plenty, 2, Fulfilment.STORE_PICKUP)
    assert added.subtotal == line.unit_price * 2
    updated = carts.update_line(kiosk, cart_id, "k2", line.line_id, 3, expected_version=2).cart
    assert updated.version == 3 and updated.lines[0].quantity == 3
    removed = carts.remove_line(kiosk, cart_id, "k3", line.line_id).cart
    assert removed.version == 4 and removed.lines == () and removed.subtotal.minor == 0
    log = carts.changes_after(cart_id, 0)
    assert [(c.kind, c.cart.version) for c in log] == [
        (ChangeKind.CREATED, 1),
        (ChangeKind.LINE_ADDED, 2),
        (ChangeKind.LINE_UPDATED, 3),
        (ChangeKind.LINE_REMOVED, 4),
    ]
    assert log[-1].cart == carts.get_cart(kiosk, cart_id)
    assert [c.cart.version for c in carts.changes_after(cart_id, 2)] == [3, 4]


def test_adding_the_same_sku_again_grows_its_line(services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus) -> None:
    services.carts.add_line(kiosk, cart_id, "k1", skus.missing, 1)
    cart = services.carts.add_line(kiosk, cart_id, "k2", skus.missing, 2).cart
    assert [(line.sku, line.quantity) for line in cart.lines] == [(skus.missing, 3)]


def test_same_key_replays_the_stored_result_and_changes_nothing(
    services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus
) -> None:
    first = services.carts.add_line(kiosk, cart_id, "same-key", skus.plenty, 1)
    again = services.carts.add_line(kiosk, cart_id, "same-key", skus.plenty, 1)
    assert again.change is None and again.cart == first.cart
    assert services.carts.get_cart(kiosk, cart_id).lines[0].quantity == 1
    with pytest.raises(InvalidArgument, match="idempotency_key"):
        services.carts.add_line(kiosk, cart_id, "same-key", skus.plenty, 2)
    recreated = services.carts.create_cart(kiosk, STORE, "create-1")
    assert recreated.change is None and recreated.cart.cart_id == cart_id


def test_stale_expected_version_is_a_conflict_with_the_current_version(
    services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus
) -> None:
    services.carts.add_line(kiosk, cart_id, "k1", skus.plenty, 1)
    with pytest.raises(VersionConflict, match="version 2") as err:
        services.carts.add_line(kiosk, cart_id, "k2", skus.plenty, 1, expected_version=1)
    assert err.value.current_version == 2
    assert services.carts.get_cart(kiosk, cart_id).version == 2


def test_endless_aisle_ships_what_the_store_lacks(services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus) -> None:
    cart = services.carts.add_line(kiosk, cart_id, "k1", skus.missing, 1).cart
    line = cart.lines[0]
    assert line.fulfilment is Fulfilment.SHIP_TO_HOME
    assert 0 < line.delivery_days_min <= line.delivery_days_max
    with pytest.raises(FailedPrecondition, match=skus.missing):
        services.carts.add_line(kiosk, cart_id, "k2", skus.missing, 1, pickup_only=True)
    beyond_shelf = services.carts.add_line(kiosk, cart_id, "k3", skus.plenty, skus.plenty_on_hand + 1).cart
    assert {(line.sku, line.fulfilment) for line in beyond_shelf.lines} >= {(skus.plenty, Fulfilment.SHIP_TO_HOME)}


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"sku": "NOPE-SKU-42"}, NotFound, "NOPE-SKU-42"),
        ({"quantity": 0}, InvalidArgument, "quantity"),
        ({"quantity": 21}, InvalidArgument, "quantity"),
        ({"idempotency_key": ""}, InvalidArgument, "idempotency_key"),
        ({"expected_version": 0}, InvalidArgument, "expected_version"),
        ({"cart_id": "cart_missing"}, NotFound, "cart_missing"),
        ({"cart_id": "bad id with spaces"}, InvalidArgument, "cart_id"),
    ],
)
def test_bad_fields_are_named_and_change_nothing(
    services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus, kwargs: dict, error: type, field: str
) -> None:
    call = {"cart_id": cart_id, "idempotency_key": "bad-1", "sku": skus.plenty, "quantity": 1, **kwargs}
    with pytest.raises(error, match=field):
        services.carts.add_line(kiosk, **call)
    assert services.carts.get_cart(kiosk, cart_id).version == 1
    assert len(services.carts.changes_after(cart_id, 0)) == 1


def test_callers_see_only_their_own_carts(services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus) -> None:
    other_kiosk_same_store = device(services)
    kiosk_elsewhere = device(services, OTHER_STORE)
    alice = shopper(services, "alice@example.com")
    staff = Principal(PrincipalKind.STAFF, "ops-1")
    for intruder in (other_kiosk_same_store, kiosk_elsewhere, alice):
        with pytest.raises(PermissionDenied):
            services.carts.get_cart(intruder, cart_id)
        with pytest.raises(PermissionDenied):
            services.carts.add_line(intruder, cart_id, "x", skus.plenty, 1)
    with pytest.raises(PermissionDenied, match="store_id"):
        services.carts.create_cart(kiosk, OTHER_STORE, "elsewhere")
    assert services.carts.get_cart(staff, cart_id).version == 1
    assert services.carts.add_line(staff, cart_id, "staff-1", skus.plenty, 1).cart.version == 2
    own = services.carts.create_cart(alice, OTHER_STORE, "alice-1").cart
    assert own.owner_shopper_id == alice.subject_id and own.status is CartStatus.OPEN
    with pytest.raises(NotFound, match="store_id"):
        services.carts.create_cart(alice, "atlantis", "alice-2")


def test_a_retry_after_the_cart_moved_on_replays_instead_of_conflicting(
    services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus
) -> None:
    first = services.carts.add_line(kiosk, cart_id, "k1", skus.plenty, 1, expected_version=1)
    services.carts.add_line(kiosk, cart_id, "k2", skus.missing, 1, expected_version=2)
    again = services.carts.add_line(kiosk, cart_id, "k1", skus.plenty, 1, expected_version=1)
    assert again.change is None and again.cart == first.cart
    assert services.carts.get_cart(kiosk, cart_id).version == 3


def test_racing_duplicates_apply_once(services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: services.carts.add_line(kiosk, cart_id, "dup", skus.plenty, 1), range(12)))
    assert sum(r.change is not None for r in results) == 1
    assert {r.cart.version for r in results} == {2}
    assert services.carts.get_cart(kiosk, cart_id).lines[0].quantity == 1


def test_concurrent_adds_of_one_sku_merge_into_one_line(services: Services, kiosk: Principal, cart_id: str, skus: StockedSkus) -> None:
    """Each writer must see the lines committed before it got the cart's lock (READ COMMITTED on PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: services.carts.add_line(kiosk, cart_id, f"same-{i}", skus.missing, 1), range(12)))
    cart = services.carts.get_cart(kiosk, cart_id)
    assert cart.version == 13
    assert [(line.sku, line.quantity) for line in cart.lines] == [(skus.missing, 12)]
    assert [c.cart.lines[0].quantity for c in services.carts.changes_after(cart_id, 1)] == list(range(1, 13))


# A snapshot as cart_changes rows written before Money was payments.money.Money hold it.
STORED_SNAPSHOT = (
    '{"cart_id":"cart_5f1c","version":3,"store_id":"sh-jingan","owner_shopper_id":null,'
    '"created_by_device":"dev_1f2e","status":"open","merged_into":null,"lines":[{"line_id":"ln_1",'
    '"sku":"ka-swift-w-eu38-white","product_id":"ka-swift-w","name":"Swift W","size_label":"EU 38",'
    '"colour":"white","quantity":2,"unit_price":{"minor_units":129900,"currency":"CNY"},'
    '"fulfilment":"ship_to_home","delivery_days_min":2,"delivery_days_max":4}],'
    '"subtotal":{"minor_units":259800,"currency":"CNY"},"updated_at_ms":1765000000000}'
)


def test_stored_cart_snapshots_load_and_are_written_back_the_same() -> None:
    cart = Cart.from_json(STORED_SNAPSHOT)
    assert cart.subtotal == Money(259800, "CNY") and cart.lines[0].unit_price == Money(129900, "CNY")
    assert cart.lines[0].fulfilment is Fulfilment.SHIP_TO_HOME and cart.status is CartStatus.OPEN
    assert cart.to_json() == STORED_SNAPSHOT
    assert Cart.from_json(cart.to_json()) == cart
