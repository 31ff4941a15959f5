"""Body measurements (ISO 8559-1 / ISO 7250-1 style) on a watertight standing-body mesh.

:func:`canonicalize_body` turns the file's vertical axis onto +z, puts the feet on z = 0,
finds the body's left-right axis (the widest direction of its horizontal footprint, arms
and shoulders) and its front (the feet point forward), and centres the torso on the z axis.
:func:`measure_body` then finds the landmarks on the shape (crotch, axillae, shoulder points,
wrists, and the chest, waist and hip levels) and reads girths as tape-measure (convex)
perimeters of the torso's loop in horizontal sections. Definitions: ``docs/measurements.md``.

Inside: metres. The returned :class:`scanning.types.BodyMeasurements` is in millimetres.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from scanning.errors import MeasurementError, ShapeKindError
from scanning.measure.sections import Section, Slicer, convex_perimeter
from scanning.mesh_utils import face_geometry, file_to_canonical, prepare_mesh, principal_direction
from scanning.types import BodyMeasurements

_LOGGER = logging.getLogger(__name__)

BODY_HEIGHT_RANGE_M = (1.0, 2.4)
LEVEL_STEP = 0.005  # fraction of stature between the horizontal sections of a landmark search
AXILLA_SEARCH = (0.60, 0.88)  # fractions of stature searched for the armpits
ARM_MERGE_JUMP = 0.03  # a torso edge that jumps this far (fraction of stature) is an arm joining
AXILLA_BISECTIONS = 6
FOLD_SLOPE = 0.6  # an edge moving outward faster than this per unit height is the armpit fold
FOLD_MAX_DEPTH = 0.08  # fraction of stature
# A web between arm and torso narrower (front to back) than twice this radius (fraction of stature,
# 21 mm at 1.7 m: a bridge under 42 mm, about half an upper arm's depth) does not join the arm to the torso.
BRIDGE_RADIUS = 0.0125
BRIDGE_STEP = 0.0025  # fraction of stature between the sections that walk up past such a web
BRIDGE_MAX_RISE = 0.06  # fraction of stature: how far above the first contact the arm may still hang apart
ARM_MIN_GIRTH = 0.05  # fraction of stature: a loop beside the torso at least this round is an arm
MASK_PIXEL_M = 0.002  # raster of a section for the opening that cuts thin webs
CHEST_BELOW_AXILLA = (0.08, 0.015)  # chest level searched this far below the lower armpit, under its fold
HIP_ABOVE_CROTCH = (0.01, 0.14)
WRIST_SEARCH = (0.60, 0.90)  # fractions of the shoulder-to-fingertip distance
WRIST_BAND = 0.03  # sections this much wider than the narrowest still count as the wrist
WRIST_STEP = 0.02  # of the shoulder-to-fingertip distance between sections across the arm
TAPE_SMOOTHING_M = 0.005  # torso loops smoothed over this arc against scan noise (0.1 mm shrink at R = 130 mm)
CANONICAL_TOLERANCE_M = 1e-9  # canonicalize_body puts the feet exactly on z = 0
UP = np.array([0.0, 0.0, 1.0])
LATERAL = np.array([1.0, 0.0, 0.0])


def canonicalize_body(mesh: trimesh.Trimesh, *, up: str = "z", units: str = "m") -> tuple[trimesh.Trimesh, np.ndarray]:
    """The body in its canonical frame, and the 4x4 transform that took it there.

    Canonical: metres, feet on z = 0, facing +y, x toward the body's right, the torso's
    centre on the z axis. The transform maps input coordinates (in ``units``) to canonical.
    Raises :class:`ShapeKindError` when the shape is not the size of a standing adult.
    """
    prepared = prepare_mesh(mesh, up=up, units=units)
    floor, top = prepared.vertices[:, 2].min(), prepared.vertices[:, 2].max()
    stature = top - floor
    low, high = BODY_HEIGHT_RANGE_M
    if not low <= stature <= high:
        raise ShapeKindError(
            f"shape is not a standing body: expected {low:.1f}-{high:.1f} m tall, got {stature:.3f} m "
            "(check --units and --up; glTF/GLB files are y-up)",
            height_m=stature,
        )
    centres, weights, _normals = face_geometry(prepared)
    heights = centres[:, 2] - floor
    lateral = principal_direction(centres[:, :2], weights)
    forward = np.array([-lateral[1], lateral[0]])
    feet = heights < 0.03 * stature
    shins = (heights > 0.06 * stature) & (heights < 0.12 * stature)
    if np.average(centres[feet, :2] @ forward, weights=weights[feet]) < np.average(centres[shins, :2] @ forward, weights=weights[shins]):
        forward = -forward  # the feet point forward from the ankles
    rightward = np.array([forward[1], -forward[0]])  # forward x up, so the frame stays right-handed
    rotation = np.array([[*rightward, 0.0], [*forward, 0.0], [0.0, 0.0, 1.0]])
    torso = (heights > 0.45 * stature) & (heights < 0.75 * stature)
    centre = np.average(centres[torso], axis=0, weights=weights[torso]) @ rotation.T
    offset = np.array([-centre[0], -centre[1], -floor])
    prepared.vertices = prepared.vertices @ rotation.T + offset
    return prepared, file_to_canonical(rotation, offset, up=up, units=units)


def _hull_2d(points: np.ndarray) -> ConvexHull | None:
    try:
        return ConvexHull(points[:, :2])
    except (QhullError, ValueError):
        return None


def torso_loop(section: Section) -> np.ndarray:
    """Points (n, 3) of the loop around the body's vertical axis (x = y = 0) in a horizontal
    section: the torso, not an arm; no points when the section is empty.

    A loop whose bounding box alone holds the axis is taken at once; otherwise (several such
    loops, or none) the loop whose convex hull holds the axis deepest, or misses it least, wins.
    """
    loops = [p for p in section.all_loops() if len(p) >= 3]
    around_axis = [p for p in loops if p[:, 0].min() <= 0.0 <= p[:, 0].max() and p[:, 1].min() <= 0.0 <= p[:, 1].max()]
    if len(around_axis) == 1:
        return around_axis[0]
    best, best_distance = np.empty((0, 3)), np.inf
    for points in around_axis or loops:
        hull = _hull_2d(points)
        if hull is None:
            continue
        outside = float(np.max(hull.equations[:, 2]))  # signed distance of the origin to the hull
        if outside < best_distance:
            best, best_distance = points, outside
    return best


@dataclass(frozen=True)
class _Axilla:
    height: float
    edge_x: float  # the torso's lateral edge just below the armpit


def _torso_edge(slicer: Slicer, z: float, side: float) -> float:
    """How far the torso loop reaches toward ``side`` (+1 right, -1 left) at height ``z``."""
    loop = torso_loop(slicer.horizontal(z))
    return float(np.max(side * loop[:, 0])) if len(loop) else np.nan


def _edges_up_to_jumps(slicer: Slicer, levels: np.ndarray, jump: float) -> tuple[np.ndarray, np.ndarray]:
    """The torso's right (+x) and left (-x) edges at ``levels``, cut from the bottom up and only
    until both edges have jumped outward by more than ``jump`` (the arms joining): the levels
    above the armpits are not needed."""
    right, left = [], []
    for z in levels:
        loop = torso_loop(slicer.horizontal(z))
        right.append(np.max(loop[:, 0]) if len(loop) else np.nan)
        left.append(np.max(-loop[:, 0]) if len(loop) else np.nan)
        if all(np.any(np.diff(edge) > jump) for edge in (right, left)):
            break
    return np.array(right), np.array(left)


def _find_axillae(slicer: Slicer, stature: float) -> tuple[_Axilla, _Axilla]:
    """Right (+x) and left (-x) armpits: where the arm's loop joins the torso's going up.

    A coarse pass every 1 % of stature finds the jump of the torso's edge; bisection then
    narrows it to well under a millimetre, so the chest window and shoulder points that
    hang on it do not move with the coarse grid. The arm then counts as joined only where
    it joins by more than a thin web (:func:`_past_thin_web`), and below that the armpit
    fold of raised arms is stepped down (:func:`_below_fold`).
    """
    levels = np.arange(*AXILLA_SEARCH, 2 * LEVEL_STEP) * stature
    edges = _edges_up_to_jumps(slicer, levels, ARM_MERGE_JUMP * stature)
    found = []
    for (name, side), edge in zip((("right", 1.0), ("left", -1.0)), edges):
        merged = np.flatnonzero(np.diff(edge) > ARM_MERGE_JUMP * stature)
        if len(merged) == 0:
            raise MeasurementError(
                f"no {name} armpit found: the {name} arm seems to touch the torso all the way up; "
                "expected the arms held slightly away from the body",
                side=name,
            )
        low, high, low_edge = levels[merged[0]], levels[merged[0] + 1], edge[merged[0]]
        for _ in range(AXILLA_BISECTIONS):
            middle = 0.5 * (low + high)
            middle_edge = _torso_edge(slicer, middle, side)
            if middle_edge - low_edge > 0.5 * ARM_MERGE_JUMP * stature:
                high = middle
            else:
                low, low_edge = middle, middle_edge
        height, opened_edge = _past_thin_web(slicer, low, side, stature)
        if _arm_hangs_beside(slicer, height - FOLD_MAX_DEPTH * stature, side, stature):
            found.append(_Axilla(height=float(height), edge_x=float(opened_edge)))
        else:
            found.append(_below_fold(slicer, height, opened_edge, side, stature))
    return found[0], found[1]


def _opened_torso_edge(slicer: Slicer, z: float, side: float, stature: float) -> float:
    """How far the torso reaches toward ``side`` at height ``z`` once every web thinner than
    2 * BRIDGE_RADIUS of stature is cut from the section (a morphological opening).

    A scan closes the narrow slit between a hanging arm and the torso for some way below the
    armpit: no camera sees into it and unseen space counts as solid. In the section that
    closed slit is a web joining arm and torso, much thinner front to back than the arm
    itself; a real armpit joins them over most of the arm's depth. Torso sides are rounder
    than the opening's radius, so where there is no web the edge is the section's own.
    """
    section = slicer.horizontal(z)
    loop = torso_loop(section)
    if not len(loop):
        return np.nan
    kept = _opened_part(section, loop, BRIDGE_RADIUS * stature)
    return float(np.max(side * kept[:, 0])) if len(kept) else np.nan


def _opened_part(section: Section, loop: np.ndarray, radius: float) -> np.ndarray:
    """The points of ``loop`` that lie on its main piece after opening the section with a
    disc of ``radius``: the section is rastered at MASK_PIXEL_M, its outline filled."""
    corner = section.points[:, :2].min(axis=0) - 2.0 * radius
    size = np.ceil((section.points[:, :2].max(axis=0) + 2.0 * radius - corner) / MASK_PIXEL_M).astype(int) + 1
    ends = np.round((section.points[section.segments][:, :, :2] - corner) / MASK_PIXEL_M).astype(np.int32)
    raster = np.zeros((size[1], size[0]), np.uint8)
    cv2.polylines(raster, list(ends), False, 1)
    outside = np.zeros((size[1] + 2, size[0] + 2), np.uint8)
    cv2.floodFill(raster, outside, (0, 0), 2)  # the margin keeps (0, 0) outside the body
    solid = (raster != 2).astype(np.uint8)
    diameter = 2 * int(round(radius / MASK_PIXEL_M)) + 1
    opened = cv2.morphologyEx(solid, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter)))
    _count, labels = cv2.connectedComponents(opened)
    pixels = np.round((loop[:, :2] - corner) / MASK_PIXEL_M).astype(int)
    on_loop = labels[pixels[:, 1], pixels[:, 0]]
    if not np.any(on_loop):
        return loop[:0]
    main = np.bincount(on_loop[on_loop > 0]).argmax()
    # the outline's own pixels sit on the opened piece's border: one pixel of slack keeps them
    grown = cv2.dilate((labels == main).astype(np.uint8), np.ones((3, 3), np.uint8))
    return loop[grown[pixels[:, 1], pixels[:, 0]] > 0]


def _past_thin_web(slicer: Slicer, low: float, side: float, stature: float) -> tuple[float, float]:
    """Height and opened torso edge of the highest level, from ``low`` up, at which the arm is
    still apart from the torso once thin webs are cut: where the arm truly joins, the
    opened edge jumps as the plain one did."""
    step = BRIDGE_STEP * stature
    height, edge = low, _opened_torso_edge(slicer, low, side, stature)
    for _ in range(int(BRIDGE_MAX_RISE / BRIDGE_STEP)):
        upper = _opened_torso_edge(slicer, height + step, side, stature)
        if not np.isfinite(upper) or upper - edge > 0.5 * ARM_MERGE_JUMP * stature:
            break
        height, edge = height + step, upper
    return height, edge


def _arm_hangs_beside(slicer: Slicer, z: float, side: float, stature: float) -> bool:
    """Whether the section at ``z`` (a fold's depth below the armpit) cuts an arm on ``side``:
    a loop apart from the torso's with its centre on that side, too big to be a scan's speck
    of noise (a wrist is about 9 % of stature round). A hanging arm (the kiosk's
    A-pose) runs down beside the torso and has no armpit fold; a raised one (a T-pose) is
    all above that level.
    """
    section = slicer.horizontal(z)
    torso = torso_loop(section)
    for loop in section.all_loops():
        if (len(loop) >= 3 and loop is not torso and side * float(np.mean(loop[:, 0])) > 0.0
                and convex_perimeter(loop, UP) > ARM_MIN_GIRTH * stature):
            return True
    return False


def _below_fold(slicer: Slicer, height: float, edge: float, side: float, stature: float) -> _Axilla:
    """Walk down from where the arm joins while the torso's edge still slopes outward steeply.

    Raised arms (a T-pose) pull a web of tissue (the armpit fold) several centimetres down
    the torso's side; hanging arms leave none. The armpit proper is at the bottom of the fold.
    The edge is read with thin webs cut (:func:`_opened_torso_edge`): a scan's closed slit
    under a hanging arm is no fold.
    """
    step = LEVEL_STEP * stature
    for _ in range(int(FOLD_MAX_DEPTH / LEVEL_STEP)):
        lower = _opened_torso_edge(slicer, height - step, side, stature)
        if not np.isfinite(lower) or (edge - lower) / step < FOLD_SLOPE:
            break
        height, edge = height - step, lower
    return _Axilla(height=float(height), edge_x=float(edge))


def _crotch_height(mesh: trimesh.Trimesh, stature: float) -> float:
    """Lowest point of the torso on the mid-sagittal plane x = 0, above knee height."""
    knee = 0.30 * stature
    points = _faces_above(mesh, knee).section(np.zeros(3), LATERAL).points
    points = points[points[:, 2] > knee]
    if len(points) == 0:
        raise MeasurementError("no crotch found: the mid-sagittal plane misses the body")
    return float(points[:, 2].min())


def _torso_girth(slicer: Slicer, z: float) -> float:
    """Tape girth (metres) of the torso at height ``z``, the loop smoothed against scan noise."""
    return convex_perimeter(torso_loop(slicer.horizontal(z).smoothed(TAPE_SMOOTHING_M)), UP)


class _Profile:
    """A measurement along a grid of positions (a girth by level), each value cut on first use.

    :meth:`climb` finds the grid's best value with about half the cuts of cutting every
    position: every other position first, then from the best of those level by level until the
    best position's neighbours are both cut and not better. Torso girths are smooth near their
    extremes: on clean generated and real bodies this is the grid's best; on scans it can
    settle in a neighbouring dip of the noise (10 scanned bodies: waist MAE 2.81 mm, was 2.74).
    """

    def __init__(self, count: int, cut: Callable[[int], float]) -> None:
        self.values = np.full(count, np.nan)
        self._cut = cut

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> float:
        if np.isnan(self.values[index]):
            self.values[index] = self._cut(index)
        return float(self.values[index])

    def climb(self, choose: Callable[[np.ndarray], int]) -> int:
        for index in [*range(0, len(self), 2), len(self) - 1]:
            self[index]
        best = -1
        while True:
            known = np.flatnonzero(~np.isnan(self.values))
            new_best = int(known[choose(self.values[known])])
            if new_best == best:
                return best
            best = new_best
            for neighbour in (best - 1, best + 1):
                if 0 <= neighbour < len(self):
                    self[neighbour]


def _extreme_girth(slicer: Slicer, low: float, high: float, stature: float, pick: str) -> tuple[float, float]:
    """Level and torso tape girth of the largest (``pick="max"``) or smallest girth in [low, high].

    Levels at most 2*LEVEL_STEP of stature apart (both ends included), searched by
    :meth:`_Profile.climb`; a parabola through the best level and its two neighbours then
    places the extreme between them (a girth is smooth near its extreme).
    """
    choose = np.argmax if pick == "max" else np.argmin
    if high <= low:
        raise MeasurementError(f"empty search range for the torso {pick} girth: {low:.3f}-{high:.3f} m")
    levels = np.linspace(low, high, int(np.ceil((high - low) / (2 * LEVEL_STEP * stature))) + 1)
    step = float(levels[1] - levels[0])
    girths = _Profile(len(levels), lambda index: _torso_girth(slicer, levels[index]))
    best = girths.climb(choose)
    if best == 0 or best == len(levels) - 1:
        return float(levels[best]), girths[best]
    before, at, after = girths[best - 1], girths[best], girths[best + 1]
    curvature = before - 2.0 * at + after
    if curvature == 0.0:
        return float(levels[best]), float(at)
    shift = float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))
    return float(levels[best] + shift * step), float(at - 0.25 * (before - after) * shift)


def _faces_above(mesh: trimesh.Trimesh, height: float) -> Slicer:
    """A slicer over only the faces with a corner above ``height``: every section point above
    that height comes from them, at a fraction of the cost of cutting the whole body."""
    faces = np.asarray(mesh.faces)
    upper = faces[(np.asarray(mesh.vertices)[:, 2] > height)[faces].any(axis=1)]
    return Slicer(trimesh.Trimesh(np.asarray(mesh.vertices), upper, process=False))


def _shoulder_point(slicer: Slicer, axilla: _Axilla, side: float) -> np.ndarray:
    """Top of the shoulder (3,) on the sagittal plane through the torso's edge at the armpit."""
    x = side * axilla.edge_x
    points = slicer.section(np.array([x, 0.0, 0.0]), LATERAL).points
    points = points[points[:, 2] > axilla.height]
    if len(points) == 0:
        raise MeasurementError(f"no shoulder found above the armpit at x = {x * 1000:.0f} mm", x_mm=x * 1000)
    return points[np.argmax(points[:, 2])]


def _arm_mesh(mesh: trimesh.Trimesh, shoulder: np.ndarray, side: float) -> trimesh.Trimesh:
    """The arm as an open surface: the connected piece lateral of the shoulder point that holds it."""
    lateral = side * mesh.vertices[:, 0] >= side * shoulder[0]
    faces = mesh.faces[lateral[mesh.faces].all(axis=1)]
    n = len(mesh.vertices)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    used = np.unique(faces)
    seed = used[np.argmin(np.linalg.norm(mesh.vertices[used] - shoulder, axis=1))]
    arm_faces = faces[labels[faces[:, 0]] == labels[seed]]
    corners, compact_faces = np.unique(arm_faces, return_inverse=True)
    return trimesh.Trimesh(mesh.vertices[corners], compact_faces.reshape(-1, 3), process=False)


def _arm_loop(slicer: Slicer, centre: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, float]:
    """Points and tape girth of the arm across ``axis`` at ``centre``: the largest loop there
    (a scan can leave tiny loops of noise beside the arm); no points and inf if none."""
    section = slicer.section(centre, axis).smoothed(TAPE_SMOOTHING_M)
    loops = section.all_loops()
    girths = [convex_perimeter(loop, axis) for loop in loops]
    if not girths:
        return np.empty((0, 3)), np.inf
    index = int(np.argmax(girths))
    return loops[index], girths[index]


def _wrist_centre(arm_mesh: trimesh.Trimesh, shoulder: np.ndarray) -> np.ndarray:
    """Centre (3,) of the arm's narrow part between forearm and hand: the wrist.

    The forearm narrows gently to the wrist, so the single narrowest section wanders with
    noise; the middle of the run of sections within WRIST_BAND of the narrowest does not.
    """
    slicer = Slicer(arm_mesh)
    arm = np.asarray(arm_mesh.vertices)
    tip = arm[np.argmax(np.linalg.norm(arm - shoulder, axis=1))]
    reach = float(np.linalg.norm(tip - shoulder))
    axis = (tip - shoulder) / reach
    fractions = np.arange(WRIST_SEARCH[0], WRIST_SEARCH[1] + 1e-9, WRIST_STEP)
    slicer.index(axis)
    # Every section is cut: a scanned forearm's girths are noisy enough that a climb from every
    # other section stops in a dip beside the wrist (20 mm off the arm length on a scan).
    girths = np.array([_arm_loop(slicer, shoulder + f * reach * axis, axis)[1] for f in fractions])
    if not np.isfinite(girths).any():
        raise MeasurementError("no wrist found along the arm")
    narrowest = int(np.argmin(girths))
    inside = girths <= girths[narrowest] * (1.0 + WRIST_BAND)
    run_start = narrowest - int(np.argmin(inside[narrowest::-1])) + 1 if not inside[: narrowest + 1].all() else 0
    run_stop = narrowest + int(np.argmin(inside[narrowest:])) if not inside[narrowest:].all() else len(inside)
    centre = shoulder + float(np.mean(fractions[run_start:run_stop])) * reach * axis
    loop, _girth = _arm_loop(slicer, centre, axis)
    return loop.mean(axis=0) if len(loop) else centre


def _body_values(mesh: trimesh.Trimesh, slicer: Slicer) -> dict[str, float]:
    """All measurements in metres from a canonical body."""
    stature = float(mesh.vertices[:, 2].max())
    crotch = _crotch_height(mesh, stature)
    right, left = _find_axillae(slicer, stature)
    axilla = min(right.height, left.height)
    hip_level, hip = _extreme_girth(
        slicer, crotch + HIP_ABOVE_CROTCH[0] * stature, crotch + HIP_ABOVE_CROTCH[1] * stature, stature, "max"
    )
    chest_level, chest = _extreme_girth(
        slicer, axilla - CHEST_BELOW_AXILLA[0] * stature, axilla - CHEST_BELOW_AXILLA[1] * stature, stature, "max"
    )
    _waist_level, waist = _extreme_girth(slicer, hip_level, chest_level, stature, "min")
    above_axillae = _faces_above(mesh, axilla)
    shoulders = [_shoulder_point(above_axillae, a, s) for a, s in ((right, 1.0), (left, -1.0))]
    arms = [float(np.linalg.norm(_wrist_centre(_arm_mesh(mesh, p, s), p) - p)) for p, s in zip(shoulders, (1.0, -1.0))]
    return {
        "height": stature,
        "chest_girth": chest,
        "waist_girth": waist,
        "hip_girth": hip,
        "inseam": crotch,
        "shoulder_width": float(np.linalg.norm(shoulders[0] - shoulders[1])),
        "arm_length": float(np.mean(arms)),
    }


def measure_body(mesh: trimesh.Trimesh, *, up: str = "z", units: str = "m", canonical: bool = False) -> BodyMeasurements:
    """Measure a watertight standing body in any position and heading (arms away from the torso).

    ``up`` : the file's vertical axis (x|y|z); ``units`` : the file's length unit (m|cm|mm).
    ``canonical`` : the caller knows the mesh is already in the canonical frame, as
    :func:`canonicalize_body` and the scan's reconstruction return it; it is then measured as
    it is instead of being canonicalised again (``up`` and ``units`` do not apply). A mesh
    whose feet are plainly not on z = 0 is canonicalised all the same.
    Raises :class:`scanning.errors.MeshError`, :class:`ShapeKindError` or :class:`MeasurementError`.
    """
    vertices = np.asarray(mesh.vertices)
    if not (canonical and len(vertices) and abs(float(vertices[:, 2].min())) <= CANONICAL_TOLERANCE_M):
        mesh, _transform = canonicalize_body(mesh, up=up, units=units)
    slicer = Slicer(mesh)
    slicer.index(UP)  # dozens of horizontal cuts follow
    values = _body_values(mesh, slicer)
    return BodyMeasurements.from_mm_dict({name: value * 1000.0 for name, value in values.items()})
