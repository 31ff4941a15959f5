"""Presentation-attack detection: depth relief from the kiosk's depth camera, and an active challenge.

Depth relief
    A real face has tens of millimetres of relief: the nose tip stands out of the
    cheeks, the eye sockets sit behind them. A print or a phone screen is flat, or
    at most bent (a curved print is close to a cylinder). We back-project the depth
    inside the face box, fit a quadric surface ``z = f(x, y)`` robustly (so tilt and
    bending are explained away), and measure what the quadric cannot explain: how far
    the nose tip stands in front of it relative to the eye regions, and relative to the
    nose bridge (a print folded down the midline raises a straight crease that stands
    out as much at the bridge as at the tip). We also check the face's metric width (a
    face on a phone screen is far too small for its distance).

Active challenge
    The shopper blinks or turns the head over a short frame sequence; MediaPipe Face
    Mesh landmarks give the eye aspect ratio (EAR) per frame and a yaw proxy (how far
    the nose tip sits off the midline between the cheeks). A still photo, flat or bent,
    neither blinks nor changes its yaw proxy when it is turned (foreshortening keeps
    the ratios of a flat picture).

Units: depth in metres inside, relief reported in millimetres.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from payments.errors import LivenessInputError

if TYPE_CHECKING:
    from scanning.sources.frame import Intrinsics

_LOGGER = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FaceKeypoints:
    """Where the face is in a (registered) image, pixels.

    box : (top, right, bottom, left) as face_recognition returns it.
    nose_tip, nose_bridge, left_eye, right_eye : (x, y); the bridge is the top of the nose
        between the eyes (point 27 of the 68).
    """

    box: tuple[int, int, int, int]
    nose_tip: tuple[float, float]
    nose_bridge: tuple[float, float]
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]

    @property
    def eye_distance_px(self) -> float:
        return float(np.hypot(self.left_eye[0] - self.right_eye[0], self.left_eye[1] - self.right_eye[1]))


@dataclasses.dataclass(frozen=True)
class DepthLivenessConfig:
    """Thresholds of the depth check (metres unless named ``_mm``)."""

    min_relief_mm: float = 9.0  # nose tip in front of the eye regions, after removing the fitted quadric
    min_bridge_relief_mm: float = 6.0  # nose tip in front of the nose bridge (a fold's crease is straight)
    min_valid_fraction: float = 0.4  # of face-box pixels with a depth reading
    min_face_width_m: float = 0.10  # dlib's box spans roughly cheek to cheek: ~0.12-0.20 m on adults
    max_face_width_m: float = 0.26
    min_distance_m: float = 0.25
    max_distance_m: float = 1.5
    face_depth_window_m: float = 0.12  # keep points within this of the face's median depth

    def __post_init__(self) -> None:
        if not 0 < self.min_face_width_m < self.max_face_width_m:
            raise ValueError(f"face width range must be increasing and positive; got {self.min_face_width_m}..{self.max_face_width_m}")


class LivenessReason(str, enum.Enum):
    """Why a presentation was judged not live; stable values."""

    NO_DEPTH = "no_depth"
    OUT_OF_RANGE = "out_of_range"
    FACE_SIZE = "face_size"
    FLAT = "flat"
    FOLDED = "folded"
    NO_BLINK = "no_blink"
    NO_TURN = "no_turn"
    NO_FACE_IN_FRAME = "no_face_in_frame"


@dataclasses.dataclass(frozen=True)
class LivenessResult:
    """``live`` with the measured figures and, when not live, the reasons."""

    live: bool
    relief_mm: float | None = None
    bridge_relief_mm: float | None = None
    face_width_m: float | None = None
    distance_m: float | None = None
    reasons: tuple[LivenessReason, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "live": self.live,
            "relief_mm": None if self.relief_mm is None else round(self.relief_mm, 2),
            "bridge_relief_mm": None if self.bridge_relief_mm is None else round(self.bridge_relief_mm, 2),
            "face_width_m": None if self.face_width_m is None else round(self.face_width_m, 4),
            "distance_m": None if self.distance_m is None else round(self.distance_m, 3),
            "reasons": [reason.value for reason in self.reasons],
        }


def _check_depth(depth_m: NDArray[Any], intrinsics: Intrinsics) -> NDArray[Any]:
    depth = np.asarray(depth_m)
    if depth.ndim != 2 or depth.shape != (intrinsics.height, intrinsics.width):
        raise LivenessInputError(
            f"depth must be (H, W) = ({intrinsics.height}, {intrinsics.width}) matching the intrinsics; got {depth.shape}",
            field="depth_m",
        )
    if not np.issubdtype(depth.dtype, np.floating):
        raise LivenessInputError(f"depth must be float metres; got dtype {depth.dtype}", field="depth_m")
    return np.nan_to_num(depth.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def face_points(depth_m: NDArray[Any], intrinsics: Intrinsics, face: FaceKeypoints) -> tuple[NDArray[Any], NDArray[Any], float]:
    """Back-project the face box: ``(pixels (n, 2) x/y, points (n, 3) metres, valid fraction)``."""
    depth = _check_depth(depth_m, intrinsics)
    top, right, bottom, left = face.box
    top, left = max(0, int(top)), max(0, int(left))
    bottom, right = min(depth.shape[0], int(bottom)), min(depth.shape[1], int(right))
    if bottom - top < 4 or right - left < 4:
        raise LivenessInputError(f"face box {face.box} lies outside the {depth.shape[1]}x{depth.shape[0]} depth frame", field="box")
    crop = depth[top:bottom, left:right]
    v, u = np.nonzero(crop > 0)
    z = crop[v, u]
    u, v = u + left, v + top
    pixels = np.stack([u, v], axis=1).astype(np.float64)
    points = np.stack([(u - intrinsics.cx) * z / intrinsics.fx, (v - intrinsics.cy) * z / intrinsics.fy, z], axis=1)
    return pixels, points, len(z) / crop.size


def fit_quadric(points: NDArray[Any], iterations: int = 4) -> tuple[NDArray[Any], NDArray[Any]]:
    """Robust least-squares ``z = c0 + c1 x + c2 y + c3 x² + c4 xy + c5 y²``.

    points : (n, 3) metres. Returns (coefficients (6,), residuals z - fit (n,), metres).
    Points farther than 2.5 robust sigmas are dropped between iterations, so the nose
    and eye sockets do not drag the surface.
    """
    centre = np.median(points[:, :2], axis=0)
    x, y, z = points[:, 0] - centre[0], points[:, 1] - centre[1], points[:, 2]
    design = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)
    keep = np.ones(len(z), dtype=bool)
    coefficients = np.zeros(6)
    for _ in range(iterations):
        coefficients, *_ = np.linalg.lstsq(design[keep], z[keep], rcond=None)
        residuals = z - design @ coefficients
        sigma = 1.4826 * np.median(np.abs(residuals[keep] - np.median(residuals[keep]))) + 1e-4
        keep = np.abs(residuals) < 2.5 * sigma
        if keep.sum() < 12:
            break
    return coefficients, z - design @ coefficients


def _disc_median(pixels: NDArray[Any], values: NDArray[Any], centre: tuple[float, float], radius: float) -> float | None:
    inside = np.hypot(pixels[:, 0] - centre[0], pixels[:, 1] - centre[1]) <= radius
    return float(np.median(values[inside])) if inside.sum() >= 5 else None


def check_depth_liveness(
    depth_m: NDArray[Any],
    intrinsics: Intrinsics,
    face: FaceKeypoints,
    config: DepthLivenessConfig = DepthLivenessConfig(),
) -> LivenessResult:
    """Judge one registered depth frame: real face relief, or a flat/bent/too-small presentation."""
    pixels, points, valid_fraction = face_points(depth_m, intrinsics, face)
    if valid_fraction < config.min_valid_fraction or len(points) < 50:
        return LivenessResult(False, reasons=(LivenessReason.NO_DEPTH,))
    distance = float(np.median(points[:, 2]))
    near = np.abs(points[:, 2] - distance) < config.face_depth_window_m
    pixels, points = pixels[near], points[near]
    top, right, bottom, left = face.box
    width_m = (right - left) * distance / intrinsics.fx
    reasons: list[LivenessReason] = []
    if not config.min_distance_m <= distance <= config.max_distance_m:
        reasons.append(LivenessReason.OUT_OF_RANGE)
    if not config.min_face_width_m <= width_m <= config.max_face_width_m:
        reasons.append(LivenessReason.FACE_SIZE)
    relief, bridge_relief = _nose_relief_mm(pixels, points, face)
    if relief is None or relief < config.min_relief_mm:
        reasons.append(LivenessReason.FLAT)
    elif bridge_relief is None or bridge_relief < config.min_bridge_relief_mm:
        reasons.append(LivenessReason.FOLDED)
    return LivenessResult(not reasons, relief, bridge_relief, width_m, distance, tuple(reasons))


def _nose_relief_mm(pixels: NDArray[Any], points: NDArray[Any], face: FaceKeypoints) -> tuple[float | None, float | None]:
    """How far the nose tip stands in front of the eye regions and of the nose bridge, mm,
    once the quadric is removed. A print folded down the midline raises a crease that
    passes the first test but not the second: along a straight crease tip and bridge
    stand out equally."""
    if len(points) < 50:
        return None, None
    _, residuals = fit_quadric(points)
    radius = max(3.0, 0.18 * face.eye_distance_px)
    nose = _disc_median(pixels, residuals, face.nose_tip, radius)
    bridge = _disc_median(pixels, residuals, face.nose_bridge, radius)
    around_eyes = [_disc_median(pixels, residuals, eye, radius) for eye in (face.left_eye, face.right_eye)]
    eyes = [value for value in around_eyes if value is not None]
    if nose is None or not eyes:
        return None, None
    return 1000.0 * (float(np.mean(eyes)) - nose), None if bridge is None else 1000.0 * (bridge - nose)


# --------------------------------------------------------------------------- active challenge

# Face Mesh indices: eye contour points p1..p6 for the EAR (Soukupová & Čech, 2016).
RIGHT_EYE_EAR = (33, 160, 158, 133, 153, 144)
LEFT_EYE_EAR = (362, 385, 387, 263, 373, 380)
NOSE_TIP = 1
RIGHT_CHEEK, LEFT_CHEEK = 234, 454


class Challenge(str, enum.Enum):
    BLINK = "blink"
    TURN_HEAD = "turn_head"


@dataclasses.dataclass(frozen=True)
class ChallengeConfig:
    # Face Mesh's eye points follow a closing lid only part of the way (its eye shape is
    # regularised): closed-lid frames read 0.70-0.79 of the open EAR on our renders, while
    # a still picture moved about jitters by less than 15 %.
    blink_drop: float = 0.8  # a blink: EAR falls below this fraction of the open-eye EAR ...
    blink_recover: float = 0.9  # ... and comes back above this fraction afterwards
    min_yaw_change: float = 0.25  # change of the yaw proxy (nose offset / half face width)


def face_mesh_landmarks(image: NDArray[Any]) -> NDArray[Any] | None:
    """Face Mesh's 468 landmarks of the largest face in an (H, W, 3) uint8 RGB frame, or None.

    Returns (468, 3): x, y in pixels and z (depth relative to the face) in x's pixel scale.
    """
    frame = np.asarray(image)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise LivenessInputError(f"challenge frames must be (H, W, 3) uint8 RGB; got {frame.shape} {frame.dtype}", field="frame")
    result = _face_mesh().process(np.ascontiguousarray(frame))
    if not result.multi_face_landmarks:
        return None
    height, width = frame.shape[:2]
    points = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], dtype=np.float64)
    scaled: NDArray[Any] = points * np.array([width, height, width])
    return scaled


@functools.lru_cache(maxsize=1)
def _face_mesh() -> Any:  # mediapipe ships no type information
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False)


def eye_aspect_ratio(landmarks: NDArray[Any]) -> float:
    """Mean EAR of both eyes from (468+, 2|3) Face Mesh landmarks in pixels (x, y used)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    ratios = []
    for p1, p2, p3, p4, p5, p6 in (RIGHT_EYE_EAR, LEFT_EYE_EAR):
        vertical = np.linalg.norm(points[p2] - points[p6]) + np.linalg.norm(points[p3] - points[p5])
        ratios.append(vertical / (2.0 * np.linalg.norm(points[p1] - points[p4]) + 1e-9))
    return float(np.mean(ratios))


