"""Resolve what to try on: a catalog SKU, a shoe model file or a garment image, into a try-on.

Lace-up trainers and sneakers in the catalog are drawn with the real scanned
Materials Variants Shoe (© 2021 Shopify, CC BY 4.0, from ``shared/data/shoes``),
its colourway chosen by the SKU's colour; other styles (boots, pumps, oxfords, ...)
and machines without the shared data use the generated model of the product.
"""
from __future__ import annotations

from pathlib import Path

from tryon.ar.errors import ArInputError
from tryon.ar.garment import GarmentTryOn, load_garment
from tryon.ar.mesh import DEFAULT_MAX_TRIANGLES, load_shoe_model
from tryon.ar.render import ShoeRenderer
from tryon.ar.shoes import ShoeTryOn

# Catalog shoe styles whose cut the real sneaker model matches (see assets.shoes.styles).
REAL_SHOE_STYLES = frozenset({"runner", "court", "skate", "walker"})
REAL_SHOE_CREDIT = "Materials Variants Shoe (c) 2021 Shopify, CC BY 4.0 (KhronosGroup glTF-Sample-Assets)"
# Colour codes to the model's colourways by their look: "midnight" is teal-blue, "beach" a light
# pink-grey, "street" a dark grey.
_BLUE = frozenset({"NVY", "SKY"})
_LIGHT = frozenset({"WHT", "CRM", "SND", "CRL", "TAN"})


def real_shoe_path() -> Path:
    """The shared real shoe model (it may be absent on a machine without ../shared)."""
    from omnifit.shared import SHARED_DATA

    return SHARED_DATA / "shoes" / "MaterialsVariantsShoe" / "glTF" / "MaterialsVariantsShoe.gltf"


def real_shoe_for(style: str, colour_code: str) -> tuple[Path, str] | None:
    """(model, colourway) of the real shoe for a catalog style and colour, or None when it does not fit."""
    path = real_shoe_path()
    if style not in REAL_SHOE_STYLES or not path.is_file():
        return None
    variant = "midnight" if colour_code in _BLUE else "beach" if colour_code in _LIGHT else "street"
    return path, variant


def shoe_asset_for_sku(sku: str) -> tuple[Path, str | None]:
    """(model path, material variant or None) the mirror draws for a shoe SKU."""
    from assets.catalog import load_seed
    from assets.shoes.styles import style_for

    category, path = asset_for_sku(sku, real=False)
    if category != "shoes":
        raise ArInputError(f"SKU {sku!r} is not a shoe", sku=sku)
    seed = load_seed()
    variant = next(v for v in seed.variants() if v.sku == sku)
    product = next(p for p in seed.products if p.product_id == variant.product_id)
    real = real_shoe_for(style_for(product.name, product.description).name, variant.colour.code)
    return real if real is not None else (path, None)


def asset_for_sku(sku: str, *, real: bool = True) -> tuple[str, Path]:
    """(category, model path) of a catalog SKU ``{product_id}-{colour}-{size}``; generated on first use.

    With ``real`` a sneaker SKU gets the real shoe model (:func:`shoe_asset_for_sku` also gives its colourway).
    """
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
        from assets.shoes.styles import style_for

        found = real_shoe_for(style_for(product.name, product.description).name, variant.colour.code) if real else None
        return "shoes", found[0] if found else shoe_model_path(product, variant.colour.code, variant.size_label)
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
        category, path = asset_for_sku(sku, real=False)
        shoe, garment = (path, None) if category == "shoes" else (None, path)
        if category == "shoes":
            if variant is not None:
                raise ArInputError("--variant applies to a --shoe model; a SKU's colour picks its colourway")
            shoe, variant = shoe_asset_for_sku(sku)
    if variant is not None and not shoe:
        raise ArInputError("a material variant applies to a shoe model (--shoe) only")
    if shoe:
        model = load_shoe_model(shoe, max_triangles=max_triangles, variant=variant)
        return ShoeTryOn(model, renderer or ShoeRenderer())
    return GarmentTryOn(load_garment(garment))
