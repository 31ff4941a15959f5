"""The shopper's pose for a body scan, checked on the depth frames before anything is fused.

The body measurements need the kiosk's A-pose: arms hanging a hand's width away from the
torso and feet about hip-width apart. Arms against the torso close the armpits (no armpit,
or one found far too low: chest level and shoulder points move with it); raised arms (a
T-pose) reach out of the scan volume and fold the armpits; thighs close together leave a
slit below the crotch that no camera sees into, which fusion fills, so the inseam reads
20-70 mm short. None of this can be told apart from the body's shape once fused, but the
raw points show it plainly: :func:`check_body_pose` reads, level by level, the gaps
between torso and arms and between the legs in the cameras' points above the platform,
and names what to change.

Frame: the levelled platform frame (z up, platform at z = 0), metres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from scanning.reconstruct.fusion import FusionSettings, camera_points, in_volume
from scanning.reconstruct.quality import QualityFlag
from scanning.sources.frame import RGBDFrame

BIN_M = 0.005  # lateral histogram bin
MIN_POINTS_PER_BIN = 3  # fewer points in a bin of a level's slab count as empty: stray flying pixels
SLAB = 0.02  # fraction of stature: thickness of each level's slab of points
NOISE_GAP_M = 0.010  # an empty run this narrow inside the points is sparse sampling, not a gap
POINT_STRIDE = 2  # every second pixel of each camera: at 4 a slab's bins are too sparse to tell gaps from
ARM_LEVELS = (0.40, 0.66)  # fractions of stature: forearms and hands of hanging arms
LEG_LEVELS = (0.08, 0.30)  # fractions of stature: ankles to knees
SHOULDER_LEVELS = (0.74, 0.86)  # fractions of stature: raised arms lie here
# The kiosk asks for the arms "a hand's width" (about 80 mm) from the torso; half of that at the
# widest level still keeps the slit under the armpit open to the low cameras.
MIN_ARM_GAP_M = 0.04
# Feet "about hip-width apart" put the shins 100 mm or more apart; over half of that opens the
# thighs' wedge below the crotch to the cameras; feet together leave the knees touching or a
# couple of centimetres apart.
MIN_LEG_GAP_M = 0.06
RAISED_ARM_REACH = 0.33  # fraction of stature: an arm at shoulder level this far out is raised
# fraction of stature: the length of the run of points beyond that reach that makes an arm (a raised
# arm runs out 0.4 of stature more); stray flying pixels off the shoulders and the edge of the scan
# volume make isolated bins
RAISED_ARM_MIN_RUN = 0.06
TORSO_SEARCH = (0.45, 0.75)  # fractions of stature whose points give the body's centre and left-right axis


@dataclass(frozen=True)
class PoseReport:
    """What the pose check read (mm): the widest gap between torso and each arm (None: no arm
    seen apart from the torso), the widest gap between the legs, and the flags it raised."""

    arm_gap_mm: dict[str, float | None]
    leg_gap_mm: float
    arms_raised: dict[str, bool]
    flags: list[QualityFlag]

    def to_dict(self) -> dict[str, object]:
        return {"arm_gap_mm": self.arm_gap_mm, "leg_gap_mm": self.leg_gap_mm, "arms_raised": self.arms_raised}


def check_frames_pose(frames: list[RGBDFrame], to_level: np.ndarray, fusion: FusionSettings,
                      min_height_m: float = 0.008) -> PoseReport:
    """:func:`check_body_pose` on every camera's points in the scan volume that lie more than
    ``min_height_m`` above the platform; ``to_level`` (4, 4) levels the platform frame."""
    lower = np.array(fusion.volume_min, dtype=np.float32)
    upper = np.array(fusion.volume_max, dtype=np.float32)
    clouds = []
    for frame in frames:
        points, depth = camera_points(frame, POINT_STRIDE)
        levelled = trimesh.transform_points(points[in_volume(points, depth, lower, upper)].astype(np.float64), to_level)
        clouds.append(levelled[levelled[:, 2] > min_height_m])
    return check_body_pose(np.concatenate(clouds) if clouds else np.empty((0, 3)))


def check_body_pose(points: np.ndarray) -> PoseReport:
    """Read the pose from ``points`` (n, 3): every camera's points above the platform,
    levelled frame. Returns the gaps and one flag per thing the shopper should change."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 100:
        return PoseReport({"right": None, "left": None}, 0.0, {"right": False, "left": False}, [])
    stature = float(np.percentile(points[:, 2], 99.9))
    lateral_u = _lateral_coordinate(points, stature)
    arm_gap, raised, flags = {}, {}, []
    for name, side in (("right", 1.0), ("left", -1.0)):
        gaps = [_arm_gap(side * lateral_u[mask]) for mask in _slabs(points, stature, ARM_LEVELS)]
        seen = [g for g in gaps if g is not None]
        arm_gap[name] = round(max(seen) * 1000.0, 1) if seen else None
        raised[name] = any(_arm_out(side * lateral_u[mask], stature) for mask in _slabs(points, stature, SHOULDER_LEVELS))
    leg_gap = max((_leg_gap(lateral_u[mask]) for mask in _slabs(points, stature, LEG_LEVELS)), default=0.0)
    if any(raised.values()):
        which = "both arms are" if all(raised.values()) else f"the {'right' if raised['right'] else 'left'} arm is"
        flags.append(QualityFlag(
            "pose_arms_raised",
            f"{which} held out sideways; lower the arms to hang a hand's width away from "
            f"the body (A-pose) and scan again: raised arms leave the scan volume and fold the armpits, "
            f"so chest, shoulders and arm length would be measured wrongly"))
    else:
        close = [name for name in ("right", "left") if (arm_gap[name] or 0.0) < MIN_ARM_GAP_M * 1000.0]
        if close:
            gaps_text = ", ".join(f"{name} {arm_gap[name] or 0:.0f} mm" for name in close)
            flags.append(QualityFlag(
                "pose_arms_against_body",
                f"the {' and '.join(close)} arm{'s' if len(close) > 1 else ''} touch{'' if len(close) > 1 else 'es'} "
                f"the body (gap {gaps_text}, needed {MIN_ARM_GAP_M * 1000:.0f}); hold the arms a hand's width away "
                f"from the body (A-pose) and scan again: otherwise the armpits are closed and chest and shoulders "
                f"are measured at the wrong level"))
    if leg_gap < MIN_LEG_GAP_M:
        flags.append(QualityFlag(
            "pose_feet_together",
            f"the legs stand {leg_gap * 1000:.0f} mm apart (needed {MIN_LEG_GAP_M * 1000:.0f}); stand with the feet "
            f"about hip-width apart and scan again: otherwise the cameras cannot see between the thighs and the "
            f"inseam is measured short"))
    return PoseReport(arm_gap, round(leg_gap * 1000.0, 1), raised, flags)


