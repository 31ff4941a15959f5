"""The size advice on product pages: ``tryon.fit`` (the kiosk's engine) on the shopper's saved scan.

The cloud's fit profile holds measurements only; the engine needs the product's lasts or
size chart, which ship with the catalog seed (``assets.catalog``), as on the kiosk.
"""
from __future__ import annotations

import functools

from assets.catalog import load_seed
from cloud.client import FitProfile
from tryon.fit import SizeRecommendation, UnknownProductError, measurements_from_json
from tryon.fit.catalog import ProductSeed
from tryon.fit.recommend import recommend_size


@functools.cache
def _products() -> dict[str, ProductSeed]:
    return {product.product_id: product for product in load_seed().products}


def recommend(product_id: str, category: str, profile: FitProfile) -> SizeRecommendation | None:
    """The recommended size, or None when the scan has nothing for this kind of product (feet for tops)."""
    product = _products().get(product_id)
    if product is None:
        raise UnknownProductError(f"no fit data for {product_id!r} in this app's catalog", product_id=product_id)
    if category == "shoes":
        if not (profile.left_foot or profile.right_foot):
            return None
        doc = {"kind": "foot", "left": profile.left_foot or None, "right": profile.right_foot or None}
    else:
        if not profile.body:
            return None
        doc = {"kind": "body", "measurements": profile.body}
    return recommend_size(product, measurements_from_json(doc))
