"""Floor removal and isolation of the feet or the body in a fused scan.

The platform is found by RANSAC on the camera points near z = 0 (the calibration puts
it there; RANSAC corrects small drift and reports it). ``footprint_boxes`` puts a box
around each thing standing on it, for the fusion to work in. The fused solid is cut
flat at a stated height above the platform (and, for feet, at the ankle) by the fusion
itself; ``settle_on_floor`` then lowers that cut face onto z = 0, and ``split_feet``
names the feet by their side of the platform's centre line (the shopper faces +x on a
foot kiosk, so the left foot is at +y).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import trimesh

from scanning.errors import ReconstructionError

_LOGGER = logging.getLogger(__name__)

FLOOR_BAND_M = 0.015  # points this close to z = 0 are platform candidates
RANSAC_DISTANCE_M = 0.002
RANSAC_ITERATIONS = 200
RANSAC_SCORE_POINTS = 5000
FLOOR_MIN_SPREAD_M = 0.01  # RMS spread of the platform's inliers across their main direction, at least
MAX_FOOT_WIDTH_M = 0.16  # wider than any adult foot's ball, narrower than two feet side by side
WALL_SLOPE_LIMIT = 1.0  # horizontal run per unit height the wall extrapolation follows at most (45 degrees)
WALL_NORMAL_FACES = 12  # wall faces whose normals are averaged for each settled vertex
WALL_REACH_VOXELS = 4.0  # cut-face points this close to the wall move with it; farther in, less


@dataclass(frozen=True)
class Floor:
    """The platform plane: unit ``normal`` (3,) and ``offset`` with normal·p + offset = 0,
    and ``to_level`` (4, 4) moving the platform frame so the plane is z = 0."""

    normal: np.ndarray
    offset: float
    to_level: np.ndarray

    @property
    def tilt_deg(self) -> float:
        return float(np.degrees(np.arccos(np.clip(self.normal[2], -1.0, 1.0))))

    @property
    def height_mm(self) -> float:
        """How far the fitted plane sits from z = 0 at the platform centre, millimetres."""
        return float(-self.offset / self.normal[2] * 1000.0)


def fit_floor(points: np.ndarray, seed: int = 0) -> Floor:
    """The platform plane through ``points`` (n, 3) platform frame, metres, near z = 0:
    RANSAC (``RANSAC_ITERATIONS`` planes through three points, scored on up to
    ``RANSAC_SCORE_POINTS`` of them), then least squares on the best plane's inliers, twice.

    Seeded numpy throughout, so the same points always give the same plane: Open3D's
    multi-threaded ``segment_plane`` returned one of two planes at random for the same
    points and seed (tilt 0.001° or 0.007°), which moved a scan's measurements by up to
    0.6 mm from one run to the next. The least-squares refit also averages the platform's
    depth noise instead of resting on three noisy points.
    Raises :class:`ReconstructionError` when fewer than 100 points lie near z = 0, or when
    the plane's inliers do not span a plane (along one line their tilt about it is unknown).
    """
    candidates = points[np.abs(points[:, 2]) < FLOOR_BAND_M]
    if len(candidates) < 100:
        raise ReconstructionError(f"no camera sees the platform: {len(candidates)} points within "
                                  f"{FLOOR_BAND_M * 1000:.0f} mm of z = 0; check the calibration")
    rng = np.random.default_rng(seed)
    scored = candidates if len(candidates) <= RANSAC_SCORE_POINTS else candidates[
        rng.choice(len(candidates), RANSAC_SCORE_POINTS, replace=False)]
    triples = scored[rng.integers(0, len(scored), size=(RANSAC_ITERATIONS, 3))]
    normals = np.cross(triples[:, 1] - triples[:, 0], triples[:, 2] - triples[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    usable = lengths > 1e-9
    if not np.any(usable):
        raise _no_plane(len(candidates))
    normals = normals[usable] / lengths[usable, None]
    offsets = -np.einsum("ij,ij->i", normals, triples[usable, 0])
    inlier_counts = (np.abs(scored @ normals.T + offsets) < RANSAC_DISTANCE_M).sum(axis=0)
    best = int(np.argmax(inlier_counts))
    normal, offset = normals[best], float(offsets[best])
    for _ in range(2):
        inliers = candidates[np.abs(candidates @ normal + offset) < RANSAC_DISTANCE_M]
        if len(inliers) < 3:
            raise _no_plane(len(candidates))
        centre = inliers.mean(axis=0)
        _, spread, axes = np.linalg.svd(inliers - centre, full_matrices=False)
        # inliers along one line leave the tilt about it to chance
        if spread[1] / np.sqrt(len(inliers)) < FLOOR_MIN_SPREAD_M:
            raise _no_plane(len(candidates))
        normal = axes[2]
        offset = -float(normal @ centre)
    if normal[2] < 0:
        normal, offset = -normal, -offset
    return Floor(normal, offset, _levelling_transform(normal, offset))


def _no_plane(count: int) -> ReconstructionError:
    return ReconstructionError(f"the {count} platform points within {FLOOR_BAND_M * 1000:.0f} mm of z = 0 do not "
                               f"span a plane (they lie along a line or on one spot); check the calibration and "
                               f"that the cameras see the platform around the feet")


def _levelling_transform(normal: np.ndarray, offset: float) -> np.ndarray:
    """(4, 4) rotation taking ``normal`` to +z, then a shift putting the plane at z = 0."""
    axis = np.cross(normal, [0.0, 0.0, 1.0])
    sin_angle = float(np.linalg.norm(axis))
    transform = np.eye(4)
    if sin_angle > 1e-12:
        transform = trimesh.transformations.rotation_matrix(np.arcsin(min(sin_angle, 1.0)), axis / sin_angle)
    transform[2, 3] = offset
    return transform


def footprint_boxes(points: np.ndarray, floor: Floor, top_m: float, margin_m: float,
                    cell_m: float = 0.01) -> list[tuple[np.ndarray, np.ndarray]]:
    """Boxes (platform frame, metres) around each separate thing standing on the platform.

    points : (n, 3) platform-frame points more than a few millimetres above the floor.
    The points are binned on an xy grid of ``cell_m`` cells; each 8-connected group of
    occupied cells gives a box, grown by ``margin_m`` and reaching from below the
    platform to ``margin_m`` above its highest point (at most ``top_m``).
    """
    from scipy import ndimage

    cells = np.floor(points[:, :2] / cell_m).astype(np.int64)
    origin = cells.min(axis=0)
    occupancy = np.zeros(tuple(cells.max(axis=0) - origin + 1), dtype=np.int32)
    np.add.at(occupancy, tuple((cells - origin).T), 1)
    labels, count = ndimage.label(occupancy >= 2, structure=np.ones((3, 3)))
    floor_z = -floor.offset / floor.normal[2]
    point_labels = labels[tuple((cells - origin).T)]
    heights = points @ floor.normal + floor.offset
    boxes = []
    for index in range(1, count + 1):
        xy = np.argwhere(labels == index) + origin
        highest = float(heights[point_labels == index].max())
        lower = np.append(xy.min(axis=0) * cell_m - margin_m, floor_z - 0.01)
        upper = np.append((xy.max(axis=0) + 1) * cell_m + margin_m, floor_z + min(top_m + 0.005, highest + margin_m))
        boxes.append((lower, upper))
    return boxes


def settle_on_floor(levelled: trimesh.Trimesh, cut_height_m: float, voxel_m: float, *,
                    extrapolate_walls: bool = False) -> trimesh.Trimesh:
    """Stretch the bottom of a levelled solid cut at ``cut_height_m`` down onto z = 0.

    Heights from the cut face (at ``cut_height_m``) to two voxels above it are mapped
    linearly onto 0 .. that height: the walls just above the cut stand in for the few
    millimetres the cut removed. The map keeps the order of heights, so no face folds.

    With ``extrapolate_walls`` the stretched band also follows the slope of the wall above
    it instead of standing vertical: each vertex moved down by ``dz`` moves sideways by
    ``dz`` times the wall's horizontal run per unit height there (see :func:`wall_slopes`).
    A foot's sides round inward toward the floor (the plantar edge), so extruding the wall
    at the cut straight down would widen every section's bottom by a few millimetres.
    """
    vertices = np.array(levelled.vertices)
    top = cut_height_m + 2.0 * voxel_m
    low = vertices[:, 2] < top
    settled = np.maximum(vertices[low, 2] - cut_height_m, 0.0) / (top - cut_height_m) * top
    if extrapolate_walls and np.any(low):
        slopes = wall_slopes(levelled, vertices[low, :2], top, voxel_m)
        vertices[low, :2] += slopes * (vertices[low, 2] - settled)[:, None]
    vertices[low, 2] = settled
    return trimesh.Trimesh(vertices, levelled.faces, process=False)


def wall_slopes(levelled: trimesh.Trimesh, points: np.ndarray, top: float, voxel_m: float) -> np.ndarray:
    """(n, 2) horizontal displacement per metre of descent of the wall nearest each of
    ``points`` (n, 2), from the surface's slope in the two voxels above ``top``.

    A wall whose normal ``(n_h, n_z)`` faces down (``n_z < 0``) runs inward by
    ``-n_z / |n_h|`` per unit of descent: a foot's sides round under toward the floor. A wall
    that faces up would run outward; it is extruded straight down instead, because the sole
    never reaches out beyond the wall above it (it is the top of a rounded toe tip, or the
    fillet fusion leaves where the foot meets the platform). Normals are averaged, area
    weighted, over the ``WALL_NORMAL_FACES`` faces nearest each point; runs are limited to
    ``WALL_SLOPE_LIMIT``. Points farther than ``WALL_REACH_VOXELS`` from the wall (the
    middle of the flat cut face) take the run tapered to zero over as many voxels again, so
    the cut face follows its rim without folding.
    """
    from scipy.spatial import cKDTree

    vertices, faces = np.asarray(levelled.vertices), np.asarray(levelled.faces)
    heights = vertices[faces, 2]
    low_corner = np.minimum(np.minimum(heights[:, 0], heights[:, 1]), heights[:, 2])
    high_corner = np.maximum(np.maximum(heights[:, 0], heights[:, 1]), heights[:, 2])
    centre_heights = (heights[:, 0] + heights[:, 1] + heights[:, 2]) / 3.0
    band = (centre_heights >= top) & (centre_heights <= top + 2.0 * voxel_m)
    if np.count_nonzero(band) < WALL_NORMAL_FACES:
        return np.zeros_like(points)
    corners = vertices[faces[band]]
    weighted = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # normal x 2 area
    # Outward whatever the winding: the flat cut face at the bottom must face down.
    if _bottom_facing_up(vertices, faces[high_corner < low_corner.min() + 0.25 * voxel_m]):
        weighted = -weighted
    reach = WALL_REACH_VOXELS * voxel_m
    slopes = np.zeros_like(points)
    # Beyond two reaches from every wall face the taper is zero: those points (the middle of the
    # cut face, most of them) skip the 12-neighbour search, the slow part of this step.
    tree = cKDTree(corners.mean(axis=1)[:, :2])
    near = tree.query(points, k=1, distance_upper_bound=2.0 * reach)[0] < 2.0 * reach
    distance, nearest = tree.query(points[near], k=WALL_NORMAL_FACES)
    normal = weighted[nearest].sum(axis=1)
    horizontal = np.linalg.norm(normal[:, :2], axis=1)
    run = np.minimum(normal[:, 2], 0.0) / np.maximum(horizontal, 1e-12)  # inward only
    run = np.maximum(run, -WALL_SLOPE_LIMIT)
    taper = np.clip(2.0 - distance[:, 0] / reach, 0.0, 1.0)
    slopes[near] = (run * taper / np.maximum(horizontal, 1e-12))[:, None] * normal[:, :2]  # along the outward horizontal
    return slopes


def _bottom_facing_up(vertices: np.ndarray, bottom: np.ndarray) -> bool:
    """Whether the faces ``bottom`` (k, 3) of the flat cut face are wound to face up (their
    summed normal's z, twice their signed area seen from above, is positive)."""
    a, b, c = vertices[bottom[:, 0], :2], vertices[bottom[:, 1], :2], vertices[bottom[:, 2], :2]
    first, second = b - a, c - a
    return bool(np.sum(first[:, 0] * second[:, 1] - first[:, 1] * second[:, 0]) > 0.0)


def separate_touching_feet(piece: trimesh.Trimesh) -> list[trimesh.Trimesh]:
    """Split one piece wider than any foot (two feet touching) into two closed feet.

    The vertices' y coordinates are clustered into two groups (2-means); the cut is the
    plane y = const between the group centres where the fewest vertices lie (the
    narrowest contact), and both halves are capped there. A piece of one foot's width
    comes back unchanged. Levelled frame, metres, feet along x.
    """
    y = np.asarray(piece.vertices[:, 1])
    if np.ptp(y) <= MAX_FOOT_WIDTH_M:
        return [piece]
    centres = np.percentile(y, [25.0, 75.0])
    for _ in range(20):
        upper = np.abs(y - centres[0]) > np.abs(y - centres[1])
        centres = np.array([y[~upper].mean(), y[upper].mean()])
    counts, edges = np.histogram(y[(y > centres[0]) & (y < centres[1])], bins=40)
    cut = float(edges[np.argmin(counts)] + (edges[1] - edges[0]) / 2.0)
    halves = [piece.slice_plane([0.0, cut, 0.0], [0.0, sign, 0.0], cap=True) for sign in (1.0, -1.0)]
    _LOGGER.info("two touching feet split at y = %.1f mm", cut * 1000.0)
    return [half for half in halves if len(half.faces)]


def split_feet(pieces: list[trimesh.Trimesh]) -> dict[str, trimesh.Trimesh]:
    """Name the (at most two) foot pieces by their side: ``left`` at +y, ``right`` at −y.
    A single piece as wide as two feet is first split in two (feet touching)."""
    if len(pieces) == 1:
        pieces = separate_touching_feet(pieces[0])
    if len(pieces) > 2:
        raise ReconstructionError(f"expected at most two feet, found {len(pieces)} separate objects on the platform")
    named: dict[str, trimesh.Trimesh] = {}
    for piece in sorted(pieces, key=_middle_y):
        side = "left" if _middle_y(piece) > 0 else "right"
        if side in named:
            side = "left" if side == "right" else "right"
        named[side] = piece
    return named


def _middle_y(piece: trimesh.Trimesh) -> float:
    """Middle of the y extent of the vertices the faces use (``piece.bounds``, without the
    hashing that trimesh's cached bounds cost on every fresh mesh)."""
    used = np.zeros(len(piece.vertices), dtype=bool)
    used[np.asarray(piece.faces)] = True
    y = np.asarray(piece.vertices)[used, 1]
    return float(np.array([y.min(), y.max()]).mean())
