"""Procedural standing adult bodies: head, neck, torso, arms held slightly away, legs apart, feet.

Each body is a signed-distance model (see :mod:`scanning.population.sdf`) drawn from a seed:
height 1.50-1.95 m, a build between the typical female and male torso shapes, and a weight
factor that widens or narrows the torso and limbs. Proportions follow adult anthropometric
ratios to stature (head ~13 %, crotch ~45 %, shoulders ~81 %).

Canonical frame (metres): feet on z = 0, facing +y, x toward the body's right.
The torso is a loft of horizontal ellipses, so its chest, waist and hip girths are known in
closed form; ``mesh.metadata["omnifit_truth"]`` records them and the other construction
values in millimetres.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass, replace

import numpy as np
import trimesh
from scipy.interpolate import PchipInterpolator

from scanning.population import sdf

_LOGGER = logging.getLogger(__name__)

GRID_SPACING_M = 0.006
# Torso stations, fractions of stature: level, half-width (x), half-depth (y), centre y.
# Rows: crotch cap, hip, waist, chest, axilla, shoulder. Female and male columns blend by build.
_TORSO_Z = np.array([0.460, 0.505, 0.615, 0.720, 0.755, 0.805])
_HALF_WIDTH = {"female": np.array([0.100, 0.108, 0.078, 0.088, 0.088, 0.098]), "male": np.array([0.095, 0.100, 0.084, 0.100, 0.100, 0.110])}
_HALF_DEPTH = {"female": np.array([0.060, 0.072, 0.056, 0.072, 0.066, 0.050]), "male": np.array([0.056, 0.066, 0.060, 0.068, 0.066, 0.052])}
_CENTRE_Y = np.array([-0.008, -0.012, 0.0, 0.006, 0.004, -0.004])
HIP_STATION, WAIST_STATION, CHEST_STATION = 1, 2, 3
ARM_GAP = 0.008  # fraction of stature between the hanging arm and the torso below the armpit
ARMPIT_ABOVE_CHEST = 0.03  # fraction of stature


@dataclass(frozen=True)
class BodyParameters:
    """What one body is built from; lengths in metres, angles in degrees."""

    seed: int
    height: float
    build: float  # 0 = typical female torso, 1 = typical male torso
    weight: float  # girth factor, 1 = average
    arm_abduction_deg: float
    stance: float  # half the distance between the ankles, fraction of height
    # False only for bodies posed wrongly on purpose (arms down against the torso), to test the
    # scan's pose check: the drawn abduction is then used even where the arm meets the torso.
    keep_arm_gap: bool = True


def draw_body_parameters(seed: int) -> BodyParameters:
    """Draw one adult body's proportions from ``seed``."""
    rng = np.random.default_rng(seed)
    return BodyParameters(
        seed=int(seed),
        height=rng.uniform(1.50, 1.95),
        build=rng.uniform(0.0, 1.0),
        weight=rng.uniform(0.88, 1.22),
        arm_abduction_deg=rng.uniform(18.0, 26.0),
        stance=rng.uniform(0.055, 0.075),
    )


def torso_sections(p: BodyParameters) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Levels, half-widths, half-depths and centre y (metres) of the torso's elliptic stations."""
    h = p.height
    half_width = (1.0 - p.build) * _HALF_WIDTH["female"] + p.build * _HALF_WIDTH["male"]
    half_depth = (1.0 - p.build) * _HALF_DEPTH["female"] + p.build * _HALF_DEPTH["male"]
    # Weight widens the waist most: fat collects there first.
    girth = np.full(len(_TORSO_Z), p.weight)
    girth[WAIST_STATION] = p.weight**1.6
    return _TORSO_Z * h, half_width * girth * h, half_depth * girth * h, _CENTRE_Y * h


def ellipse_perimeter(a: float, b: float) -> float:
    """Ramanujan's second approximation of an ellipse's perimeter (relative error < 1e-9 here)."""
    t = ((a - b) / (a + b)) ** 2
    return float(np.pi * (a + b) * (1.0 + 3.0 * t / (10.0 + np.sqrt(4.0 - 3.0 * t))))


