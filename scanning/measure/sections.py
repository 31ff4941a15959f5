"""Plane cross-sections of triangle meshes, and the tape-measure perimeter of a section.

A :class:`Slicer` keeps a mesh's vertices and faces as plain arrays so that the dozens of
sections a measurement takes cost a fraction of a millisecond each: only the faces that
straddle a plane are touched. Each section comes back as the points where the plane cuts
mesh edges, grouped into the closed loops they form (one loop per piece of the body the
plane cuts: torso, an arm, a leg).

All coordinates are metres; points are ``(n, 3)`` float.
"""
from __future__ import annotations

import functools

import numpy as np
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError



class Section:
    """Where one plane cuts a mesh.

    points : (n, 3) float, metres; one point per cut edge.
    segments : (k, 2) int, pairs of point indices joined by the section inside one face.
    origin, normal : (3,) the plane.
    loop_ids : (n,) int, which closed loop each point belongs to (0..loops-1), computed on first use.
    """

    def __init__(self, points: np.ndarray, segments: np.ndarray, origin: np.ndarray, normal: np.ndarray) -> None:
        self.points = points
        self.segments = segments
        self.origin = origin
        self.normal = normal

    @functools.cached_property
    def loop_ids(self) -> np.ndarray:
        n = len(self.points)
        if n == 0:
            return np.empty(0, dtype=int)
        graph = coo_matrix((np.ones(len(self.segments)), (self.segments[:, 0], self.segments[:, 1])), shape=(n, n))
        _count, labels = connected_components(graph, directed=False)
        return labels

    @property
    def loops(self) -> int:
        return int(self.loop_ids.max()) + 1 if len(self.loop_ids) else 0

    def loop(self, index: int) -> np.ndarray:
        """Points (m, 3) of one loop."""
        return self.points[self.loop_ids == index]

    def is_empty(self) -> bool:
        return len(self.points) == 0


class Slicer:
    """Fast repeated plane sections of one mesh (vertices (n, 3), faces (m, 3))."""

    def __init__(self, mesh: trimesh.Trimesh) -> None:
        self.vertices = np.asarray(mesh.vertices, dtype=float)
        self.faces = np.asarray(mesh.faces, dtype=np.int64)
        self._face_ranges: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _face_range(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-face lowest and highest coordinate (m,) along one axis, computed once."""
        if axis not in self._face_ranges:
            coordinate = self.vertices[:, axis][self.faces]
            self._face_ranges[axis] = (coordinate.min(axis=1), coordinate.max(axis=1))
        return self._face_ranges[axis]

    def _straddling(self, origin: np.ndarray, normal: np.ndarray) -> np.ndarray:
        """Faces (k, 3) with corners on both sides (a corner on the plane counts as below)."""
        axis = int(np.argmax(np.abs(normal)))
        if abs(normal[axis]) == 1.0:  # axis-aligned plane: two comparisons of cached ranges
            low, high = self._face_range(axis)
            level = origin[axis] * normal[axis]
            low, high = (low, high) if normal[axis] > 0 else (-high, -low)
            return self.faces[(high > level) & (low <= level)]
        face_distance = ((self.vertices - origin) @ normal)[self.faces]
        return self.faces[(face_distance.max(axis=1) > 0.0) & (face_distance.min(axis=1) <= 0.0)]

    def section(self, origin: np.ndarray, normal: np.ndarray) -> Section:
        """Cut with the plane through ``origin`` (3,) with ``normal`` (3,); loops by connectivity."""
        normal = np.asarray(normal, dtype=float) / np.linalg.norm(normal)
        origin = np.asarray(origin, dtype=float)
        straddling = self._straddling(origin, normal)
        if len(straddling) == 0:
            return Section(np.empty((0, 3)), np.empty((0, 2), dtype=int), origin, normal)
        sides = np.sort(np.stack([straddling[:, [0, 1]], straddling[:, [1, 2]], straddling[:, [2, 0]]], axis=1), axis=2)
        distance = np.zeros(len(self.vertices))
        corners = np.unique(straddling)
        distance[corners] = (self.vertices[corners] - origin) @ normal
        above = distance[sides] > 0.0
        cut_sides = sides[above[..., 0] != above[..., 1]].reshape(-1, 2, 2)  # exactly two per face
        keys = cut_sides[..., 0] * len(self.vertices) + cut_sides[..., 1]
        unique_keys, inverse = np.unique(keys, return_inverse=True)
        inverse = inverse.reshape(-1, 2)
        first, second = unique_keys // len(self.vertices), unique_keys % len(self.vertices)
        da, db = distance[first], distance[second]
        a, b = self.vertices[first], self.vertices[second]
        points = a + (b - a) * (da / (da - db))[:, None]
        return Section(points, inverse, origin, normal)

    def horizontal(self, height: float) -> Section:
        """Section by the plane z = ``height``."""
        return self.section(np.array([0.0, 0.0, height]), np.array([0.0, 0.0, 1.0]))


def plane_basis(normal: np.ndarray) -> np.ndarray:
    """Two orthonormal in-plane axes (2, 3) for projecting section points onto the plane."""
    normal = np.asarray(normal, dtype=float) / np.linalg.norm(normal)
    helper = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    first = np.cross(normal, helper)
    first /= np.linalg.norm(first)
    return np.stack([first, np.cross(normal, first)])


def convex_perimeter(points: np.ndarray, normal: np.ndarray) -> float:
    """Perimeter (metres) of the convex hull of ``points`` (n, 3) projected onto their plane.

    This is what a tape measure reads around a body: it bridges concavities (between the
    breasts, under the arch) instead of following them.
    """
    if len(points) < 3:
        return 0.0
    flat = points @ plane_basis(normal).T
    try:
        hull = ConvexHull(flat)
    except QhullError:
        return 0.0
    ring = flat[hull.vertices]
    return float(np.sum(np.linalg.norm(ring - np.roll(ring, 1, axis=0), axis=1)))


def line_crossings(section: Section, axis: np.ndarray, value: float) -> np.ndarray:
    """Points (k, 3) where the section's segments cross the level ``points @ axis == value``.

    With ``axis`` = y this reads the section's outline along a vertical line at y = value.
    """
    if not len(section.segments):
        return np.empty((0, 3))
    a = section.points[section.segments[:, 0]]
    b = section.points[section.segments[:, 1]]
    sa, sb = a @ axis - value, b @ axis - value
    crossing = (sa * sb <= 0.0) & (sa != sb)
    a, b, sa, sb = a[crossing], b[crossing], sa[crossing], sb[crossing]
    return a + (b - a) * (sa / (sa - sb))[:, None]
