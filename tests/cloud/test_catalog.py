"""Catalog search, filters, paging, size systems and stock, checked against the seed itself."""
from __future__ import annotations

import grpc
import pytest

from assets.catalog.seed import load_seed
from cloud.api.servicers import Services
from cloud.domain.catalog import ProductFilter
from cloud.errors import InvalidArgument, NotFound
from proto.omnifit.v1 import catalog_pb2
from tests.cloud.conftest import STORE, Stubs

SEED = load_seed()


def _all_ids(services: Services, flt: ProductFilter, page_size: int) -> list[str]:
    ids, token = [], ""
    while True:
        page = services.catalog.list_products(flt, page_size=page_size, page_token=token)
        ids += [p.product_id for p in page.products]
        token = page.next_page_token
        if not token:
            return ids


def test_search_words_must_all_match_name_brand_or_description(services: Services) -> None:
    words = ["running", "kestrel"]
    expected = sorted(
        p.product_id for p in SEED.products if all(w in f"{p.name} {p.brand} {p.description}".lower() for w in words)
    )
    assert expected, "the seed should hold Kestrel running shoes"
    assert _all_ids(services, ProductFilter(query="Running KESTREL"), page_size=3) == expected


@pytest.mark.parametrize(
    ("flt", "keep"),
    [
        (ProductFilter(category="shoes"), lambda p: p.category == "shoes"),
        (ProductFilter(category="tops", gender="women"), lambda p: p.category == "tops" and p.gender in ("women", "unisex")),
        (ProductFilter(brand="kestrel athletics"), lambda p: p.brand == "Kestrel Athletics"),
        (ProductFilter(max_price_minor=30000), lambda p: p.price_minor <= 30000),
    ],
)
def test_filters_select_what_the_seed_says(services: Services, flt: ProductFilter, keep) -> None:  # type: ignore[no-untyped-def]
    expected = sorted(p.product_id for p in SEED.products if keep(p))
    assert expected
    assert _all_ids(services, flt, page_size=7) == expected


def test_in_stock_only_follows_the_store(services: Services) -> None:
    held = {s.sku for s in SEED.stock if s.store_id == STORE and s.on_hand > 0}
    expected = sorted(p.product_id for p in SEED.products if any(v.sku in held for v in p.variants()))
    assert _all_ids(services, ProductFilter(store_id=STORE, in_stock_only=True), page_size=10) == expected


def test_paging_is_stable_and_counts_the_whole_result(services: Services) -> None:
    first = services.catalog.list_products(ProductFilter(), page_size=10)
    assert first.total_size == len(SEED.products)
    assert len(first.products) == 10 and first.next_page_token
    assert _all_ids(services, ProductFilter(), page_size=10) == sorted(p.product_id for p in SEED.products)
    with pytest.raises(InvalidArgument, match="other filters"):
        services.catalog.list_products(ProductFilter(category="shoes"), page_size=10, page_token=first.next_page_token)
    with pytest.raises(InvalidArgument, match="page_token"):
        services.catalog.list_products(ProductFilter(), page_token="garbage!")
    with pytest.raises(InvalidArgument, match="page_size"):
        services.catalog.list_products(ProductFilter(), page_size=101)


def test_shoes_carry_four_size_systems_and_clothes_a_size_chart(services: Services) -> None:
    shoe_seed = next(p for p in SEED.products if p.category == "shoes")
    shoe = services.catalog.get_product(shoe_seed.product_id)
    assert len(shoe.variants) == len(shoe_seed.variants())
    size = shoe.variants[0].shoe_size
    assert size == shoe_seed.shoe_sizes[0]
    assert size.eu and size.us and size.uk and size.mondopoint_mm > 200
    top_seed = next(p for p in SEED.products if p.category == "tops")
    top = services.catalog.get_product(top_seed.product_id)
    assert top.size_chart == top_seed.size_chart
    assert top.price.currency == SEED.currency and top.price_secondary.currency == SEED.secondary_currency
    assert top.price_secondary.minor == SEED.secondary_price_minor(top_seed.price_minor)


def test_stock_levels_and_unknowns(services: Services) -> None:
    product = SEED.products[0]
    levels = services.catalog.get_stock(STORE, [], product.product_id)
    on_hand = {s.sku: s.on_hand for s in SEED.stock if s.store_id == STORE}
    assert [(lv.sku, lv.on_hand) for lv in levels] == [(v.sku, on_hand.get(v.sku, 0)) for v in product.variants()]
    with pytest.raises(NotFound, match="NOPE-SKU"):
        services.catalog.get_stock(STORE, ["NOPE-SKU"])
    with pytest.raises(NotFound, match="store_id"):
        services.catalog.get_stock("atlantis", [product.variants()[0].sku])
    with pytest.raises(NotFound, match="product_id"):
        services.catalog.get_product("no-such-product")


def test_catalog_over_grpc_is_public(stubs: Stubs) -> None:
    response = stubs.catalog.ListProducts(
        catalog_pb2.ListProductsRequest(category=catalog_pb2.CATEGORY_SHOES, page={"page_size": 5})
    )
    assert len(response.products) == 5 and response.page.next_page_token
    assert all(p.category == catalog_pb2.CATEGORY_SHOES and p.variants[0].shoe_size.mondopoint_mm for p in response.products)
    assert [s.store_id for s in stubs.catalog.ListStores(catalog_pb2.ListStoresRequest()).stores] == sorted(s.store_id for s in SEED.stores)
    with pytest.raises(grpc.RpcError) as err:
        stubs.catalog.ListProducts(catalog_pb2.ListProductsRequest(category=99))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "category" in err.value.details()