def _torso(points: np.ndarray, p: BodyParameters) -> np.ndarray:
    """Loft of horizontal ellipses through the stations, capped below the crotch and over the shoulders.

    Shape-preserving cubic (PCHIP) interpolation between stations keeps the torso smooth, as a
    body is, and puts every girth extreme exactly on a station, where its girth is known.
    """
    levels, half_width, half_depth, centre_y = torso_sections(p)
    z = np.clip(points[:, 2], levels[0], levels[-1])
    a = PchipInterpolator(levels, half_width)(z)
    b = PchipInterpolator(levels, half_depth)(z)
    rho = np.hypot(points[:, 0] / a, (points[:, 1] - PchipInterpolator(levels, centre_y)(z)) / b)
    section = (rho - 1.0) * np.minimum(a, b)
    # Rounded ends: an ellipsoid cap below the crotch station and over the shoulders.
    below = levels[0] - points[:, 2]
    above = points[:, 2] - levels[-1]
    cap_depth = np.where(below > 0, 0.035 * p.height, 0.05 * p.height)
    beyond = np.maximum(np.maximum(below, above), 0.0)
    capped = np.hypot(np.maximum(section + np.minimum(a, b), 0.0) / np.minimum(a, b), beyond / cap_depth)
    return np.where(beyond > 0, (capped - 1.0) * np.minimum(cap_depth, np.minimum(a, b)), section)


def _head_and_neck(points: np.ndarray, p: BodyParameters) -> np.ndarray:
    h = p.height
    head = sdf.ellipsoid(points, np.array([0.0, 0.008 * h, 0.935 * h]), np.array([0.046, 0.056, 0.065]) * h)
    neck_radius = 0.034 * h * p.weight**0.5
    neck = sdf.round_cone(points, np.array([0.0, -0.004 * h, 0.79 * h]), np.array([0.0, 0.0, 0.885 * h]), neck_radius, 0.9 * neck_radius)
    return sdf.smooth_union(head, neck, 0.02 * h)


