"""Named catalog colours to sRGB, shared by the shoe and garment generators.

Colour names come from the catalog seed (``ColourSeed.name``); a name not in the
table gets a stable colour derived from its text, so a new colour never fails.
"""
from __future__ import annotations

import colorsys
import hashlib

RGB = tuple[int, int, int]

NAMED: dict[str, RGB] = {
    "black": (28, 28, 30),
    "white": (236, 236, 232),
    "navy": (30, 42, 82),
    "coral": (244, 112, 92),
    "heather grey": (150, 150, 154),
    "grey": (128, 128, 130),
    "sky blue": (110, 170, 224),
    "cream": (238, 228, 204),
    "olive": (104, 110, 54),
    "rust": (170, 74, 38),
    "chestnut brown": (110, 58, 32),
    "burgundy": (112, 24, 40),
    "tan": (196, 150, 100),
    "sage": (150, 170, 140),
    "sand": (214, 196, 160),
    "indigo": (46, 58, 104),
    "red": (196, 36, 40),
    "green": (40, 130, 70),
    "blue": (40, 90, 190),
}


def colour_rgb(name: str) -> RGB:
    """sRGB (0-255) of a catalog colour name, case-insensitive."""
    key = name.strip().lower()
    if key in NAMED:
        return NAMED[key]
    return stable_colour(key)


def stable_colour(text: str, saturation: float = 0.65, value: float = 0.8) -> RGB:
    """A colour picked from ``text``'s hash: the same text always gives the same colour."""
    hue = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(red * 255), int(green * 255), int(blue * 255)


def contrast(rgb: RGB) -> RGB:
    """Near-black on light colours, near-white on dark ones (stitching, text)."""
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (40, 40, 40) if luma > 140 else (225, 225, 220)


def shade(rgb: RGB, factor: float) -> RGB:
    """``rgb`` scaled by ``factor`` (below 1 darker, above 1 lighter), clipped to 0-255."""
    return tuple(int(min(255, max(0, round(c * factor)))) for c in rgb)  # type: ignore[return-value]