def _lateral_coordinate(points: np.ndarray, stature: float) -> np.ndarray:
    """Each point's signed distance (n,) along the body's left-right axis from its centre.

    The axis is the widest horizontal direction of the torso band's points (shoulders and
    arms are wider than the body is deep); the centre is that band's median. Which way is
    right does not matter here: both sides are checked alike.
    """
    band = points[_band(points, stature, TORSO_SEARCH), :2]
    centre = np.median(band, axis=0)
    covariance = np.cov((band - centre).T)
    _values, vectors = np.linalg.eigh(covariance)
    return (points[:, :2] - centre) @ vectors[:, -1]


def _band(points: np.ndarray, stature: float, levels: tuple[float, float]) -> np.ndarray:
    return (points[:, 2] >= levels[0] * stature) & (points[:, 2] < levels[1] * stature)


def _slabs(points: np.ndarray, stature: float, levels: tuple[float, float]) -> list[np.ndarray]:
    """Masks of the slabs SLAB of stature thick stepping through ``levels``."""
    starts = np.arange(levels[0], levels[1], SLAB) * stature
    return [(points[:, 2] >= z) & (points[:, 2] < z + SLAB * stature) for z in starts]


def _occupied(u: np.ndarray, reach: float) -> np.ndarray:
    """Occupied BIN_M bins over [-reach, reach] (bin i covers -reach + i * BIN_M)."""
    counts, _edges = np.histogram(u, bins=int(round(2 * reach / BIN_M)), range=(-reach, reach))
    occupied = counts >= MIN_POINTS_PER_BIN
    # fill empty runs of at most NOISE_GAP_M between occupied bins (a 1-D closing)
    filled = np.flatnonzero(occupied)
    for start, stop in zip(filled[:-1], filled[1:]):
        if 1 < stop - start <= int(round(NOISE_GAP_M / BIN_M)) + 1:
            occupied[start:stop] = True
    return occupied


def _arm_out(u: np.ndarray, stature: float) -> bool:
    """Whether the points of one slab hold an arm held out toward +u: a run of occupied bins
    RAISED_ARM_MIN_RUN of stature long beyond RAISED_ARM_REACH of stature from the centre."""
    reach = 1.0
    occupied = _occupied(u, reach)
    start = len(occupied) // 2 + int(round(RAISED_ARM_REACH * stature / BIN_M))
    beyond = np.concatenate([[False], occupied[start:], [False]]).astype(np.int8)
    changes = np.flatnonzero(np.diff(beyond))
    longest = int(np.max(changes[1::2] - changes[::2])) if len(changes) else 0
    return longest * BIN_M >= RAISED_ARM_MIN_RUN * stature


def _arm_gap(u: np.ndarray) -> float | None:
    """Width (m) of the first empty run outward (+u) from the torso's run around u = 0 up to
    the next occupied bin: the gap to the arm; None when nothing lies beyond the torso."""
    reach = 1.0
    occupied = _occupied(u, reach)
    centre = len(occupied) // 2
    if not occupied[centre - 2:centre + 2].any():
        return None  # no torso at this level
    beyond = np.flatnonzero(~occupied[centre:])
    if len(beyond) == 0:
        return None
    edge = centre + int(beyond[0])
    after = np.flatnonzero(occupied[edge:])
    if len(after) == 0:
        return None
    return float(after[0]) * BIN_M


def _leg_gap(u: np.ndarray) -> float:
    """Width (m) of the empty run around u = 0 between the legs; 0 when a leg or both cover it."""
    reach = 0.6
    occupied = _occupied(u, reach)
    centre = len(occupied) // 2
    if occupied[centre]:
        return 0.0
    right = np.flatnonzero(occupied[centre:])
    left = np.flatnonzero(occupied[:centre][::-1])
    if len(right) == 0 or len(left) == 0:
        return 0.0  # one leg only: the feet stand on one line or the shopper stands on one leg
    return float(right[0] + left[0] + 1) * BIN_M
