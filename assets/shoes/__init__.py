"""Shoe models for every catalog shoe: the procedural generator on each product's own
last, the committed GLBs (first colour, middle size) and a cache for other variants.

``shoe_model_path(product, colour_code, size_label)`` is what the AR mirror calls:
the committed ``assets/shoes/<product_id>.glb`` for the product's reference
variant, otherwise a GLB generated on first use under the cache folder
(``$OMNIFIT_CACHE`` or ``~/.cache/omnifit``) and reused after.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from assets.shoes.generator import ShoeColours, ShoeMesh, build_shoe, write_glb
from assets.shoes.palette import colour_rgb, contrast, shade, stable_colour
from assets.shoes.styles import style_for
from tryon.fit.catalog import ProductSeed

_LOGGER = logging.getLogger(__name__)

SHOES_DIR = Path(__file__).resolve().parent
SOLE_COLOURS = {"foam": (236, 236, 232), "cupsole": (240, 240, 236), "leather": (62, 42, 30), "lug": (48, 48, 50)}


def cache_dir() -> Path:
    """Where generated variants are kept (created on demand)."""
    root = os.environ.get("OMNIFIT_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "omnifit"


def reference_size(product: ProductSeed) -> str:
    """The size the committed model is built on: the middle of the product's run."""
    labels = product.size_labels
    if not labels:
        raise ValueError(f"product {product.product_id} has no sizes")
    return labels[len(labels) // 2]


def colourway(product: ProductSeed, colour_code: str | None = None) -> ShoeColours:
    """Upper, accent (the brand's), sole and lace colours of one of ``product``'s colours."""
    colours = {c.code: c for c in product.colours}
    code = colour_code or product.colours[0].code
    if code not in colours:
        raise ValueError(f"product {product.product_id} has no colour {code!r}; colours: {sorted(colours)}")
    upper = colour_rgb(colours[code].name)
    style = style_for(product.name, product.description)
    accent = stable_colour(product.brand)
    if style.upper_finish in ("leather", "suede") and not style.side_stripe:
        accent = shade(upper, 0.7)
    lace = shade(upper, 0.6) if style.sole_finish == "leather" else contrast(shade(upper, 0.9))
    return ShoeColours(upper=upper, accent=accent, sole=SOLE_COLOURS[style.sole_finish], lace=lace)


def build_product_shoe(product: ProductSeed, colour_code: str | None = None, size_label: str | None = None) -> ShoeMesh:
    """The procedural shoe of ``product`` in a colour and size (defaults: first colour, reference size)."""
    from tryon.fit.lasts import shoe_last

    if product.category != "shoes":
        raise ValueError(f"product {product.product_id} is {product.category}, not shoes")
    last = shoe_last(product, size_label or reference_size(product))
    return build_shoe(last, style_for(product.name, product.description), colourway(product, colour_code))


def shoe_model_path(product: ProductSeed, colour_code: str | None = None, size_label: str | None = None) -> Path:
    """A GLB of ``product`` in that colour and size: the committed one or a cached generated one."""
    colour = colour_code or product.colours[0].code
    size = size_label or reference_size(product)
    committed = SHOES_DIR / f"{product.product_id}.glb"
    if colour == product.colours[0].code and size == reference_size(product) and committed.is_file():
        return committed
    cached = cache_dir() / "shoes" / f"{product.product_id}-{colour}-{size}.glb"
    if not cached.is_file():
        _LOGGER.info("generating shoe model %s", cached.name)
        write_glb(build_product_shoe(product, colour, size), cached)
    return cached
