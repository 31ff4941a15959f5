"""Reconstruction: calibrated RGB-D frames → watertight meshes of the feet or the body.

``reconstruct(frames, kind)`` runs the stages in order: fit the platform plane
(RANSAC) to the points in the scan volume, find the footprint of what stands on it,
fuse every depth image into a TSDF over those footprints (``VoxelBlockGrid``) with the
platform cut away at ``cut_height_m`` and unseen space taken as solid (which fills the
holes), extract the closed surface (marching cubes), settle it on the platform (for feet, the
walls continue along their slope down through the cut-away millimetres), split
the feet, keep the large pieces, smooth lightly (Taubin) and move each part into its
canonical frame (``scanning.measure.canonicalize_*``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import trimesh

from scanning.errors import PoseError, ReconstructionError, ScanningError
from scanning.mesh_utils import is_closed
from scanning.reconstruct.cleanup import keep_large_components, make_watertight, smooth
from scanning.reconstruct.fusion import (
    FUSION_SETTINGS,
    FusionSettings,
    Slab,
    block_keys,
    camera_points,
    fuse_solid,
    in_volume,
)
from scanning.reconstruct.pose import check_frames_pose
from scanning.reconstruct.quality import QualityFlag, ScanQuality, assess_part, check_frames
from scanning.reconstruct.segment import Floor, fit_floor, footprint_boxes, settle_on_floor, split_feet
from scanning.sources.frame import RGBDFrame, is_plantar

_LOGGER = logging.getLogger(__name__)

OBJECT_MIN_HEIGHT_M = 0.008  # points higher than this above the platform belong to the shopper
MIN_OBJECT_POINTS = 400
FOOTPRINT_MARGIN_M = 0.012
FLOOR_STRIDE = 4


@dataclass(frozen=True)
class ScanSettings:
    """What to reconstruct and how: fusion grid, cut heights (metres above the platform)."""

    kind: str
    fusion: FusionSettings
    cut_height_m: float
    top_cut_m: float | None
    expected_parts: int
    extrapolate_walls: bool = False


# Feet are cut 2 mm above the platform: every millimetre cut away is sole edge nobody saw, to be
# made up by the settle step. The platform's depth noise at the foot rig's range is 0.3-0.4 mm per
# pixel (D4xx model, measured on the rig's frames), so 2 mm keeps it out with room to spare; a real
# platform must be flat to about 1 mm under the feet. Below the cut the walls continue along their
# slope where they round under toward the floor (``extrapolate_walls``, see ``settle_on_floor``);
# extruded straight down from a 4 mm cut they widened every section's bottom by 2-3 mm a side and
# read the girths 2-4 mm long. (Over 60 feet, the 2 mm cut gave instep girth MAE 1.9 mm, the 4 mm
# cut with the same extrapolation 2.1 mm.)
SCAN_SETTINGS = {
    "foot": ScanSettings("foot", FUSION_SETTINGS["foot"], cut_height_m=0.002, top_cut_m=0.12, expected_parts=2,
                         extrapolate_walls=True),
    "body": ScanSettings("body", FUSION_SETTINGS["body"], cut_height_m=0.012, top_cut_m=None, expected_parts=1),
}


def scan_settings(kind: str, frames: list[RGBDFrame]) -> ScanSettings:
    """The settings for ``kind`` and this rig. Feet on a glass platform seen by a plantar
    camera keep their walls straight below the cut: that camera has carved the rounded
    sole edge down to the cut, so the walls there already lean in, and continuing them
    along that slope narrowed every section's bottom (ball girth 0.9 mm short over 8
    generated feet, 0.2 mm extruded straight)."""
    settings = SCAN_SETTINGS[kind]
    if kind == "foot" and any(is_plantar(frame.extrinsic) for frame in frames):
        return replace(settings, extrapolate_walls=False)
    return settings


@dataclass
class Reconstruction:
    """The result of one scan.

    parts : ``{"left": mesh, "right": mesh}`` for feet, ``{"body": mesh}`` for a body;
        watertight meshes in metres, each in its canonical frame.
    to_canonical : part → (4, 4) transform from the platform frame to that canonical frame.
    quality : coverage, residual, watertightness and flags.
    timing_s : seconds per stage.
    """

    kind: str
    parts: dict[str, trimesh.Trimesh]
    to_canonical: dict[str, np.ndarray]
    quality: ScanQuality
    timing_s: dict[str, float] = field(default_factory=dict)


def reconstruct(frames: list[RGBDFrame], kind: str, *, settings: ScanSettings | None = None, seed: int = 0,
                refine_icp: bool = False) -> Reconstruction:
    """Fuse calibrated ``frames`` (each with its camera → platform extrinsic) into the
    watertight meshes of the two feet (``kind="foot"``) or the body (``kind="body"``)."""
    if kind not in SCAN_SETTINGS:
        raise ReconstructionError(f"unknown scan kind {kind!r}; expected one of {sorted(SCAN_SETTINGS)}", kind=kind)
    settings = settings or scan_settings(kind, frames)
    if not frames:
        raise ReconstructionError("reconstruction needs at least one frame; got none")
    timing: dict[str, float] = {}
    started = time.perf_counter()
    quality = ScanQuality()
    check_frames(frames, quality)
    if refine_icp:
        from scanning.reconstruct.register import refine_extrinsics

        frames = refine_extrinsics(frames, settings.fusion)
    floor, boxes = _find_footprints(frames, settings, seed)
    if kind == "body":
        posed = time.perf_counter()
        _check_pose(frames, floor, settings, quality)
        timing["pose"] = time.perf_counter() - posed  # part of "prepare"
    quality.floor_tilt_deg = round(floor.tilt_deg, 3)
    quality.floor_offset_mm = round(floor.height_mm, 2)
    timing["prepare"] = time.perf_counter() - started
    top = settings.top_cut_m if settings.top_cut_m is not None else np.inf
    slab = Slab(floor.normal, floor.offset, settings.cut_height_m, top)
    solid = fuse_solid(frames, block_keys(boxes, settings.fusion), settings.fusion, slab)
    timing["fuse"] = time.perf_counter() - started - timing["prepare"]
    parts, to_canonical = _isolate_parts(solid, frames, floor, settings, quality)
    timing["total"] = time.perf_counter() - started
    timing["clean"] = timing["total"] - timing["fuse"] - timing["prepare"]
    return Reconstruction(kind, parts, to_canonical, quality, {k: round(v, 4) for k, v in timing.items()})


def _check_pose(frames: list[RGBDFrame], floor: Floor, settings: ScanSettings, quality: ScanQuality) -> None:
    """Refuse a body standing otherwise than in the kiosk's A-pose, before fusing it: the
    flags name what to change (:mod:`scanning.reconstruct.pose`)."""
    report = check_frames_pose(frames, floor.to_level, settings.fusion, OBJECT_MIN_HEIGHT_M)
    quality.pose = report.to_dict()
    if report.flags:
        quality.flags.extend(report.flags)
        raise PoseError("the shopper is not in the scanning pose: " + "; ".join(f.message for f in report.flags),
                        flags=[asdict(flag) for flag in report.flags], pose=report.to_dict())


def _find_footprints(frames: list[RGBDFrame], settings: ScanSettings,
                     seed: int) -> tuple[Floor, list[tuple[np.ndarray, np.ndarray]]]:
    """The platform plane and a box around each thing standing on it (platform frame).
    Raises when nothing stands on the platform."""
    lower = np.array(settings.fusion.volume_min, dtype=np.float32)
    upper = np.array(settings.fusion.volume_max, dtype=np.float32)
    samples = []
    for frame in frames:
        points, depth = camera_points(frame, FLOOR_STRIDE)
        samples.append(points[in_volume(points, depth, lower, upper)].astype(np.float64))
    floor = fit_floor(np.concatenate(samples), seed=seed)
    above = [s[(s @ floor.normal + floor.offset) > OBJECT_MIN_HEIGHT_M] for s in samples]
    if sum(len(a) for a in above) < MIN_OBJECT_POINTS:
        counts = ", ".join(f"{frame.camera_id}: {len(a)}" for frame, a in zip(frames, above))
        raise ReconstructionError(f"nothing on the platform: no camera sees anything more than "
                                  f"{OBJECT_MIN_HEIGHT_M * 1000:.0f} mm above it (points per camera: {counts})")
    top = settings.top_cut_m if settings.top_cut_m is not None else float(upper[2])
    boxes = footprint_boxes(np.concatenate(above), floor, top, FOOTPRINT_MARGIN_M)
    return floor, [(np.maximum(lo, lower), np.minimum(hi, upper)) for lo, hi in boxes]


def _isolate_parts(solid: trimesh.Trimesh, frames: list[RGBDFrame], floor: Floor, settings: ScanSettings,
                   quality: ScanQuality) -> tuple[dict[str, trimesh.Trimesh], dict[str, np.ndarray]]:
    """Settle, split, close, smooth, assess and canonicalise the parts of the fused solid."""
    levelled = trimesh.Trimesh(trimesh.transform_points(solid.vertices, floor.to_level), solid.faces, process=False)
    settled = settle_on_floor(levelled, settings.cut_height_m, settings.fusion.voxel_m,
                              extrapolate_walls=settings.extrapolate_walls)
    pieces = keep_large_components(settled, min_share=0.25, max_count=settings.expected_parts)
    if not pieces:
        raise ReconstructionError("nothing on the platform: the fused solid is empty")
    if settings.kind == "foot":
        named = split_feet(pieces)
        if len(named) < 2:
            quality.flags.append(QualityFlag("one_foot", f"only one foot on the platform (found the "
                                             f"{next(iter(named))} foot); ask the shopper to stand on both feet"))
    else:
        named = {"body": pieces[0]}
    to_platform = np.linalg.inv(floor.to_level)
    residuals = []
    parts: dict[str, trimesh.Trimesh] = {}
    to_canonical: dict[str, np.ndarray] = {}
    for name, piece in named.items():
        label = f"{name} foot" if settings.kind == "foot" else name
        watertight = is_closed(piece)
        solid_part = piece if watertight else make_watertight(piece)
        watertight = watertight or is_closed(solid_part)
        solid_part = smooth(solid_part)  # moves vertices only: still closed or not as before
        _flag_volume_edges(name, label, solid_part, to_platform, settings, quality)
        residuals.append(assess_part(name, solid_part, frames, to_platform, quality, label, watertight=watertight))
        parts[name], canonical = _canonicalise(name, label, settings.kind, solid_part, quality)
        to_canonical[name] = canonical @ floor.to_level
    differences = np.concatenate(residuals)
    quality.fusion_residual_mm = (round(float(np.sqrt(np.mean(differences**2))) * 1000.0, 3)
                                  if len(differences) else float("nan"))
    return parts, to_canonical


def _flag_volume_edges(name: str, label: str, mesh: trimesh.Trimesh, to_platform: np.ndarray, settings: ScanSettings,
                       quality: ScanQuality) -> None:
    """Flag a part (levelled frame; ``to_platform`` (4, 4) takes it back to the platform frame)
    that reaches the side of the scan volume: part of it was not fused."""
    lower = np.array(settings.fusion.volume_min[:2])
    upper = np.array(settings.fusion.volume_max[:2])
    points = trimesh.transform_points(mesh.vertices, to_platform)
    margin = 2 * settings.fusion.voxel_m
    if np.any(points[:, :2] <= lower + margin) or np.any(points[:, :2] >= upper - margin):
        quality.flags.append(QualityFlag("cut_off_at_volume", f"the {label} reaches the edge of the scan volume; "
                                         f"part of it was not scanned", part=name))


def _canonicalise(name: str, label: str, kind: str, mesh: trimesh.Trimesh,
                  quality: ScanQuality) -> tuple[trimesh.Trimesh, np.ndarray]:
    """The part in its canonical frame and the (4, 4) transform that put it there. A part
    whose shape is not a whole foot or body stays in the levelled frame, flagged."""
    from scanning import measure

    canonicalize = measure.canonicalize_foot if kind == "foot" else measure.canonicalize_body
    try:
        return canonicalize(mesh, up="z")
    except ScanningError as exc:
        quality.flags.append(QualityFlag("not_canonical", f"the {label} is not a whole {kind}: {exc}", part=name))
        return mesh, np.eye(4)


__all__ = ["Reconstruction", "SCAN_SETTINGS", "ScanSettings", "reconstruct", "scan_settings"]
