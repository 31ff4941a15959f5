"""Procedural adult feet: heel, ankle stump, medial arch, ball and five toes.

Each foot is a smooth signed-distance model (see :mod:`scanning.population.sdf`) whose
proportions are drawn from adult ranges by a seed: length 220-300 mm, ball width 35-43 %
of length (narrow to wide), medial arch raised 3-20 mm (flat to high), instep height and
fullness (low to high instep), toe pattern (hallux or second toe longest) and the height at
which the ankle is cut.

The instep is as full as an adult's: adult foot studies reporting both tape girths (e.g.
Hajaghazadeh et al., Health Scope 7(3):e14063, 2018; Witana et al., Int. J. Ind. Ergon. 36,
2006) and shoe-last practice put the instep girth at roughly 100-105 % of the ball girth, so
the midfoot is broad and its dorsum full (``INSTEP_FULLNESS_RANGE``); the generated feet
measure 0.99-1.04 (docs/measurements.md, "Test population").

Canonical frame (metres): heel at the origin, +x toward the toes, z up, sole on z = 0; a
right foot has its medial side (big toe, arch) toward +y, a left foot toward -y.
``mesh.metadata["omnifit_truth"]`` holds the values the model was built with (millimetres;
``instep_fullness`` is a dimensionless exponent).
"""
from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass

import numpy as np
import trimesh

from scanning.population import sdf

_LOGGER = logging.getLogger(__name__)

GRID_SPACING_M = 0.0015
SIDES = ("right", "left")
# Dorsum (top) height of the midfoot tube at fractions of length, as a fraction of length;
# the 0.5 station is replaced by the drawn instep height.
_DORSUM_T = np.array([0.08, 0.22, 0.36, 0.50, 0.60, 0.69])
_DORSUM_H = np.array([0.20, 0.27, 0.262, 0.235, 0.20, 0.155])
# Half-width of the tube's sections at the same stations, as a fraction of ball width: the
# midfoot is nearly as broad as the forefoot (section breadth ~85-90 % of the ball width at
# half length, with the medial bulge over the navicular), not a narrow waist; it narrows
# again toward 60 % so the 1st metatarsal head stays the most medial point of the forefoot.
_HALF_WIDTH_OF_BALL = np.array([0.50, 0.62, 0.82, 0.90, 0.82, 0.78])
_HEEL_HALF_WIDTH = 0.31  # fraction of ball width
_MEDIAL_SHIFT = np.array([0.0, 0.0, 0.01, 0.015, 0.02, 0.025])
# The upper half of the midfoot sections (36-60 % of length) is a superellipse
# |u|^n + |v|^n = 1, steep-sided and full over the dorsum like a real instep; n is drawn per
# foot (lean to full instep) and blends back to ellipses (n = 2) at the heel and the ball.
# The under half stays elliptic: a squarer underside fills the arch shadow differently in a
# scan and turns the scanned footprint axis by a degree or more. With the drawn instep
# height this gives an instep girth of about 99-104 % of the ball girth.
INSTEP_FULLNESS_RANGE = (4.0, 6.0)
_SOLE_DEPTH = 0.035  # how far below the floor the tube's ellipses reach, fraction of length
# Toes, hallux first (right foot, fractions of ball width for y and of length otherwise).
_TOE_BASE_X = np.array([0.735, 0.755, 0.74, 0.72, 0.69])
_TOE_Y = np.array([0.28, 0.05, -0.12, -0.27, -0.39])
_TOE_RADIUS = np.array([0.050, 0.034, 0.032, 0.030, 0.028])
_TOE_TIP_RADIUS_RATIO = 0.82


@dataclass(frozen=True)
class FootParameters:
    """What one foot is built from; lengths in metres."""

    seed: int
    side: str
    length: float
    ball_width: float
    arch_raise: float
    instep_height: float
    cut_height: float
    second_toe_offset: float  # hallux tip minus second-toe tip, metres (negative: Greek foot)
    instep_fullness: float  # superellipse exponent of the midfoot sections (2: ellipse; larger: fuller, squarer)


