"""Fit reports: finding the item, availability in this store or the endless aisle, and suggestions."""
from __future__ import annotations

import json

import pytest

from tests.tryon.fit.conftest import make_body, make_foot
from tryon.fit.errors import FitError, MeasurementError, UnknownProductError
from tryon.fit.recommend import (
    Availability,
    find_product,
    fit_report,
    size_availability,
    stock_levels,
    suggest_products,
)
from tryon.fit.shoes import Feet

FEET = Feet(left=make_foot(266.0, 244.0, 248.0, 63.9), right=make_foot(264.0, 243.0))
BODY = make_body(975, 845, 980, height=1760, inseam=800)


def test_find_product_by_variant_sku_or_product_id(catalog) -> None:
    product, variant = find_product(catalog, "ka-swift-m-BLK-42.5")
    assert product.product_id == "ka-swift-m" and variant.size_label == "42.5" and variant.colour.code == "BLK"
    product, variant = find_product(catalog, "ka-swift-m")
    assert product.product_id == "ka-swift-m" and variant is None
    # "ka-swift-m" is also the prefix of "ka-swift-wide-m-...": that SKU must not resolve to it.
    product, variant = find_product(catalog, "ka-swift-wide-m-GRY-44")
    assert product.product_id == "ka-swift-wide-m"


@pytest.mark.parametrize("sku", ["ka-swift-m-BLK-99", "nope", "ka-swift-m-PNK-42", ""])
def test_unknown_sku_names_it(catalog, sku: str) -> None:
    with pytest.raises(UnknownProductError, match=f"unknown SKU or product id {sku!r}"):
        find_product(catalog, sku)


def test_availability_in_store_endless_aisle_and_none(products) -> None:
    product = products["ka-swift-m"]
    stock = {("sh-jingan", "ka-swift-m-BLK-42"): 2, ("bj-sanlitun", "ka-swift-m-WHT-42.5"): 1,
             ("sh-jingan", "ka-swift-m-NVY-42.5"): 0, ("sz-futian", "ka-swift-m-NVY-43"): 0}
    here = size_availability(product, "42", "sh-jingan", stock)
    assert (here.availability, here.in_store_skus, here.other_stores) == (
        Availability.IN_STORE, ("ka-swift-m-BLK-42",), ())
    aisle = size_availability(product, "42.5", "sh-jingan", stock)
    assert (aisle.availability, aisle.in_store_skus, aisle.other_stores) == (
        Availability.ENDLESS_AISLE, (), ("bj-sanlitun",))
    assert size_availability(product, "43", "sh-jingan", stock).availability is Availability.UNAVAILABLE
    assert size_availability(product, "42", None, stock).availability is Availability.ENDLESS_AISLE


def test_report_for_a_variant_sku(catalog) -> None:
    report = fit_report(catalog, "ka-swift-m-BLK-42.5", FEET, store_id="sh-jingan")
    data = json.loads(json.dumps(report.to_json_dict()))
    assert data["recommendation"]["size_label"] == "42"
    assert data["requested"]["size_label"] == "42.5" and data["requested"]["fit"]["size_label"] == "42.5"
    assert data["availability"]["size_label"] == "42"
    levels = stock_levels(catalog.stock)
    held_here = [sku for sku in data["availability"]["in_store_skus"]]
    assert all(levels[("sh-jingan", sku)] > 0 for sku in held_here)
    assert (data["availability"]["availability"] == "in_store") == bool(held_here)


def test_suggestions_fit_well_are_available_and_in_store_first(catalog) -> None:
    levels = stock_levels(catalog.stock)
    found = suggest_products(catalog.products, FEET, store_id="bj-sanlitun", stock=levels,
                             exclude=("ka-swift-m",), genders=("men",), limit=50)
    assert found, "some other men's or unisex shoe fits an average foot"
    assert all(s.product.product_id != "ka-swift-m" for s in found)
    assert all(s.product.category == "shoes" and s.product.gender in {"men", "unisex"} for s in found)
    assert all(s.recommendation.fit.fits_well for s in found)
    groups = [s.availability.availability for s in found]
    assert Availability.UNAVAILABLE not in groups
    assert groups == sorted(groups, key=lambda a: a is not Availability.IN_STORE)
    for suggestion in found:
        skus = suggestion.availability.in_store_skus
        assert all(levels[("bj-sanlitun", sku)] > 0 for sku in skus)


def test_suggestions_use_the_stock_given(catalog) -> None:
    """Emptying the store moves every suggestion to the endless aisle; emptying all removes them."""
    levels = stock_levels(catalog.stock)
    elsewhere = {key: units for key, units in levels.items() if key[0] != "bj-sanlitun"}
    found = suggest_products(catalog.products, BODY, store_id="bj-sanlitun", stock=elsewhere, limit=50)
    assert found and all(s.availability.availability is Availability.ENDLESS_AISLE for s in found)
    assert {s.product.category for s in found} <= {"tops", "bottoms"}
    assert suggest_products(catalog.products, BODY, store_id="bj-sanlitun", stock={}, limit=50) == ()


def test_measurements_must_match_the_item(catalog) -> None:
    with pytest.raises(MeasurementError, match="is a shoe: expected foot measurements"):
        fit_report(catalog, "ka-swift-m", BODY)
    with pytest.raises(MeasurementError, match="is tops: expected body measurements"):
        fit_report(catalog, "hp-crew-m-WHT-M", FEET)


def test_unknown_store_is_refused(catalog) -> None:
    with pytest.raises(FitError, match="unknown store 'paris'"):
        fit_report(catalog, "ka-swift-m", FEET, store_id="paris")
