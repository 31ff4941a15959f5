"""Foot measurements (ISO 7250-1 and shoe-last practice) on a watertight foot mesh.

The foot may arrive in any position and heading: :func:`canonicalize_foot` turns the file's
vertical axis onto +z, puts the sole on z = 0, finds the long axis from the footprint and
the heel from where the ankle rises, and moves the heel to the origin with +x toward the
toes. :func:`measure_foot` then reads each measurement from cross-sections at landmarks
found on the shape; definitions are in ``docs/measurements.md``.

Inside: metres. The returned :class:`scanning.types.FootMeasurements` is in millimetres.
"""
from __future__ import annotations

import logging

import numpy as np
import trimesh

from scanning.errors import MeasurementError, ShapeKindError
from scanning.measure.sections import Section, Slicer, convex_perimeter, line_crossings
from scanning.mesh_utils import face_geometry, file_to_canonical, prepare_mesh, principal_direction
from scanning.types import FootMeasurements

_LOGGER = logging.getLogger(__name__)

FOOT_LENGTH_RANGE_M = (0.10, 0.40)
MAX_FOOT_HEIGHT_M = 0.45
MIN_SOLE_FRACTION = 0.10  # of the surface area: flat, facing down, in the lowest 5 % of the height
FOOTPRINT_HEIGHT_FRACTION = 0.3  # below this fraction of the mesh height, the surface is "foot", not leg
BALL_REGION = (0.55, 0.80)  # fractions of length where the forefoot's medial and lateral prominences are told apart
BALL_MEDIAL_STATION = 0.725  # 1st metatarsophalangeal joint, fraction of length (shoe-last / foot-scan practice)
BALL_LATERAL_STATION = 0.635  # 5th metatarsophalangeal joint
TOE_END_STATIONS = (0.90, 0.925, 0.95)  # where the toes' end is read to tell the medial side
TOE_REFERENCE_STATION = 0.68
INSTEP_STATIONS = (0.50, 0.525, 0.55)
ARCH_STATIONS = tuple(np.round(np.arange(0.25, 0.601, 0.025), 3))
ARCH_LINE_INSET = 0.25  # the arch lines run this fraction of the local width inside each edge
HEEL_STATION = 0.17
HEEL_MAX_HEIGHT = 0.12  # heel breadth is taken below this fraction of length (the heel pad)
TOE_STATION = 0.90
TAPE_SMOOTHING_M = 0.002  # girth loops smoothed over this arc against scan noise (0.05 mm shrink at R = 40 mm)
CANONICAL_TOLERANCE_M = 1e-9  # canonicalize_foot puts the heel and the sole exactly on 0
UP = np.array([0.0, 0.0, 1.0])
ALONG = np.array([1.0, 0.0, 0.0])
ACROSS = np.array([0.0, 1.0, 0.0])


