"""Garment styles: the cut the garment generator draws for each kind of top or trousers.

Found from the product's name and description (``garment_style_for``); all
lengths are pixels of the generator's canvas, widths fractions of the base block.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GarmentStyle:
    """How one kind of garment is cut and trimmed."""

    name: str
    category: str  # "tops" or "bottoms"
    sleeves: str = "short"  # tops: "short", "long", "none"
    collar: str = "crew"  # tops: "crew", "shirt", "hood", "v", "zip"
    width: float = 1.0  # body (tops) or leg (bottoms) width over the base block
    length: float = 1.0  # hem (tops) or leg (bottoms) length over the base block
    fabric: str = "jersey"  # "jersey", "oxford", "knit", "denim", "twill", "nylon"
    pockets: bool = False


GARMENT_STYLES = {
    "tee": GarmentStyle("tee", "tops"),
    "slim_tee": GarmentStyle("slim_tee", "tops", width=0.92),
    "boxy_tee": GarmentStyle("boxy_tee", "tops", width=1.12, length=0.9),
    "rib_tank": GarmentStyle("rib_tank", "tops", sleeves="none", collar="v", width=0.9, fabric="knit"),
    "shirt": GarmentStyle("shirt", "tops", sleeves="long", collar="shirt", fabric="oxford"),
    "blouse": GarmentStyle("blouse", "tops", sleeves="long", collar="v", width=1.05, fabric="oxford"),
    "sweater": GarmentStyle("sweater", "tops", sleeves="long", fabric="knit"),
    "hoodie": GarmentStyle("hoodie", "tops", sleeves="long", collar="hood", width=1.12, fabric="knit", pockets=True),
    "shell": GarmentStyle("shell", "tops", sleeves="long", collar="zip", width=1.08, fabric="nylon"),
    "jeans": GarmentStyle("jeans", "bottoms", fabric="denim", pockets=True),
    "slim_jeans": GarmentStyle("slim_jeans", "bottoms", width=0.88, fabric="denim", pockets=True),
    "chino": GarmentStyle("chino", "bottoms", fabric="twill", pockets=True),
    "wide_leg": GarmentStyle("wide_leg", "bottoms", width=1.35, fabric="twill"),
    "jogger": GarmentStyle("jogger", "bottoms", width=0.95, fabric="jersey"),
    "legging": GarmentStyle("legging", "bottoms", width=0.78, fabric="jersey"),
    "culotte": GarmentStyle("culotte", "bottoms", width=1.4, length=0.72, fabric="twill"),
    "shorts": GarmentStyle("shorts", "bottoms", width=1.1, length=0.42, fabric="twill", pockets=True),
    "skirt": GarmentStyle("skirt", "bottoms", width=1.5, length=0.75, fabric="twill"),
}

_KEYWORDS = (
    ("hoodie", "hoodie"), ("shell", "shell"), ("jacket", "shell"), ("sweater", "sweater"), ("merino", "sweater"),
    ("blouse", "blouse"), ("shirt", "shirt"), ("poplin", "shirt"), ("rib", "rib_tank"), ("tank", "rib_tank"),
    ("boxy", "boxy_tee"), ("slim crew", "slim_tee"), ("slim-fit", "slim_tee"),
    ("skirt", "skirt"), ("short", "shorts"), ("culotte", "culotte"), ("wide", "wide_leg"), ("pleat", "wide_leg"),
    ("legging", "legging"), ("tight", "legging"),
    ("jogger", "jogger"), ("track", "jogger"), ("running", "jogger"), ("slim", "slim_jeans"), ("chino", "chino"),
    ("canvas", "chino"), ("denim", "jeans"), ("jean", "jeans"),
)


def garment_style_for(category: str, name: str, description: str = "") -> GarmentStyle:
    """The style whose keyword appears first in the text, among ``category``'s; else the basic one."""
    if category not in ("tops", "bottoms"):
        raise ValueError(f"garment category must be 'tops' or 'bottoms'; got {category!r}")
    text = f"{name} {description}".lower()
    for keyword, style in _KEYWORDS:
        if keyword in text and GARMENT_STYLES[style].category == category:
            return GARMENT_STYLES[style]
    return GARMENT_STYLES["tee" if category == "tops" else "chino"]
