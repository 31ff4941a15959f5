"""Resolve what to try on: a catalog SKU, a shoe model file or a garment image, into a try-on."""
from __future__ import annotations

from pathlib import Path

from tryon.ar.errors import ArInputError
from tryon.ar.garment import GarmentTryOn, load_garment
from tryon.ar.mesh import DEFAULT_MAX_TRIANGLES, load_shoe_model
from tryon.ar.render import ShoeRenderer
from tryon.ar.shoes import ShoeTryOn


def asset_for_sku(sku: str) -> tuple[str, Path]:
    """(category, model path) of a catalog SKU ``{product_id}-{colour}-{size}``; generated on first use."""
    from assets.catalog import load_seed

    seed = load_seed()
    variant = next((v for v in seed.variants() if v.sku == sku), None)
    if variant is None:
        products = sorted(p.product_id for p in seed.products)
        raise ArInputError(f"unknown SKU {sku!r}; expected {{product_id}}-{{colour}}-{{size}} with a product among "
                           f"{', '.join(products[:5])}, ...", sku=sku)
    product = next(p for p in seed.products if p.product_id == variant.product_id)
    if product.category == "shoes":
        from assets.shoes import shoe_model_path

        return "shoes", shoe_model_path(product, variant.colour.code, variant.size_label)
    from assets.garments import garment_image_path

    return product.category, garment_image_path(product, variant.colour.code)


def build_tryon(*, shoe: str | Path | None = None, garment: str | Path | None = None, sku: str | None = None,
                renderer: ShoeRenderer | None = None, max_triangles: int = DEFAULT_MAX_TRIANGLES,
                variant: str | None = None) -> ShoeTryOn | GarmentTryOn:
    """One try-on from exactly one of ``shoe`` (glTF/GLB, optionally a material ``variant``),
    ``garment`` (PNG + sidecar) or ``sku``."""
    given = [name for name, value in (("shoe", shoe), ("garment", garment), ("sku", sku)) if value]
    if len(given) != 1:
        raise ArInputError(f"give exactly one of --shoe, --garment or --sku; got {given or 'none'}")
    if sku:
        category, path = asset_for_sku(sku)
        shoe, garment = (path, None) if category == "shoes" else (None, path)
    if variant is not None and not shoe:
        raise ArInputError("a material variant applies to a shoe model (--shoe) only")
    if shoe:
        model = load_shoe_model(shoe, max_triangles=max_triangles, variant=variant)
        return ShoeTryOn(model, renderer or ShoeRenderer())
    return GarmentTryOn(load_garment(garment))