def arm_joints(p: BodyParameters, side: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Shoulder, elbow, wrist centres (3,) of one arm and its abduction angle (radians).

    The shoulder joint sits just outside the torso's shoulder line; the arm is abducted at
    least enough to leave a gap (ARM_GAP of stature) beside the torso from ARMPIT_ABOVE_CHEST
    above the chest level downward, so the armpit always sits clearly above the chest and the
    arms never fuse with the torso below it.
    """
    h = p.height
    levels, half_width, _depth, _centre = torso_sections(p)
    shoulder = np.array([side * (half_width[-1] + 0.004 * h), -0.004 * h, 0.795 * h])
    clear_level = levels[CHEST_STATION] + ARMPIT_ABOVE_CHEST * h
    drop = shoulder[2] - clear_level
    torso_half_width = float(np.interp(clear_level, levels, half_width))
    needed = (torso_half_width + ARM_GAP * h + _upper_arm_radius(p) - abs(shoulder[0])) / drop
    angle = max(np.radians(p.arm_abduction_deg), np.arctan(needed)) if p.keep_arm_gap else np.radians(p.arm_abduction_deg)
    down = np.array([side * np.sin(angle), 0.0, -np.cos(angle)])
    forearm_dir = np.array([side * np.sin(angle), 0.12, -np.cos(angle)])
    elbow = shoulder + 0.186 * h * down
    wrist = elbow + 0.146 * h * forearm_dir / np.linalg.norm(forearm_dir)
    return shoulder, elbow, wrist, float(angle)


def _upper_arm_radius(p: BodyParameters) -> float:
    return 0.028 * p.height * p.weight


def _arm(points: np.ndarray, p: BodyParameters, side: float) -> np.ndarray:
    """One arm, ``side`` +1 (right, +x) or -1 (left); shoulder, upper arm, forearm, hand."""
    h, w = p.height, p.weight
    shoulder, elbow, wrist, _angle = arm_joints(p, side)
    forearm_dir = (wrist - elbow) / np.linalg.norm(wrist - elbow)
    upper = sdf.round_cone(points, shoulder, elbow, _upper_arm_radius(p), 0.021 * h * w)
    fore = sdf.round_cone(points, elbow, wrist, 0.021 * h * w, 0.0155 * h * w**0.5)
    hand_axis = forearm_dir
    across = np.array([0.0, 1.0, 0.0]) - hand_axis[1] * hand_axis
    across /= np.linalg.norm(across)
    rotation = np.stack([hand_axis, across, np.cross(hand_axis, across)], axis=1)
    hand = sdf.ellipsoid(points, wrist + 0.05 * h * hand_axis, np.array([0.058 * h, 0.027 * h, 0.013 * h]), rotation)
    arm = sdf.smooth_union(sdf.smooth_union(upper, fore, 0.01 * h), hand, 0.012 * h)
    return arm


def _leg(points: np.ndarray, p: BodyParameters, side: float) -> np.ndarray:
    """One leg and foot, ``side`` +1 (right, +x) or -1 (left); the foot points forward (+y)."""
    h, w = p.height, p.weight
    hip = np.array([side * 0.055 * h * w, -0.008 * h, 0.43 * h])
    ankle = np.array([side * p.stance * h, 0.0, 0.045 * h])
    knee = 0.55 * hip + 0.45 * ankle + np.array([0.0, 0.006 * h, 0.0])
    knee[2] = 0.285 * h
    thigh = sdf.round_cone(points, hip, knee, 0.042 * h * w, 0.032 * h * w**0.5)
    shank = sdf.round_cone(points, knee, ankle, 0.032 * h * w**0.5, 0.02 * h)
    foot = sdf.ellipsoid(points, ankle + np.array([0.0, 0.042 * h, -0.02 * h]), np.array([0.03, 0.08, 0.032]) * h)
    return sdf.smooth_union(sdf.smooth_union(thigh, shank, 0.02 * h), foot, 0.02 * h)


def body_field(points: np.ndarray, p: BodyParameters) -> np.ndarray:
    """Signed distance (metres, negative inside) of the body model at ``points`` (n, 3)."""
    h = p.height
    torso = sdf.smooth_union(_torso(points, p), _head_and_neck(points, p), 0.03 * h)
    legs = functools.reduce(np.minimum, [_leg(points, p, s) for s in (1.0, -1.0)])
    arms = functools.reduce(np.minimum, [_arm(points, p, s) for s in (1.0, -1.0)])
    body = sdf.smooth_union(torso, legs, 0.02 * h)
    body = sdf.smooth_union(body, arms, 0.006 * h)
    return np.maximum(body, -points[:, 2])


def body_truth(p: BodyParameters) -> dict[str, float]:
    """Construction values in millimetres: stature and the torso's elliptic girths."""
    levels, half_width, half_depth, _centre = torso_sections(p)
    girths = {
        f"{name}_girth": ellipse_perimeter(half_width[i], half_depth[i]) * 1000.0
        for name, i in (("hip", HIP_STATION), ("waist", WAIST_STATION), ("chest", CHEST_STATION))
    }
    stations = (("hip", HIP_STATION), ("waist", WAIST_STATION), ("chest", CHEST_STATION))
    levels_mm = {f"{name}_level": levels[i] * 1000.0 for name, i in stations}
    return {"height": p.height * 1000.0, "crotch_height": (levels[0] - 0.035 * p.height) * 1000.0, **girths, **levels_mm}


def make_body(seed: int, *, arm_abduction_deg: float | None = None, stance: float | None = None) -> trimesh.Trimesh:
    """A watertight standing adult body in the canonical frame (metres), varied by ``seed``.

    ``arm_abduction_deg`` and ``stance`` (half the ankle distance, fraction of height) pose it
    otherwise than drawn: a given abduction is used as it is, even where the arm then touches
    the torso (arms down, ~3 degrees), and a stance of ~0.02 puts the feet together.
    """
    p = draw_body_parameters(seed)
    if arm_abduction_deg is not None:
        p = replace(p, arm_abduction_deg=float(arm_abduction_deg), keep_arm_gap=False)
    if stance is not None:
        p = replace(p, stance=float(stance))
    h = p.height
    half_span = max(abs(arm_joints(p, 1.0)[2][0]), 0.15 * h) + 0.07 * h
    lower = np.array([-half_span, -0.1 * h, 0.0])
    upper = np.array([half_span, 0.14 * h, h])
    mesh = sdf.mesh_from_field(lambda pts: body_field(pts, p), lower, upper, GRID_SPACING_M)
    mesh.metadata["omnifit_truth"] = {"kind": "body", **asdict(p), **body_truth(p)}
    return mesh


def body_population(n: int, seed: int = 0) -> list[trimesh.Trimesh]:
    """``n`` bodies from consecutive seeds starting at ``seed``."""
    return [make_body(seed + i) for i in range(n)]
