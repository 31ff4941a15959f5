"""The pinhole camera model the mirror renders with, in OpenCV convention.

Camera frame: x right, y down, z forward (metres). Pixel centres sit at integer
coordinates, so pixel (u, v) covers [u - 0.5, u + 0.5]. The OpenGL projection made
here reproduces :meth:`CameraIntrinsics.project` exactly, which the projection tests check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tryon.ar.errors import ArInputError

DEFAULT_HFOV_DEG = 60.0


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics of one camera image; focal lengths and centre in pixels."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ArInputError(f"camera image size must be positive; got {self.width}x{self.height}")
        if not (self.fx > 0 and self.fy > 0):
            raise ArInputError(f"focal lengths must be positive; got fx={self.fx}, fy={self.fy}")

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> CameraIntrinsics:
        """Square pixels, centred principal point, ``hfov_deg`` horizontal field of view."""
        if not 1.0 < hfov_deg < 179.0:
            raise ArInputError(f"horizontal field of view must be in (1, 179) degrees; got {hfov_deg}")
        focal = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(width, height, focal, focal, (width - 1) / 2.0, (height - 1) / 2.0)

    @property
    def matrix(self) -> np.ndarray:
        """K : (3, 3) float64."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def project(self, points: np.ndarray) -> np.ndarray:
        """points : (n, 3) camera frame, metres, z > 0 -> (n, 2) pixels (u, v)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        z = points[:, 2]
        return np.stack([self.fx * points[:, 0] / z + self.cx, self.fy * points[:, 1] / z + self.cy], axis=1)

    def unproject(self, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """pixels : (n, 2) and depth : (n,) metres along z -> (n, 3) camera-frame points."""
        pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        depth = np.asarray(depth, dtype=np.float64).reshape(-1)
        x = (pixels[:, 0] - self.cx) / self.fx * depth
        y = (pixels[:, 1] - self.cy) / self.fy * depth
        return np.stack([x, y, depth], axis=1)

    def gl_projection(self, near: float, far: float, viewport: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """OpenGL clip matrix : (4, 4) for OpenCV camera-frame points, column vectors.

        It folds in the flip to OpenGL's y-up / z-backward eye frame, so it takes
        camera-frame points directly. ``viewport`` = (x0, y0, w, h) in image pixels
        (y0 from the top) selects a sub-rectangle of the image to render, so a
        small target can hold just the region around the shoes.
        """
        x0, y0, w, h = viewport if viewport is not None else (0, 0, self.width, self.height)
        # Window coordinate of pixel centre u is u + 0.5 within the viewport.
        left, right = x0 - 0.5, x0 + w - 0.5
        top, bottom = y0 - 0.5, y0 + h - 0.5
        proj = np.zeros((4, 4))
        proj[0, 0] = 2.0 * self.fx / (right - left)
        proj[0, 2] = (2.0 * self.cx - right - left) / (right - left)
        # Image rows grow downward; GL's window y grows upward: row top maps to ndc +1.
        proj[1, 1] = -2.0 * self.fy / (bottom - top)
        proj[1, 2] = -(2.0 * self.cy - bottom - top) / (bottom - top)
        proj[2, 2] = (far + near) / (far - near)
        proj[2, 3] = -2.0 * far * near / (far - near)
        proj[3, 2] = 1.0
        return proj
