"""The committed catalog seed: loads, is complete and consistent, and matches its generator."""
from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from assets.catalog import load_seed
from assets.catalog.generate import build_catalog, main, stale_files
from assets.catalog.seed import SEED_DIR, SeedError
from tryon.fit.lasts import brand_grading, shoe_last
from tryon.fit.size_systems import SizeSystem, last_length_mm, size_label, us_system


@pytest.fixture(scope="module")
def seed():
    return load_seed()


def test_seed_has_the_promised_breadth(seed) -> None:
    assert len(seed.products) >= 40
    assert {s.city for s in seed.stores} == {"Shanghai", "Beijing", "Shenzhen"}
    assert all(s.timezone == "Asia/Shanghai" for s in seed.stores)
    categories = Counter(p.category for p in seed.products)
    assert categories["shoes"] >= 20 and categories["tops"] >= 8 and categories["bottoms"] >= 8
    assert len({p.brand for p in seed.products if p.category == "shoes"}) >= 4
    assert {p.gender for p in seed.products} == {"men", "women", "unisex"}
    assert (seed.currency, seed.secondary_currency) == ("CNY", "USD")
    assert seed.secondary_per_primary == Decimal("0.1380")


def test_ids_and_skus_are_unique(seed) -> None:
    ids = [p.product_id for p in seed.products]
    assert len(ids) == len(set(ids))
    skus = [v.sku for v in seed.variants()]
    assert len(skus) == len(set(skus))
    assert len({s.store_id for s in seed.stores}) == 3


def test_prices_are_integer_minor_units_and_convert(seed) -> None:
    for product in seed.products:
        assert isinstance(product.price_minor, int) and product.price_minor > 0
    # 699.00 CNY at 0.1380 USD/CNY = 96.462 USD -> 9646 cents (half-up).
    assert seed.secondary_price_minor(69900) == 9646


def test_every_stock_row_is_valid_and_single(seed) -> None:
    skus = {v.sku for v in seed.variants()}
    stores = {s.store_id for s in seed.stores}
    keys = [(row.store_id, row.sku) for row in seed.stock]
    assert len(keys) == len(set(keys))
    for row in seed.stock:
        assert row.store_id in stores and row.sku in skus
        assert isinstance(row.on_hand, int) and row.on_hand >= 0


def test_stock_needs_the_endless_aisle(seed) -> None:
    """Some products are absent from a store, some sizes missing in one store but held in another."""
    stocked = defaultdict(set)
    for row in seed.stock:
        if row.on_hand > 0:
            stocked[row.sku].add(row.store_id)
    products_by_store = defaultdict(set)
    for row in seed.stock:
        products_by_store[row.store_id].add(row.sku.rsplit("-", 2)[0])
    all_ids = {p.product_id for p in seed.products}
    for store in seed.stores:
        assert products_by_store[store.store_id] < all_ids  # every store lacks some product
    assert set().union(*products_by_store.values()) == all_ids  # every product is carried somewhere
    partial = [sku for sku, stores in stocked.items() if 0 < len(stores) < 3]
    assert len(partial) > 100


def test_shoe_sizes_follow_the_brand_grading(seed) -> None:
    for product in (p for p in seed.products if p.category == "shoes"):
        grading = brand_grading(product.brand)
        assert product.model_uri == f"assets/shoes/{product.product_id}.glb"
        assert product.size_labels == grading.size_run(product.gender)
        assert any("." in label for label in product.size_labels) == grading.half_sizes
        for size in product.shoe_sizes:
            last = shoe_last(product, size.size_label)
            assert size.last_length_mm == last.length_mm
            assert size.last_ball_girth_mm == last.ball_girth_mm
            assert abs(size.mondopoint_mm - (last.length_mm - last.toe_allowance_mm)) <= 2.5
            nominal = last_length_mm(SizeSystem.EU, size.eu)
            assert size.uk == size_label(SizeSystem.UK, nominal)
            assert size.us == size_label(us_system(product.gender), nominal)
        lengths = [s.last_length_mm for s in product.shoe_sizes]
        girths = [s.last_ball_girth_mm for s in product.shoe_sizes]
        assert lengths == sorted(lengths) and girths == sorted(girths)


def test_clothing_has_charts_with_ease(seed) -> None:
    for product in (p for p in seed.products if p.category != "shoes"):
        chart = product.size_chart
        assert chart is not None and product.model_uri == f"assets/garments/{product.product_id}.png"
        assert len(chart.rows) >= 6
        for row in chart.rows:
            assert row.waist_min_mm < row.waist_max_mm and row.hip_min_mm < row.hip_max_mm
            if product.category == "tops":
                assert row.chest_min_mm < row.chest_max_mm and row.height_min_mm < row.height_max_mm
    trousers = [p for p in seed.products if p.size_labels[0].startswith("W")]
    assert trousers and all(r.inseam_mm > 700 for p in trousers for r in p.size_chart.rows)


def test_generator_output_equals_the_committed_files() -> None:
    assert stale_files() == [], "run: .venv/bin/python -m assets.catalog.generate"


def test_generator_writes_a_loadable_seed_and_check_detects_staleness(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--out", str(tmp_path), "--check"]) == 0
    assert len(load_seed(tmp_path).products) == len(json.loads(build_catalog()["products.json"])["products"])
    (tmp_path / "stock.json").write_text("[]\n", encoding="utf-8")
    assert main(["--out", str(tmp_path), "--check"]) == 1


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("products.json", "{not json", "not valid JSON"),
        ("stock.json", '[{"store_id": "sh-jingan", "sku": "nope-BLK-42", "on_hand": 1}]', "unknown store or SKU"),
    ],
)
def test_malformed_seed_is_refused(tmp_path: Path, file_name: str, text: str, message: str) -> None:
    for name in ("stores.json", "products.json", "stock.json"):
        shutil.copy(SEED_DIR / name, tmp_path / name)
    (tmp_path / file_name).write_text(text, encoding="utf-8")
    with pytest.raises(SeedError, match=message):
        load_seed(tmp_path)
