"""The OpenGL twin of the pinhole camera model the mirror renders with (OpenCV convention).

The camera itself is :class:`scanning.sources.frame.Intrinsics`, the one model the
scanner and the mirror share. Camera frame: x right, y down, z forward (metres).
Pixel centres sit at integer coordinates, so pixel (u, v) covers [u - 0.5, u + 0.5].
The projection made here reproduces :meth:`Intrinsics.project` exactly, which the
projection tests check.
"""
from __future__ import annotations

import numpy as np

from scanning.sources.frame import Intrinsics


def gl_projection(camera: Intrinsics, near: float, far: float,
                  viewport: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """OpenGL clip matrix : (4, 4) for OpenCV camera-frame points, column vectors.

    It folds in the flip to OpenGL's y-up / z-backward eye frame, so it takes
    camera-frame points directly. ``viewport`` = (x0, y0, w, h) in image pixels
    (y0 from the top) selects a sub-rectangle of the image to render, so a
    small target can hold just the region around the shoes.
    """
    x0, y0, w, h = viewport if viewport is not None else (0, 0, camera.width, camera.height)
    # Window coordinate of pixel centre u is u + 0.5 within the viewport.
    left, right = x0 - 0.5, x0 + w - 0.5
    top, bottom = y0 - 0.5, y0 + h - 0.5
    proj = np.zeros((4, 4))
    proj[0, 0] = 2.0 * camera.fx / (right - left)
    proj[0, 2] = (2.0 * camera.cx - right - left) / (right - left)
    # Image rows grow downward; GL's window y grows upward: row top maps to ndc +1.
    proj[1, 1] = -2.0 * camera.fy / (bottom - top)
    proj[1, 2] = -(2.0 * camera.cy - bottom - top) / (bottom - top)
    proj[2, 2] = (far + near) / (far - near)
    proj[2, 3] = -2.0 * far * near / (far - near)
    proj[3, 2] = 1.0
    return proj
