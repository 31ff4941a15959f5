"""Garment images for every catalog top and bottom: the procedural generator, the
committed PNGs (first colour) with their anchor sidecars, and a cache for other colours.

``garment_image_path(product, colour_code)`` is what the AR mirror calls.
"""
from __future__ import annotations

import logging
from pathlib import Path

from assets.garments.generator import layout_bottom, layout_top, paint_garment, write_garment
from assets.garments.styles import garment_style_for
from assets.shoes import cache_dir
from assets.shoes.palette import colour_rgb
from tryon.fit.catalog import ProductSeed

_LOGGER = logging.getLogger(__name__)

GARMENTS_DIR = Path(__file__).resolve().parent


def write_product_garment(product: ProductSeed, path: Path, colour_code: str | None = None) -> Path:
    """Draw ``product`` in one of its colours (default the first) to ``path`` (+ sidecar)."""
    colours = {c.code: c for c in product.colours}
    code = colour_code or product.colours[0].code
    if code not in colours:
        raise ValueError(f"product {product.product_id} has no colour {code!r}; colours: {sorted(colours)}")
    style = garment_style_for(product.category, product.name, product.description)
    drawing = layout_top(style) if product.category == "tops" else layout_bottom(style)
    rgba = paint_garment(drawing, style, colour_rgb(colours[code].name), product.brand)
    return write_garment(rgba, drawing, path)


def garment_image_path(product: ProductSeed, colour_code: str | None = None) -> Path:
    """The garment PNG of ``product`` in that colour: the committed one or a cached generated one."""
    colour = colour_code or product.colours[0].code
    committed = GARMENTS_DIR / f"{product.product_id}.png"
    if colour == product.colours[0].code and committed.is_file():
        return committed
    cached = cache_dir() / "garments" / f"{product.product_id}-{colour}.png"
    if not cached.is_file():
        _LOGGER.info("generating garment image %s", cached.name)
        write_product_garment(product, cached, colour)
    return cached
