"""Quality figures of a fused scan, and the flags that name a camera and its problem.

Each reconstructed part (a foot, the body) is projected back into every camera:
the share of its vertices a camera saw (its depth agrees within
``SEEN_TOLERANCE_M``) is that camera's view coverage, and the RMS of those depth
differences is the fusion residual. Parts that run off a camera's image, cameras
that see far less of a part than the others or have lost most pixels, and meshes
that are not closed are raised as flags.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import trimesh

from scanning.mesh_utils import is_closed
from scanning.sources.frame import RGBDFrame, is_plantar

SEEN_TOLERANCE_M = 0.005
EDGE_MARGIN_PX = 2
MIN_VALID_FRACTION = 0.2
MIN_COVERAGE_OF_MEDIAN = 0.25  # a camera seeing a quarter of what the typical camera sees is blocked or mis-aimed
MAX_OFF_IMAGE_SHARE = 0.02
MAX_SAMPLES = 4000


@dataclass(frozen=True)
class QualityFlag:
    """One problem: a stable snake_case ``code``, a sentence, the camera and part it concerns."""

    code: str
    message: str
    camera: str | None = None
    part: str | None = None


@dataclass
class ScanQuality:
    """Per-scan figures. coverage: part → camera → share of the part's surface seen (0..1)."""

    coverage: dict[str, dict[str, float]] = field(default_factory=dict)
    fusion_residual_mm: float = float("nan")
    watertight: dict[str, bool] = field(default_factory=dict)
    valid_depth: dict[str, float] = field(default_factory=dict)
    floor_tilt_deg: float = 0.0
    floor_offset_mm: float = 0.0
    pose: dict[str, object] = field(default_factory=dict)  # a body scan's pose check (gaps, mm)
    flags: list[QualityFlag] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["flags"] = [asdict(flag) for flag in self.flags]
        if not np.isfinite(self.fusion_residual_mm):
            data["fusion_residual_mm"] = None
        return data


def check_frames(frames: list[RGBDFrame], quality: ScanQuality) -> None:
    """Record each camera's share of valid depth; flag cameras that lost most pixels.
    A plantar camera sees only the soles on its glass, a small share of its image by
    design; its coverage of each foot (:func:`assess_part`) tells when it is blocked."""
    for frame in frames:
        quality.valid_depth[frame.camera_id] = round(frame.valid_fraction, 4)
        if frame.valid_fraction < MIN_VALID_FRACTION and not is_plantar(frame.extrinsic):
            quality.flags.append(QualityFlag(
                "low_valid_depth",
                f"camera {frame.camera_id}: only {frame.valid_fraction:.0%} of pixels have depth "
                f"(lens dirty, sunlight, or covered?)",
                camera=frame.camera_id,
            ))


def assess_part(name: str, mesh: trimesh.Trimesh, frames: list[RGBDFrame], to_frame: np.ndarray,
                quality: ScanQuality, label: str | None = None, *, watertight: bool | None = None) -> np.ndarray:
    """Coverage and edge-of-view checks of one part against every camera.

    name : the part's key (``left``); label : how messages call it (``left foot``).
    mesh : the part in the levelled frame; to_frame : (4, 4) levelled → platform.
    watertight : whether ``mesh`` is closed, when the caller already knows; checked here if None.
    Returns the depth differences (metres) of the seen samples, for the residual.
    """
    label = label or name
    rng = np.random.default_rng(0)
    vertices = np.asarray(mesh.vertices)
    if len(vertices) > MAX_SAMPLES:
        vertices = vertices[rng.choice(len(vertices), MAX_SAMPLES, replace=False)]
    points = vertices @ to_frame[:3, :3].T + to_frame[:3, 3]
    differences = []
    quality.coverage[name] = {}
    watertight = is_closed(mesh) if watertight is None else watertight
    quality.watertight[name] = bool(watertight)
    for frame in frames:
        seen, off_image, diff = _project(points, frame)
        quality.coverage[name][frame.camera_id] = round(float(seen.mean()), 4)
        differences.append(diff)
        if off_image > MAX_OFF_IMAGE_SHARE:
            quality.flags.append(QualityFlag(
                "cut_off_at_edge",
                f"camera {frame.camera_id}: {off_image:.0%} of the {label} falls outside its image; "
                f"the {label} is cut off at the edge of view",
                camera=frame.camera_id, part=name,
            ))
    typical = float(np.median(list(quality.coverage[name].values())))
    for camera_id, share in quality.coverage[name].items():
        if share < MIN_COVERAGE_OF_MEDIAN * typical:
            quality.flags.append(QualityFlag(
                "low_coverage",
                f"camera {camera_id}: sees only {share:.0%} of the {label} (the cameras' median is {typical:.0%}); "
                f"is it blocked or knocked out of place?",
                camera=camera_id, part=name,
            ))
    if not watertight:
        quality.flags.append(QualityFlag("not_watertight", f"the {label} mesh is not watertight", part=name))
    return np.concatenate(differences) if differences else np.zeros(0)


def _project(points: np.ndarray, frame: RGBDFrame) -> tuple[np.ndarray, float, np.ndarray]:
    """(seen (n,) bool, share of points off the image, depth differences of seen points)."""
    pose = frame.extrinsic
    camera = (points - pose[:3, 3]) @ pose[:3, :3]
    k = frame.intrinsics
    z = camera[:, 2]
    in_front = z > 1e-3
    u = np.round(k.fx * camera[:, 0] / np.where(in_front, z, 1.0) + k.cx).astype(np.int64)
    v = np.round(k.fy * camera[:, 1] / np.where(in_front, z, 1.0) + k.cy).astype(np.int64)
    inside = in_front & (u >= EDGE_MARGIN_PX) & (u < k.width - EDGE_MARGIN_PX) & (v >= EDGE_MARGIN_PX) & (
        v < k.height - EDGE_MARGIN_PX)
    measured = np.zeros(len(points), dtype=np.float64)
    measured[inside] = frame.depth[v[inside], u[inside]]
    diff = measured - z
    seen = inside & (measured > 0) & (np.abs(diff) < SEEN_TOLERANCE_M)
    return seen, float(1.0 - inside.mean()), diff[seen]
