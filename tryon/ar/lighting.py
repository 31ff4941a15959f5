"""The light of the room, estimated from the camera frame, so a drawn shoe is lit like
the real feet beside it.

A :class:`SceneLight` is a key light (a direction and a colour) and a sky/ground
hemisphere (the ambient colour from above and from the floor), all in linear RGB
and in the camera frame (x right, y down, z forward). :func:`estimate_light`
reads it from a frame: the hemisphere from the mean colour of the upper and the
lower part of the frame, the key's strength and colour from the frame's exposure and
its brightest pixels, and the key's side from which half of the person is brighter.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.power(np.clip(srgb, 0.0, 1.0), 2.2)


@dataclass(frozen=True)
class SceneLight:
    """A key light plus a sky/ground hemisphere; colours are linear RGB (channel order R, G, B)."""

    key_direction: np.ndarray = field(default_factory=lambda: np.array([-0.4, -0.75, -0.55]))  # towards the light
    key_colour: np.ndarray = field(default_factory=lambda: np.array([2.2, 2.15, 2.05]))
    sky: np.ndarray = field(default_factory=lambda: np.array([0.36, 0.37, 0.4]))
    ground: np.ndarray = field(default_factory=lambda: np.array([0.18, 0.17, 0.16]))

    @property
    def ambient(self) -> np.ndarray:
        """Mean ambient colour (linear RGB) over the hemisphere."""
        return (self.sky + self.ground) / 2.0


def estimate_light(image_bgr: np.ndarray, mask: np.ndarray | None = None, grid: int = 48) -> SceneLight:
    """The light of ``image_bgr`` : (H, W, 3) uint8; ``mask`` (H, W) person probability, optional.

    Works on a ``grid``-pixel-wide thumbnail, so it costs well under a millisecond.
    """
    import cv2

    height, width = image_bgr.shape[:2]
    scale = grid / max(width, 1)
    size = (grid, max(2, int(round(height * scale))))
    small = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)[..., ::-1].astype(np.float64) / 255.0
    linear = _linear(small)
    person = None
    if mask is not None and mask.shape == (height, width):
        person = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5
    room = ~person if person is not None and (~person).sum() > 8 else np.ones(linear.shape[:2], bool)
    rows = np.arange(linear.shape[0])[:, None] < linear.shape[0] // 2
    upper, lower = room & rows, room & ~rows
    sky = linear[upper].mean(axis=0) if upper.any() else linear.reshape(-1, 3).mean(axis=0)
    ground = linear[lower].mean(axis=0) if lower.any() else sky
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    exposure = float(np.clip(luminance.mean() / 0.18, 0.35, 2.0))
    bright = luminance >= np.quantile(luminance, 0.95)
    tint = linear[bright].mean(axis=0)
    tint = tint / max(float(tint.max()), 1e-6)
    # The key's side: which half of the person is brighter (a light on the right lights the right half).
    side = 0.0
    if person is not None and person.sum() >= 8:
        ys, xs = np.nonzero(person)
        middle = float(np.median(xs))
        left, right = luminance[ys[xs < middle], xs[xs < middle]], luminance[ys[xs >= middle], xs[xs >= middle]]
        if len(left) and len(right):
            side = float(np.clip(4.0 * (right.mean() - left.mean()) / max(right.mean() + left.mean(), 1e-6), -0.8, 0.8))
    direction = np.array([side, -0.75, -0.55])
    return SceneLight(
        key_direction=direction / np.linalg.norm(direction),
        key_colour=2.2 * exposure * tint,
        sky=np.clip(1.3 * sky, 0.02, 1.5),
        ground=np.clip(1.3 * ground, 0.02, 1.5),
    )
