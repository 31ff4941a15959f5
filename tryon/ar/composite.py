"""Alpha compositing of rendered or warped layers onto camera frames."""
from __future__ import annotations

import numpy as np

from tryon.ar.errors import ArInputError


def composite_patch(frame: np.ndarray, rgba: np.ndarray, x0: int, y0: int, *, alpha: np.ndarray | None = None) -> None:
    """Blend ``rgba`` : (h, w, 4) uint8 (straight alpha, same channel order as ``frame``)
    onto ``frame`` : (H, W, 3) uint8 in place, its top-left corner at (x0, y0).

    ``alpha`` : (h, w) uint8 replaces the patch's own alpha (after occlusion masking).
    The part of the patch outside the frame is dropped.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ArInputError(f"expected an (H, W, 3) frame and an (h, w, 4) patch; got {frame.shape} and {rgba.shape}")
    height, width = frame.shape[:2]
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + rgba.shape[1], width), min(y0 + rgba.shape[0], height)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    import cv2

    patch = rgba[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
    weight = (patch[..., 3] if alpha is None else alpha[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]).astype(np.float32)
    weight *= 1.0 / 255.0
    region = frame[fy0:fy1, fx0:fx1]
    # OpenCV blends in native code without the GIL, so the landmark workers keep running.
    region[...] = cv2.blendLinear(np.ascontiguousarray(patch[..., :3]), np.ascontiguousarray(region), weight, 1.0 - weight)
