"""Signed-distance building blocks for the procedural foot and body generators.

Shapes are written as signed distance fields (negative inside, metres) built from a few
primitives joined with smooth unions, sampled on a regular grid and turned into a
watertight triangle mesh by marching cubes. Smooth unions give the organic blends between
heel, arch and toes (or torso and limbs) that a union of hard primitives would lack.

All point arrays are ``(..., 3)`` float in metres; every function returns distances of the
same leading shape.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import trimesh

_LOGGER = logging.getLogger(__name__)

Field = Callable[[np.ndarray], np.ndarray]


def ellipsoid(points: np.ndarray, centre: np.ndarray, radii: np.ndarray, rotation: np.ndarray | None = None) -> np.ndarray:
    """Approximate signed distance to an ellipsoid (exact on the surface, scaled by the smallest radius).

    ``rotation`` : (3, 3) maps the ellipsoid's own axes to world axes (columns), identity if None.
    """
    local = points - centre
    if rotation is not None:
        local = local @ rotation
    scaled = np.sqrt(np.sum((local / radii) ** 2, axis=-1))
    return (scaled - 1.0) * float(np.min(radii))


def superellipse_norm(u: np.ndarray, v: np.ndarray, exponent: float | np.ndarray) -> np.ndarray:
    """``(|u|^n + |v|^n)^(1/n)``: 1 on a superellipse of unit semi-axes, 2 an ellipse, larger squarer.

    ``u``, ``v`` : coordinates already divided by the semi-axes (same shape); ``exponent`` n >= 2,
    scalar or per point. ``(norm - 1) * min(semi-axes)`` is then an approximate signed distance:
    zero on the surface and, like :func:`ellipsoid`, never overestimating nearby (its gradient
    is at most 1), which is what :func:`sample_field` needs.
    """
    return (np.abs(u) ** exponent + np.abs(v) ** exponent) ** (1.0 / exponent)


def round_cone(points: np.ndarray, start: np.ndarray, end: np.ndarray, r_start: float, r_end: float) -> np.ndarray:
    """Signed distance to a capsule whose radius tapers linearly from ``r_start`` to ``r_end``.

    Uses the radius interpolated at the closest point of the axis: exact for equal radii and
    close enough for the gentle tapers of limbs and toes.
    """
    axis = end - start
    length_sq = float(axis @ axis)
    t = np.clip(((points - start) @ axis) / length_sq, 0.0, 1.0)
    closest = start + t[..., None] * axis
    radius = r_start + (r_end - r_start) * t
    return np.linalg.norm(points - closest, axis=-1) - radius


def elliptic_cylinder(points: np.ndarray, centre_xy: np.ndarray, radii_xy: np.ndarray, z_range: tuple[float, float]) -> np.ndarray:
    """Signed distance to a vertical elliptic cylinder between two heights (flat ends)."""
    radial = ellipsoid(points[..., :2], centre_xy, radii_xy)
    low, high = z_range
    vertical = np.maximum(low - points[..., 2], points[..., 2] - high)
    return np.maximum(radial, vertical)


def smooth_union(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum of two fields; ``k`` (metres) is the width of the blend."""
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1.0 - h) + a * h - k * h * (1.0 - h)


def smooth_subtract(a: np.ndarray, cutter: np.ndarray, k: float) -> np.ndarray:
    """Field ``a`` with ``cutter`` carved out, the edge of the cut rounded over ``k`` metres."""
    return -smooth_union(-a, cutter, k)


def sample_field(field: Field, axes: list[np.ndarray], coarse_step: int = 4) -> np.ndarray:
    """``field`` on the grid spanned by ``axes`` (three 1-D arrays), exact only near the surface.

    A pass at ``coarse_step`` times the spacing finds where the surface can be; fine points
    farther from it than the coarse cells' diagonal keep the coarse value (its sign is all
    marching cubes needs there). Approximate distances that underestimate are safe.
    """
    coarse_axes = [axis[::coarse_step] for axis in axes]
    coarse = field(np.stack(np.meshgrid(*coarse_axes, indexing="ij"), axis=-1).reshape(-1, 3))
    coarse = coarse.reshape([len(a) for a in coarse_axes])
    nearest = [np.minimum((np.arange(len(axis)) + coarse_step // 2) // coarse_step, len(c) - 1) for axis, c in zip(axes, coarse_axes)]
    values = coarse[np.ix_(*nearest)]
    spacing = float(axes[0][1] - axes[0][0])
    band = 1.5 * coarse_step * spacing * np.sqrt(3.0)
    near = np.nonzero(np.abs(values) < band)
    points = np.stack([axes[i][near[i]] for i in range(3)], axis=-1)
    values[near] = field(points)
    return values


def mesh_from_field(field: Field, lower: np.ndarray, upper: np.ndarray, spacing: float) -> trimesh.Trimesh:
    """Sample ``field`` on a grid over the box ``lower``..``upper`` and mesh its zero level.

    The box must enclose the shape; a margin of two cells is added so the surface closes.
    Returns the largest connected piece, watertight, in metres, faces wound outward.
    """
    from skimage.measure import marching_cubes

    lower = np.asarray(lower, dtype=float) - 2 * spacing
    upper = np.asarray(upper, dtype=float) + 2 * spacing
    counts = np.ceil((upper - lower) / spacing).astype(int) + 1
    axes = [lower[i] + spacing * np.arange(counts[i]) for i in range(3)]
    values = sample_field(field, axes).astype(np.float32)
    vertices, faces, _normals, _ = marching_cubes(values, level=0.0, spacing=(spacing,) * 3, allow_degenerate=False)
    mesh = trimesh.Trimesh(vertices=vertices + lower, faces=faces, process=True)
    # Grid points that fall exactly on the surface can leave slivers of a few faces; keep the body.
    parts = mesh.split(only_watertight=False)
    if len(parts) > 1:
        mesh = max(parts, key=lambda part: len(part.faces))
    if mesh.volume < 0:
        mesh.invert()
    _LOGGER.debug("marching cubes: grid %s, %d faces", tuple(counts), len(mesh.faces))
    return mesh
