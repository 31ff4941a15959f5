"""The catalog seed files and their loader, into the fit engine's types (``tryon.fit.catalog``).

Files (in ``assets/catalog/`` unless another folder is given):

- ``stores.json``: ``[{"store_id", "name", "city", "timezone"}]``
- ``products.json``: ``{"currency": "CNY", "secondary_currency": "USD",
  "secondary_per_primary": "0.1380", "products": [...]}``; each product has
  ``product_id, name, brand, category (shoes|tops|bottoms), gender (men|women|unisex),
  description, price_minor (int, minor units of currency), colours [{"code", "name"}],
  model_uri`` and either ``shoe_sizes`` (shoes, with ``last_code`` naming the brand's last in
  ``assets/lasts/gradings.json``) or ``size_chart`` (clothing; rows of body-measurement ranges, tops
  with a height range, bottoms with the garment inseam, plus the garment's ease over the body).
- ``stock.json``: ``[{"store_id", "sku", "on_hand", "safety_stock", "reorder_quantity"}]``; a variant
  missing here has none.

Variant SKUs are ``{product_id}-{colour code}-{size label}``; every colour comes in every size.
Lengths are millimetres, money is integer minor units (never float).
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from omnifit.errors import ErrorCode, OmnifitError
from tryon.fit.catalog import (
    CATEGORIES,
    GENDERS,
    CatalogSeed,
    ClothingSizeRow,
    ColourSeed,
    ProductSeed,
    ShoeSizeSeed,
    SizeChartSeed,
    StockSeed,
    StoreSeed,
)

SEED_DIR = Path(__file__).resolve().parent


class SeedError(OmnifitError):
    """The seed files are missing or malformed."""

    code = ErrorCode.INVALID_ARGUMENT


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SeedError(f"catalog seed file missing: {path}", path=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise SeedError(f"catalog seed file {path} is not valid JSON: {exc}", path=str(path)) from exc


def _product(raw: dict) -> ProductSeed:
    try:
        category, gender = raw["category"], raw["gender"]
        if category not in CATEGORIES:
            raise SeedError(f"product {raw['product_id']}: category {category!r}; expected one of {CATEGORIES}")
        if gender not in GENDERS:
            raise SeedError(f"product {raw['product_id']}: gender {gender!r}; expected one of {GENDERS}")
        chart = raw.get("size_chart")
        return ProductSeed(
            product_id=raw["product_id"],
            name=raw["name"],
            brand=raw["brand"],
            category=category,
            gender=gender,
            description=raw["description"],
            price_minor=int(raw["price_minor"]),
            colours=tuple(ColourSeed(**c) for c in raw["colours"]),
            model_uri=raw.get("model_uri", ""),
            shoe_sizes=tuple(ShoeSizeSeed(**s) for s in raw.get("shoe_sizes", ())),
            size_chart=SizeChartSeed(
                rows=tuple(ClothingSizeRow(**r) for r in chart["rows"]),
                ease_chest_mm=chart["ease_chest_mm"],
                ease_waist_mm=chart["ease_waist_mm"],
                ease_hip_mm=chart["ease_hip_mm"],
            )
            if chart
            else None,
            last_code=raw.get("last_code", ""),
        )
    except (KeyError, TypeError) as exc:
        raise SeedError(f"malformed product {raw.get('product_id', '?')!r}: {exc!r}") from exc


def load_seed(folder: Path | None = None) -> CatalogSeed:
    """Load and check the seed in ``folder`` (default: this package's folder)."""
    folder = Path(folder) if folder else SEED_DIR
    stores = tuple(StoreSeed(**s) for s in _read_json(folder / "stores.json"))
    catalog = _read_json(folder / "products.json")
    products = tuple(_product(p) for p in catalog["products"])
    stock = tuple(StockSeed(**s) for s in _read_json(folder / "stock.json"))
    seed = CatalogSeed(
        currency=catalog["currency"],
        secondary_currency=catalog["secondary_currency"],
        secondary_per_primary=Decimal(catalog["secondary_per_primary"]),
        stores=stores,
        products=products,
        stock=stock,
    )
    skus = {v.sku for v in seed.variants()}
    store_ids = {s.store_id for s in stores}
    for level in stock:
        if level.sku not in skus or level.store_id not in store_ids:
            raise SeedError(f"stock row names an unknown store or SKU: {level}")
    return seed
