"""Load the catalog seed (``assets/catalog``) into an empty database."""
from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.storage import schema
from tryon.fit.catalog import CatalogSeed, ProductSeed, VariantSeed

_LOGGER = logging.getLogger(__name__)
# Endless-aisle delivery estimate from the central warehouse, in days.
SHIP_DAYS_MIN = 2
SHIP_DAYS_MAX = 5
CATALOG_CURRENCY_KEY = "catalog_currency"


def _product_row(product: ProductSeed, seed: CatalogSeed) -> dict[str, object]:
    chart = product.size_chart
    return {
        "product_id": product.product_id,
        "name": product.name,
        "brand": product.brand,
        "category": product.category,
        "gender": product.gender,
        "description": product.description,
        "search_text": " ".join((product.name, product.brand, product.description)).lower(),
        "price_minor": product.price_minor,
        "currency": seed.currency,
        "price_secondary_minor": seed.secondary_price_minor(product.price_minor),
        "secondary_currency": seed.secondary_currency,
        "colours": json.dumps([{"code": c.code, "name": c.name} for c in product.colours]),
        "size_chart": json.dumps(
            {
                "rows": [vars(r) for r in chart.rows],
                "ease_chest_mm": chart.ease_chest_mm,
                "ease_waist_mm": chart.ease_waist_mm,
                "ease_hip_mm": chart.ease_hip_mm,
            }
        )
        if chart
        else None,
        "model_uri": product.model_uri,
    }


def _variant_row(variant: VariantSeed, position: int) -> dict[str, object]:
    shoe = variant.shoe_size
    return {
        "sku": variant.sku,
        "product_id": variant.product_id,
        "position": position,
        "colour_code": variant.colour.code,
        "colour_name": variant.colour.name,
        "size_label": variant.size_label,
        "size_eu": shoe.eu if shoe else None,
        "size_us": shoe.us if shoe else None,
        "size_uk": shoe.uk if shoe else None,
        "mondopoint_mm": shoe.mondopoint_mm if shoe else None,
        "last_length_mm": shoe.last_length_mm if shoe else None,
        "last_ball_girth_mm": shoe.last_ball_girth_mm if shoe else None,
    }


def is_seeded(conn: Connection) -> bool:
    return conn.execute(sa.select(sa.func.count()).select_from(schema.stores)).scalar_one() > 0


def seed_catalog(conn: Connection, seed: CatalogSeed) -> None:
    """Insert stores, products, variants and stock from ``seed`` (the tables must be empty)."""
    conn.execute(
        schema.stores.insert(),
        [{**vars(s), "ship_days_min": SHIP_DAYS_MIN, "ship_days_max": SHIP_DAYS_MAX} for s in seed.stores],
    )
    conn.execute(schema.products.insert(), [_product_row(p, seed) for p in seed.products])
    conn.execute(
        schema.variants.insert(),
        [_variant_row(v, i) for p in seed.products for i, v in enumerate(p.variants())],
    )
    if seed.stock:
        conn.execute(schema.stock.insert(), [{"store_id": s.store_id, "sku": s.sku, "on_hand": s.on_hand}
                                             for s in seed.stock])
        safety = [{"store_id": s.store_id, "sku": s.sku, "minimum": s.safety_stock, "reorder_quantity": s.reorder_quantity}
                  for s in seed.stock if s.safety_stock > 0]
        if safety:
            conn.execute(schema.safety_stock.insert(), safety)
    conn.execute(schema.settings.insert(), [{"key": CATALOG_CURRENCY_KEY, "value": seed.currency}])
    _LOGGER.info("seeded %d stores, %d products, %d stock rows", len(seed.stores), len(seed.products), len(seed.stock))