def draw_foot_parameters(seed: int, side: str = "right") -> FootParameters:
    """Draw one adult foot's proportions from ``seed``; ``side`` is ``right`` or ``left``."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    rng = np.random.default_rng(seed)
    length = rng.uniform(0.220, 0.300)
    return FootParameters(
        seed=int(seed),
        side=side,
        length=length,
        ball_width=length * rng.uniform(0.35, 0.43),
        arch_raise=rng.uniform(0.003, 0.020),
        instep_height=length * rng.uniform(0.215, 0.255),
        cut_height=rng.uniform(0.100, 0.120),
        second_toe_offset=length * rng.uniform(-0.012, 0.02),
        instep_fullness=rng.uniform(*INSTEP_FULLNESS_RANGE),
    )


def _section_exponents(fullness: float) -> np.ndarray:
    """Superellipse exponent of the tube's sections at each ``_DORSUM_T`` station."""
    return np.array([2.0, 2.0, fullness, fullness, fullness, 2.0])


def _midfoot_tube(points: np.ndarray, p: FootParameters) -> np.ndarray:
    """Heel-to-ball tube of elliptic sections, full (superelliptic) over the instep, flat-bottomed once cut by the floor."""
    length = p.length
    t = np.clip(points[:, 0] / length, _DORSUM_T[0], _DORSUM_T[-1])
    dorsum = _DORSUM_H.copy()
    dorsum[3] = p.instep_height / length
    top = np.interp(t, _DORSUM_T, dorsum) * length
    bottom = -_SOLE_DEPTH * length
    centre_z = 0.5 * (top + bottom)
    half_height = 0.5 * (top - bottom)
    half_width = np.interp(t, _DORSUM_T, _HALF_WIDTH_OF_BALL) * 0.5 * p.ball_width
    centre_y = np.interp(t, _DORSUM_T, _MEDIAL_SHIFT) * length
    v = (points[:, 2] - centre_z) / half_height
    # Only the dorsum (upper half) is full; the under half stays elliptic, as the sole and arch are.
    exponent = np.where(v > 0.0, np.interp(t, _DORSUM_T, _section_exponents(p.instep_fullness)), 2.0)
    rho = sdf.superellipse_norm((points[:, 1] - centre_y) / half_width, v, exponent)
    section = (rho - 1.0) * np.minimum(half_width, half_height)
    beyond = np.maximum(_DORSUM_T[0] * length - points[:, 0], points[:, 0] - _DORSUM_T[-1] * length)
    return np.maximum(section, beyond)