def yaw_proxy(landmarks: NDArray[Any]) -> float:
    """Nose-tip offset from the cheek midline over half the face width: 0 frontal, ±0.5 near ±30°."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    right, left, nose = points[RIGHT_CHEEK], points[LEFT_CHEEK], points[NOSE_TIP]
    half_width = np.linalg.norm(left - right) / 2.0 + 1e-9
    axis = (left - right) / (2.0 * half_width)
    return float(np.dot(nose - (left + right) / 2.0, axis) / half_width)


def check_challenge(
    landmark_frames: Sequence[NDArray[Any] | None], challenge: Challenge, config: ChallengeConfig = ChallengeConfig()
) -> LivenessResult:
    """Judge a frame sequence's Face Mesh landmarks (None where no face was found) against a challenge."""
    frames = [np.asarray(frame) for frame in landmark_frames if frame is not None]
    for frame in frames:
        if frame.ndim != 2 or frame.shape[0] < 468 or frame.shape[1] < 2:
            raise LivenessInputError(f"landmarks must be (468+, 2|3) per frame; got {frame.shape}", field="landmarks")
    if len(frames) < 3:
        return LivenessResult(False, reasons=(LivenessReason.NO_FACE_IN_FRAME,))
    if challenge is Challenge.BLINK:
        ears = np.array([eye_aspect_ratio(frame) for frame in frames])
        return LivenessResult(True) if _has_blink(ears, config) else LivenessResult(False, reasons=(LivenessReason.NO_BLINK,))
    yaws = np.array([yaw_proxy(frame) for frame in frames])
    if float(yaws.max() - yaws.min()) >= config.min_yaw_change:
        return LivenessResult(True)
    return LivenessResult(False, reasons=(LivenessReason.NO_TURN,))


def _has_blink(ears: NDArray[Any], config: ChallengeConfig) -> bool:
    """Open (near the open level), then closed (below ``blink_drop``), then open again."""
    open_level = float(np.percentile(ears, 90))
    closed = np.flatnonzero(ears < config.blink_drop * open_level)
    if len(closed) == 0:
        return False
    reopened = ears[closed[-1] + 1:] >= config.blink_recover * open_level
    opened_before = ears[:closed[0]] >= config.blink_recover * open_level
    return bool(reopened.any() and opened_before.any())