def _footprint_frame(mesh: trimesh.Trimesh, centres: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Long axis (2,) heel-to-toe and a point (2,) on it, from the low part of the surface.

    ``centres`` (m, 3) and ``areas`` (m,) are the mesh's face centroids and areas.
    """
    floor, top = mesh.vertices[:, 2].min(), mesh.vertices[:, 2].max()
    low = centres[:, 2] < floor + FOOTPRINT_HEIGHT_FRACTION * (top - floor)
    weights = areas[low]
    planar = centres[low, :2]
    axis = principal_direction(planar, weights)
    along = planar @ axis
    high = mesh.vertices[mesh.vertices[:, 2] > floor + 0.7 * (top - floor), :2] @ axis
    # The ankle rises over the heel: the heel is the end nearer the high part.
    if np.mean(high) > 0.5 * (along.min() + along.max()):
        axis = -axis
    return axis, np.average(planar, axis=0, weights=weights)


def canonicalize_foot(mesh: trimesh.Trimesh, *, up: str = "z", units: str = "m") -> tuple[trimesh.Trimesh, np.ndarray]:
    """The foot in its canonical frame, and the 4x4 transform that took it there.

    Canonical: metres, heel (rearmost point) at x = 0, +x toward the toes along the long
    axis of the footprint, z up with the sole on z = 0, y = 0 on the long axis.
    The transform maps the input's coordinates (in its ``units``) to canonical metres.
    Raises :class:`ShapeKindError` when the shape is not foot-sized.
    """
    prepared = prepare_mesh(mesh, up=up, units=units)
    centres, areas, normals = face_geometry(prepared)
    _check_sole_at_bottom(prepared, centres, areas, normals, up)
    axis, centre = _footprint_frame(prepared, centres, areas)
    rotation = np.array([[axis[0], axis[1], 0.0], [-axis[1], axis[0], 0.0], [0.0, 0.0, 1.0]])
    rotated = prepared.vertices @ rotation.T
    offset = -np.array([rotated[:, 0].min(), rotation[1, :2] @ centre, rotated[:, 2].min()])
    prepared.vertices = rotated + offset
    _check_foot_size(prepared)
    return prepared, file_to_canonical(rotation, offset, up=up, units=units)


def _check_sole_at_bottom(mesh: trimesh.Trimesh, centres: np.ndarray, areas: np.ndarray, normals: np.ndarray, up: str) -> None:
    """A standing foot has a flat sole facing the floor; a foot on its side has none there."""
    floor, top = mesh.vertices[:, 2].min(), mesh.vertices[:, 2].max()
    sole = (normals[:, 2] < -0.9) & (centres[:, 2] < floor + 0.05 * (top - floor))
    fraction = float(areas[sole].sum() / areas.sum())
    if fraction < MIN_SOLE_FRACTION:
        raise ShapeKindError(
            f"shape is not a foot standing on its sole with up = {up!r}: {fraction:.0%} of its surface faces "
            f"the floor at the bottom, expected at least {MIN_SOLE_FRACTION:.0%} (check --up; glTF/GLB files are y-up)",
            sole_fraction=fraction,
        )


def _check_foot_size(mesh: trimesh.Trimesh) -> None:
    vertices = np.asarray(mesh.vertices)
    length, height = np.ptp(vertices[:, 0]), np.ptp(vertices[:, 2])  # a column each: numpy's axis-0 ptp is ~15x slower
    low, high = FOOT_LENGTH_RANGE_M
    if not low <= length <= high or height > MAX_FOOT_HEIGHT_M:
        raise ShapeKindError(
            f"shape is not a foot: expected {low * 1000:.0f}-{high * 1000:.0f} mm long and under "
            f"{MAX_FOOT_HEIGHT_M * 1000:.0f} mm high, got {length * 1000:.0f} mm long, {height * 1000:.0f} mm high "
            "(check --units and --up)",
            length_mm=length * 1000,
            height_mm=height * 1000,
        )


def _section_at(slicer: Slicer, x: float) -> Section:
    section = slicer.section(np.array([x, 0.0, 0.0]), ALONG)
    if section.is_empty():
        raise MeasurementError(f"no foot cross-section at x = {x * 1000:.1f} mm from the heel", x_mm=x * 1000)
    return section


def _mid_y(slicer: Slicer, x: float) -> float:
    """Middle of the y extent of the section at ``x``."""
    points = _section_at(slicer, x).points
    return 0.5 * float(points[:, 1].min() + points[:, 1].max())


def _medial_sign(slicer: Slicer, length: float) -> float:
    """+1 when the foot's medial side (big toe) is toward +y, -1 when toward -y.

    Two cues, added in metres: the toes end on the medial side (the middle of the sections at
    90-95 % of L lies medial of the middle of the ball at 68 %: the hallux is long, the lateral
    toes fall back), and the most medial point of the forefoot (over the 1st metatarsal head)
    lies ahead of the most lateral one (over the 5th), by about 8 % of L. Each alone is
    5-20 mm on feet; only the sign of the sum is used.
    """
    toes = np.mean([_mid_y(slicer, t * length) for t in TOE_END_STATIONS]) - _mid_y(slicer, TOE_REFERENCE_STATION * length)
    low, high = BALL_REGION
    vertices = slicer.vertices
    region = vertices[(vertices[:, 0] >= low * length) & (vertices[:, 0] <= high * length)]
    ahead = region[np.argmax(region[:, 1]), 0] - region[np.argmin(region[:, 1]), 0]
    return 1.0 if toes + ahead >= 0.0 else -1.0


def _edge_point(slicer: Slicer, x: float, side: float) -> np.ndarray:
    """Outermost point (3,) toward ``side`` (+1: +y, -1: -y) of the smoothed section at ``x``."""
    points = _section_at(slicer, x).smoothed(TAPE_SMOOTHING_M).points
    return points[np.argmax(side * points[:, 1])]


def _ball_points(slicer: Slicer, length: float) -> tuple[np.ndarray, np.ndarray]:
    """The medial and lateral ball points (3,): the 1st and 5th metatarsophalangeal joints.

    They are placed at fixed fractions of the length (``BALL_MEDIAL_STATION``,
    ``BALL_LATERAL_STATION``), as last makers and foot-scan studies place them, and each
    is the outermost point of the (tape-smoothed) section across the foot there. A single
    extreme vertex would slide along the flat crest of the ball with every noise draw and
    tilt the ball plane with it; a fixed station moves only with the length.
    """
    medial = _medial_sign(slicer, length)
    return (_edge_point(slicer, BALL_MEDIAL_STATION * length, medial),
            _edge_point(slicer, BALL_LATERAL_STATION * length, -medial))


def _under_surface_height(section: Section, y: float) -> float:
    """Height of the lowest surface point of ``section`` above the floor at lateral position ``y``."""
    crossings = line_crossings(section, ACROSS, y)
    return float(crossings[:, 2].min()) if len(crossings) else np.nan


def _arch_heights(slicer: Slicer, length: float) -> tuple[float, float]:
    """Greatest under-surface height along the +y and -y arch lines (see ARCH_LINE_INSET)."""
    plus, minus = [], []
    for station in ARCH_STATIONS:
        section = _section_at(slicer, station * length)
        y_min, y_max = section.points[:, 1].min(), section.points[:, 1].max()
        inset = ARCH_LINE_INSET * (y_max - y_min)
        plus.append(_under_surface_height(section, y_max - inset))
        minus.append(_under_surface_height(section, y_min + inset))
    return float(np.nanmax(plus)), float(np.nanmax(minus))


def _foot_values(mesh: trimesh.Trimesh, slicer: Slicer) -> dict[str, float]:
    """All measurements in metres from a canonical foot."""
    length = float(mesh.vertices[:, 0].max())
    slicer.index(ALONG)  # two dozen sections across the foot follow
    first, fifth = _ball_points(slicer, length)
    across = first - fifth
    ball_normal = np.cross(np.array([across[0], across[1], 0.0]), UP)
    ball = slicer.section(0.5 * (first + fifth), ball_normal).smoothed(TAPE_SMOOTHING_M)
    instep = [_section_at(slicer, t * length) for t in INSTEP_STATIONS]
    heel = _section_at(slicer, HEEL_STATION * length).points
    heel = heel[heel[:, 2] <= HEEL_MAX_HEIGHT * length]
    return {
        "length": length,
        "width": float(np.hypot(across[0], across[1])),
        "ball_girth": convex_perimeter(ball.points, ball_normal),
        "instep_girth": min(convex_perimeter(s.smoothed(TAPE_SMOOTHING_M).points, ALONG) for s in instep),
        "instep_height": float(instep[0].points[:, 2].max()),
        "arch_height": max(_arch_heights(slicer, length)),
        "heel_width": float(np.ptp(heel[:, 1])),
        "toe_height": float(_section_at(slicer, TOE_STATION * length).points[:, 2].max()),
    }


def measure_foot(mesh: trimesh.Trimesh, *, up: str = "z", units: str = "m", canonical: bool = False) -> FootMeasurements:
    """Measure a watertight foot mesh in any position and heading.

    ``up`` : the file's vertical axis (x|y|z); ``units`` : the file's length unit (m|cm|mm).
    ``canonical`` : the caller knows the mesh is already in the canonical frame, as
    :func:`canonicalize_foot` and the scan's reconstruction return it; it is then measured as
    it is instead of being canonicalised again (``up`` and ``units`` do not apply). A mesh
    whose heel or sole is plainly not at the origin is canonicalised all the same.
    Raises :class:`scanning.errors.MeshError` (open or empty mesh), :class:`ShapeKindError`
    (not foot-sized) or :class:`MeasurementError` (a landmark could not be found).
    """
    if not (canonical and _heel_and_sole_at_origin(mesh)):
        mesh, _transform = canonicalize_foot(mesh, up=up, units=units)
    values = _foot_values(mesh, Slicer(mesh))
    return FootMeasurements.from_mm_dict({name: value * 1000.0 for name, value in values.items()})


def _heel_and_sole_at_origin(mesh: trimesh.Trimesh) -> bool:
    """Whether the rearmost point lies on x = 0 and the lowest on z = 0, as in the canonical frame."""
    vertices = np.asarray(mesh.vertices)
    return len(vertices) > 0 and bool(np.all(np.abs(vertices[:, [0, 2]].min(axis=0)) <= CANONICAL_TOLERANCE_M))