def _ball_ellipsoid(p: FootParameters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre (3,), radii (3,) and rotation (3, 3) of the ellipsoid over the metatarsal heads.

    Its long axis runs from the 5th head (back, lateral) to the 1st (forward, medial).
    """
    length, width = p.length, p.ball_width
    mth1 = np.array([0.72 * length, 0.5 * width])
    mth5 = np.array([0.635 * length, -0.5 * width])
    across = (mth1 - mth5) / np.linalg.norm(mth1 - mth5)
    rotation = np.array([[across[1], across[0], 0.0], [-across[0], across[1], 0.0], [0.0, 0.0, 1.0]])
    centre = np.array([*(0.5 * (mth1 + mth5)), 0.05 * length])
    radii = np.array([0.085 * length, 0.5 * np.linalg.norm(mth1 - mth5), 0.09 * length])
    return centre, radii, rotation


def ball_width_of(p: FootParameters) -> float:
    """Horizontal distance (metres) between the ball ellipsoid's most medial and most lateral points."""
    _centre, radii, rotation = _ball_ellipsoid(p)
    shape = rotation @ np.diag(radii**2) @ rotation.T
    across = np.array([0.0, 1.0, 0.0])
    support = shape @ across / np.sqrt(across @ shape @ across)  # extreme point minus centre
    return float(2.0 * np.hypot(support[0], support[1]))


def _ball(points: np.ndarray, p: FootParameters) -> np.ndarray:
    """Oblique ellipsoid over the metatarsal heads."""
    return sdf.ellipsoid(points, *_ball_ellipsoid(p))


def _toes(points: np.ndarray, p: FootParameters) -> np.ndarray:
    """Five tapered toes; the longest tip reaches exactly x = length."""
    length, width = p.length, p.ball_width
    tips = np.array([1.0, 1.0 - p.second_toe_offset / length, 0.955, 0.915, 0.87])
    tips = tips / tips.max()
    toes = []
    for base_x, y, radius, tip in zip(_TOE_BASE_X, _TOE_Y, _TOE_RADIUS, tips):
        r_base = radius * length
        r_tip = _TOE_TIP_RADIUS_RATIO * r_base
        start = np.array([base_x * length, y * width, 1.15 * r_base])
        end = np.array([tip * length - r_tip, 0.85 * y * width, 0.9 * r_tip])
        toes.append(sdf.round_cone(points, start, end, r_base, r_tip))
    return functools.reduce(lambda a, b: sdf.smooth_union(a, b, 0.002), toes)


def _leg_and_heel(points: np.ndarray, p: FootParameters) -> np.ndarray:
    """Heel pad, ankle stump (cut later) and the two malleoli."""
    length = p.length
    heel_half_width = _HEEL_HALF_WIDTH * p.ball_width
    heel = sdf.ellipsoid(points, np.array([0.13 * length, 0.0, 0.11 * length]), np.array([0.13 * length, heel_half_width, 0.15 * length]))
    leg = sdf.elliptic_cylinder(
        points, np.array([0.235 * length, -0.005 * length]), np.array([0.105 * length, 0.115 * length]), (0.06 * length, 1.0)
    )
    medial = sdf.ellipsoid(points, np.array([0.24 * length, 0.095 * length, 0.29 * length]), np.full(3, 0.045 * length))
    lateral = sdf.ellipsoid(points, np.array([0.26 * length, -0.105 * length, 0.24 * length]), np.full(3, 0.045 * length))
    field = sdf.smooth_union(heel, leg, 0.05 * length)
    field = sdf.smooth_union(field, medial, 0.03 * length)
    return sdf.smooth_union(field, lateral, 0.03 * length)


def _arch_cutter(points: np.ndarray, p: FootParameters) -> np.ndarray:
    """Ellipsoid under the medial midfoot whose removal lifts the sole into an arch."""
    length = p.length
    half_width = np.interp(0.43, _DORSUM_T, _HALF_WIDTH_OF_BALL) * 0.5 * p.ball_width
    medial_edge = np.interp(0.43, _DORSUM_T, _MEDIAL_SHIFT) * length + half_width
    centre = np.array([0.43 * length, medial_edge, 0.0])
    return sdf.ellipsoid(points, centre, np.array([0.2 * length, 1.1 * half_width, p.arch_raise]))


def foot_field(points: np.ndarray, p: FootParameters) -> np.ndarray:
    """Signed distance (metres, negative inside) of the right-foot model at ``points`` (n, 3)."""
    if p.side == "left":
        points = points * np.array([1.0, -1.0, 1.0])
    length = p.length
    body = sdf.smooth_union(_midfoot_tube(points, p), _ball(points, p), 0.02 * length)
    body = sdf.smooth_union(body, _leg_and_heel(points, p), 0.04 * length)
    body = sdf.smooth_union(body, _toes(points, p), 0.025 * length)
    body = sdf.smooth_subtract(body, _arch_cutter(points, p), 0.01 * length)
    body = np.maximum(body, -points[:, 2])
    return np.maximum(body, points[:, 2] - p.cut_height)


def make_foot(seed: int, *, side: str = "right") -> trimesh.Trimesh:
    """A watertight adult foot in the canonical frame (metres), varied by ``seed``.

    ``side`` : ``"right"`` (medial toward +y) or ``"left"`` (mirror image).
    The mesh's ``metadata["omnifit_truth"]`` records the construction values in millimetres.
    """
    p = draw_foot_parameters(seed, side)
    half = 0.5 * p.ball_width + 0.02
    mesh = sdf.mesh_from_field(
        lambda pts: foot_field(pts, p), np.array([0.0, -half, 0.0]), np.array([p.length, half, p.cut_height]), GRID_SPACING_M
    )
    truth = {k: (v * 1000.0 if isinstance(v, float) and k != "instep_fullness" else v) for k, v in asdict(p).items()}
    mesh.metadata["omnifit_truth"] = {"kind": "foot", **truth, "ball_points_distance": ball_width_of(p) * 1000.0}
    return mesh


def foot_population(n: int, seed: int = 0) -> list[trimesh.Trimesh]:
    """``n`` feet from consecutive seeds starting at ``seed``, alternating right and left."""
    return [make_foot(seed + i, side=SIDES[i % 2]) for i in range(n)]
