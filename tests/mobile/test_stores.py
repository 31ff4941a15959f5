"""Stock on the phone: the size filter with "in stock at my store", and the endless aisle on the product
page (a size the shopper's store lacks says when it would be delivered)."""
from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from cloud.client import SyncClient
from tests.mobile.conftest import Cloud, failed_step, play, translate

pytestmark = pytest.mark.slow

SCRIPT = """
wait catalog 40
idle 30
tap {{Search shoes and clothes}}
type {name}
key enter
idle
tap {name}
wait product
idle 30
tap {size}
expect "{estimate}" 20
screenshot {lang}-product-endless-aisle
"""
ESTIMATE = ("{{Not at {store} in this size: delivered to your home in {low} to {high} days"
            "|store={store_name}|low={days_low}|high={days_high}}}")


async def _missing_size(cloud: Cloud) -> dict[str, object]:
    """A shoe with a unique name whose first colour lacks a size at the cloud's first store."""
    async with SyncClient(cloud.target) as browser:
        store = (await browser.list_stores())[0]
        assert store.ship_days == (2, 5)  # the seed's estimate, carried by ListStores
        shoes = (await browser.list_products(category="shoes", page_size=100)).products
        names = Counter(p.name for p in shoes)
        for product in shoes:
            if names[product.name] > 1:
                continue
            first = [v for v in product.variants if v.colour == product.variants[0].colour]
            levels = await browser.stock(store.store_id, [v.sku for v in first])
            missing = [v for v in first if levels.get(v.sku, 0) == 0]
            if missing:
                return {"name": product.name, "size": missing[0].size_label, "store_name": store.name,
                        "days_low": store.ship_days[0], "days_high": store.ship_days[1]}
    raise AssertionError("every shoe's first colour is in stock in every size")


FILTER = """
wait catalog 40
idle 30
tap {{Any size}}
tap {{Size {size}|size=44}}
idle
expect "{{{count} products|count={with_size}}}"
tap {{In stock at my store}}
idle
expect "{{{count} products|count={in_stock}}}"
screenshot {lang}-catalog-size-in-stock
"""


async def _size_counts(cloud: Cloud) -> dict[str, int]:
    async with SyncClient(cloud.target) as browser:
        store = (await browser.list_stores())[0]
        products = (await browser.list_products(page_size=100)).products
        with_size = [p for p in products if any(v.size_label == "44" for v in p.variants)]
        levels = await browser.stock(store.store_id, [v.sku for p in with_size for v in p.variants if v.size_label == "44"])
        in_stock = [p for p in with_size if any(levels.get(v.sku, 0) > 0 for v in p.variants if v.size_label == "44")]
    assert 0 < len(in_stock) < len(with_size) < len(products)  # each filter must narrow the list
    return {"with_size": len(with_size), "in_stock": len(in_stock)}


def test_size_and_in_stock_filters_narrow_the_catalog(cloud: Cloud, tmp_path: Path, artefacts: Path) -> None:
    script = FILTER.replace("{lang}", "zh_CN")
    for name, value in asyncio.run(_size_counts(cloud)).items():
        script = script.replace("{" + name + "}", str(value))
    code, report = play(cloud, translate(script, "zh_CN"), tmp_path / "app", artefacts, lang="zh_CN")
    assert code == 0, failed_step(report)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_missing_size_shows_its_delivery_estimate(cloud: Cloud, tmp_path: Path, artefacts: Path, lang: str) -> None:
    values = {**asyncio.run(_missing_size(cloud)), "lang": lang}
    script = SCRIPT.replace("{estimate}", ESTIMATE)
    for name, value in values.items():
        script = script.replace("{" + name + "}", str(value))
    code, report = play(cloud, translate(script, lang), tmp_path / "app", artefacts, lang=lang)
    assert code == 0, failed_step(report)
