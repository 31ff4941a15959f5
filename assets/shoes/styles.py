"""Shoe styles: the shape and trim choices the generator makes for each kind of shoe.

A product's style is found from its name and description (``style_for``); the
last supplies the sizes, the style supplies the cut (collar height, laces, sole).
Lengths are fractions of the last length unless the name ends in ``_m``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShoeStyle:
    """How one kind of shoe is cut."""

    name: str
    collar_back: float  # collar height at the heel above the footbed
    collar_front: float  # collar height where the opening ends (the throat)
    throat: float  # where the opening ends, from the heel
    laces: int  # lace crossings (0: none)
    sole_forefoot_m: float  # sole thickness under the ball
    toe_shape: float  # toe half-width at 95% of the length, over the ball half-width
    upper_finish: str  # "mesh", "leather", "suede", "knit"
    sole_finish: str  # "foam", "cupsole", "leather", "lug"
    toe_cap: bool = False
    side_stripe: bool = True


STYLES = {
    "runner": ShoeStyle("runner", 0.23, 0.17, 0.45, 6, 0.020, 0.55, "mesh", "foam", side_stripe=True),
    "trail": ShoeStyle("trail", 0.24, 0.18, 0.45, 6, 0.022, 0.62, "mesh", "lug", toe_cap=True),
    "court": ShoeStyle("court", 0.22, 0.16, 0.45, 7, 0.018, 0.62, "leather", "cupsole"),
    "high_top": ShoeStyle("high_top", 0.46, 0.34, 0.42, 9, 0.018, 0.62, "leather", "cupsole"),
    "skate": ShoeStyle("skate", 0.21, 0.16, 0.45, 7, 0.012, 0.66, "suede", "cupsole"),
    "oxford": ShoeStyle("oxford", 0.20, 0.15, 0.48, 5, 0.010, 0.50, "leather", "leather", toe_cap=True, side_stripe=False),
    "derby": ShoeStyle("derby", 0.21, 0.16, 0.46, 5, 0.011, 0.60, "suede", "leather", side_stripe=False),
    "pump": ShoeStyle("pump", 0.16, 0.08, 0.62, 0, 0.006, 0.35, "leather", "leather", side_stripe=False),
    "loafer": ShoeStyle("loafer", 0.18, 0.12, 0.56, 0, 0.010, 0.72, "leather", "leather", side_stripe=False),
    "hiker": ShoeStyle("hiker", 0.44, 0.34, 0.42, 8, 0.020, 0.62, "leather", "lug", toe_cap=True),
    "mid_hiker": ShoeStyle("mid_hiker", 0.38, 0.30, 0.42, 7, 0.020, 0.62, "mesh", "lug", toe_cap=True),
    "chelsea": ShoeStyle("chelsea", 0.46, 0.40, 0.40, 0, 0.016, 0.60, "suede", "lug", side_stripe=False),
    "slip_on": ShoeStyle("slip_on", 0.19, 0.12, 0.50, 0, 0.016, 0.60, "knit", "foam"),
    "walker": ShoeStyle("walker", 0.24, 0.18, 0.45, 6, 0.022, 0.66, "leather", "foam"),
}

# First match wins: more specific words before general ones.
_KEYWORDS = (
    ("chelsea", "chelsea"),
    ("mid-cut", "mid_hiker"),
    ("hiking boot", "hiker"),
    ("high-top", "high_top"),
    ("pump", "pump"),
    ("loafer", "loafer"),
    ("oxford", "oxford"),
    ("derby", "derby"),
    ("slip-on", "slip_on"),
    ("skate", "skate"),
    ("trail", "trail"),
    ("court", "court"),
    ("sneaker", "court"),
    ("walk", "walker"),
    ("running", "runner"),
    ("trainer", "runner"),
)


def style_for(name: str, description: str = "") -> ShoeStyle:
    """The style whose keyword appears first in ``name`` or ``description`` (default: runner)."""
    text = f"{name} {description}".lower()
    for keyword, style in _KEYWORDS:
        if keyword in text:
            return STYLES[style]
    return STYLES["runner"]
