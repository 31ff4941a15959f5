"""Brand gradings: lasts worked out by hand, the AR helper's contract, and malformed data."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tryon.fit.catalog import ProductSeed
from tryon.fit.errors import GradingError
from tryon.fit.lasts import ShoeLast, graded_last, gradings_file, load_gradings, product_lasts, shoe_last

CONTRACT_FIELDS = ("length_mm", "ball_girth_mm", "ball_width_mm", "heel_width_mm", "instep_girth_mm",
                   "toe_allowance_mm", "toe_spring_mm", "heel_height_mm")


@pytest.mark.parametrize(
    ("product_id", "size", "expected"),
    [
        # 42 x 20/3 + 1 = 281; men's reference 244 at 42; width 244 x 0.402; heel 244 x 0.262; instep +4.
        ("ka-swift-m", "42", {"length_mm": 281.0, "ball_girth_mm": 244.0, "ball_width_mm": 98.1,
                              "heel_width_mm": 63.9, "instep_girth_mm": 248.0, "toe_allowance_mm": 15.0,
                              "toe_spring_mm": 15.0, "heel_height_mm": 32.0}),
        # 38 x 20/3 = 253.3; women's 222 - 4 sizes x 4.5 = 204, narrow -6 = 198; the pump's own 22 mm allowance.
        ("mv-elise-w", "38", {"length_mm": 253.3, "ball_girth_mm": 198.0, "instep_girth_mm": 198.0,
                              "toe_allowance_mm": 22.0, "heel_height_mm": 70.0}),
        # 44 x 20/3 + 2 = 295.3; unisex 238 + 2 x 5.5 = 249, wide +6 = 255; instep +14.
        ("tf-ember-u", "44", {"length_mm": 295.3, "ball_girth_mm": 255.0, "instep_girth_mm": 269.0,
                              "toe_allowance_mm": 16.0}),
        # Half size: 40.5 x 20/3 - 1 = 269.0; unisex 235 - 1.5 x 5 = 227.5.
        ("lc-halo-u", "40.5", {"length_mm": 269.0, "ball_girth_mm": 227.5, "toe_allowance_mm": 12.0}),
    ],
)
def test_lasts_by_hand(products: dict[str, ProductSeed], product_id: str, size: str, expected: dict) -> None:
    last = shoe_last(products[product_id], size)
    for name, value in expected.items():
        assert getattr(last, name) == pytest.approx(value, abs=0.05), name


def test_every_catalog_shoe_meets_the_ar_contract(catalog) -> None:
    shoes = [p for p in catalog.products if p.category == "shoes"]
    assert shoes
    for product in shoes:
        lasts = product_lasts(product)
        assert [last.size_label for last in lasts] == list(product.size_labels)
        for last in lasts:
            assert isinstance(last, ShoeLast)
            for name in CONTRACT_FIELDS:
                assert isinstance(getattr(last, name), float), (product.product_id, name)
            assert 200 < last.length_mm < 330 and 0 < last.heel_width_mm < last.ball_width_mm < last.ball_girth_mm
            assert 10 <= last.toe_allowance_mm <= 25
        with pytest.raises(dataclasses.FrozenInstanceError):
            lasts[0].length_mm = 1.0  # type: ignore[misc]


def test_girth_grades_about_five_mm_a_size(products) -> None:
    lasts = product_lasts(products["ka-swift-m"])
    steps = {round(b.ball_girth_mm - a.ball_girth_mm, 1) for a, b in zip(lasts, lasts[1:])}
    lengths = {round(b.length_mm - a.length_mm, 1) for a, b in zip(lasts, lasts[1:])}
    assert steps == {2.5} and lengths <= {3.3, 3.4}


def test_product_without_last_code_falls_back_to_the_brands_last(products) -> None:
    bare = dataclasses.replace(products["ka-swift-w"], last_code="")
    assert shoe_last(bare, "38") == shoe_last(products["ka-swift-w"], "38")


@pytest.mark.parametrize(
    ("product_id", "size", "message"),
    [
        ("ka-swift-m", "38", "has no size '38'"),  # the men's run starts at 39
        ("mv-aubert-m", "42.5", "has no size '42.5'"),  # Verlaine makes whole sizes only
        ("hp-crew-m", "M", "not shoes"),
    ],
)
def test_sizes_the_product_is_not_made_in_are_refused(products, product_id: str, size: str, message: str) -> None:
    with pytest.raises(GradingError, match=message):
        shoe_last(products[product_id], size)


def test_unknown_brand_and_last_are_refused(products) -> None:
    with pytest.raises(GradingError, match="no last grading for brand 'Nobody'"):
        shoe_last(dataclasses.replace(products["ka-swift-m"], brand="Nobody"), "42")
    with pytest.raises(GradingError, match="has no last 'KA-NOPE'"):
        graded_last("Kestrel Athletics", "KA-NOPE", "42")
    with pytest.raises(GradingError, match="not made in EU 48"):
        graded_last("Kestrel Athletics", "KA-RUN-M", "48")


def test_malformed_gradings_file_is_refused(tmp_path: Path) -> None:
    raw = json.loads(gradings_file().read_text(encoding="utf-8"))
    del raw["brands"]["Lumen Court"]["toe_allowance_mm"]
    broken = tmp_path / "gradings.json"
    broken.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(GradingError, match="malformed"):
        load_gradings(broken)
    with pytest.raises(GradingError, match="missing"):
        load_gradings(tmp_path / "absent.json")
