"""Body tracking for the mirror: MediaPipe Pose landmarks, person segmentation,
One-Euro smoothing, and the gate that decides whether someone is really there.

Pose alone reports confident "feet" in empty rooms, so a person counts only when
the segmentation mask covers enough of the frame and covers the torso landmarks,
and the body's proportions are plausible; a foot counts only when its ankle, heel
and toe are visible, inside the frame, on the mask, and the foot is not absurdly
long or short against the shin.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import numpy as np

from tryon.ar import landmarks as lm
from tryon.ar.errors import ArInputError
from tryon.ar.filters import OneEuroFilter

_LOGGER = logging.getLogger(__name__)


class TrackingState(str, enum.Enum):
    """What the mirror shows: an overlay, or a prompt to step into view."""

    STEP_INTO_VIEW = "step_into_view"
    TRACKING = "tracking"


@dataclass(frozen=True)
class GateConfig:
    """Thresholds of the presence gate (fractions are of the frame area or side)."""

    min_visibility: float = 0.5
    min_person_area: float = 0.01
    min_mask_value: float = 0.5
    min_torso_on_mask: int = 3
    frame_margin: float = 0.01
    foot_to_shin_range: tuple[float, float] = (0.05, 1.5)
    shoulder_to_torso_range: tuple[float, float] = (0.25, 1.6)

    def __post_init__(self) -> None:
        fractions = {"min_visibility": self.min_visibility, "min_person_area": self.min_person_area,
                     "min_mask_value": self.min_mask_value, "frame_margin": self.frame_margin}
        for name, value in fractions.items():
            if not 0.0 <= value < 1.0:
                raise ArInputError(f"GateConfig.{name} must be in [0, 1); got {value}")
        if not 0 <= self.min_torso_on_mask <= len(lm.TORSO):
            raise ArInputError(f"GateConfig.min_torso_on_mask must be 0-{len(lm.TORSO)}; got {self.min_torso_on_mask}")
        for name in ("foot_to_shin_range", "shoulder_to_torso_range"):
            low, high = getattr(self, name)
            if not 0.0 <= low < high:
                raise ArInputError(f"GateConfig.{name} must be (low, high) with 0 <= low < high; got {(low, high)}")


@dataclass(frozen=True)
class BodyObservation:
    """One frame's tracking result.

    ``pixels`` : (33, 2) smoothed image landmarks in pixels; ``world`` : (33, 3)
    smoothed MediaPipe world landmarks, metres, hip-centred, x right / y down;
    ``visibility`` : (33,); ``mask`` : (H, W) float32 person probability or None.
    """

    state: TrackingState
    pixels: np.ndarray | None = None
    world: np.ndarray | None = None
    visibility: np.ndarray | None = None
    mask: np.ndarray | None = None
    feet: tuple[lm.Side, ...] = field(default=())
    torso: bool = False
    faces: int | None = None  # faces in view (None: not counted on this frame)

    @property
    def tracking(self) -> bool:
        return self.state is TrackingState.TRACKING


def _mask_at(mask: np.ndarray, points: np.ndarray, radius: int) -> np.ndarray:
    """Largest mask value in a (2r+1)^2 window around each point : (n, 2) px -> (n,)."""
    height, width = mask.shape
    values = np.zeros(len(points))
    for i, (u, v) in enumerate(np.round(points).astype(int)):
        u0, u1 = max(u - radius, 0), min(u + radius + 1, width)
        v0, v1 = max(v - radius, 0), min(v + radius + 1, height)
        if u0 < u1 and v0 < v1:
            values[i] = float(mask[v0:v1, u0:u1].max())
    return values


def _inside(points: np.ndarray, width: int, height: int, margin: float) -> np.ndarray:
    mu, mv = margin * width, margin * height
    return (points[:, 0] >= mu) & (points[:, 0] <= width - 1 - mu) & (points[:, 1] >= mv) & (points[:, 1] <= height - 1 - mv)


def gate_person(pixels: np.ndarray, world: np.ndarray, visibility: np.ndarray, mask: np.ndarray, config: GateConfig) -> bool:
    """True when the pose is backed by a person-sized mask that covers the torso landmarks."""
    height, width = mask.shape
    if float((mask > config.min_mask_value).mean()) < config.min_person_area:
        return False
    torso = np.array(lm.TORSO)
    radius = max(2, int(0.01 * max(width, height)))
    on_mask = (_mask_at(mask, pixels[torso], radius) > config.min_mask_value) & (visibility[torso] > config.min_visibility)
    if int(on_mask.sum()) < config.min_torso_on_mask:
        return False
    shoulders = np.linalg.norm(world[lm.LEFT_SHOULDER] - world[lm.RIGHT_SHOULDER])
    torso_len = np.linalg.norm((world[lm.LEFT_SHOULDER] + world[lm.RIGHT_SHOULDER] - world[lm.LEFT_HIP] - world[lm.RIGHT_HIP]) / 2)
    low, high = config.shoulder_to_torso_range
    return bool(torso_len > 0 and low <= shoulders / torso_len <= high)


def feet_cut_by_frame(mask: np.ndarray, pixels: np.ndarray, side: lm.Side, min_mask_value: float = 0.5) -> bool:
    """True when the person mask runs off the bottom of the frame under this foot.

    Pose still places heel and toe inside the image when the frame cuts the shoe
    (it guesses the rest), so the mask, not the landmarks' visibility, says whether
    the whole foot is in view.
    """
    height, width = mask.shape
    ankle, heel, toe = lm.FOOT[side]
    points = pixels[[ankle, heel, toe]]
    reach = max(4.0, float(np.linalg.norm(pixels[toe] - pixels[heel])))
    x0 = int(np.clip(points[:, 0].min() - reach, 0, width - 1))
    x1 = int(np.clip(points[:, 0].max() + reach, 0, width - 1)) + 1
    rows = mask[max(height - max(2, height // 200), 0):, x0:x1]
    return bool(rows.size and (rows > min_mask_value).any())


def gate_feet(pixels: np.ndarray, world: np.ndarray, visibility: np.ndarray, mask: np.ndarray,
              config: GateConfig) -> tuple[lm.Side, ...]:
    """The feet whose ankle, heel and toe are visible, in frame, on the mask, and foot-shaped.

    The shape check uses the metric world landmarks (heel-to-toe over ankle-to-knee),
    because in the image a foot pointing at or away from the camera is foreshortened;
    it only rejects degenerate feet, since Pose's world model shortens feet seen end-on.
    """
    height, width = mask.shape
    radius = max(2, int(0.015 * max(width, height)))
    found = []
    for side, (ankle, heel, toe) in lm.FOOT.items():
        idx = np.array([ankle, heel, toe])
        if not (visibility[idx] > config.min_visibility).all():
            continue
        if not _inside(pixels[idx], width, height, config.frame_margin).all():
            continue
        if not (_mask_at(mask, pixels[idx], radius) > config.min_mask_value).all():
            continue
        if feet_cut_by_frame(mask, pixels, side, config.min_mask_value):
            continue
        foot = np.linalg.norm(world[toe] - world[heel])
        shin = np.linalg.norm(world[lm.KNEE[side]] - world[ankle])
        low, high = config.foot_to_shin_range
        if shin > 0 and low <= foot / shin <= high:
            found.append(side)
    return tuple(found)


@dataclass(frozen=True)
class Detection:
    """One frame's raw MediaPipe result after the person gate, before smoothing.

    ``pixels`` (33, 2), ``world`` (33, 3) and ``visibility`` (33,) are None when
    nobody passed the gate; ``mask`` : (H, W) float32 is always there.
    """

    mask: np.ndarray
    pixels: np.ndarray | None = None
    world: np.ndarray | None = None
    visibility: np.ndarray | None = None
    faces: int | None = None


class LandmarkSmoother:
    """Smooths detections in frame order and gates the feet on the smoothed landmarks.

    ``pixel_beta`` (per px/s) and ``world_beta`` (per m/s) say how fast the
    One-Euro cut-off rises with speed; the track resets when nobody is there.
    """

    def __init__(self, gate: GateConfig | None = None, min_cutoff_hz: float = 1.5, pixel_beta: float = 0.05,
                 world_beta: float = 1.0) -> None:
        self.gate = gate or GateConfig()
        self._pixel_filter = OneEuroFilter(min_cutoff_hz, pixel_beta)
        self._world_filter = OneEuroFilter(min_cutoff_hz, world_beta)
        self._faces: int | None = None

    def __call__(self, detection: Detection, time_s: float) -> BodyObservation:
        # Faces are counted on some frames only; the last count holds until the next.
        faces = self._faces = detection.faces if detection.faces is not None else self._faces
        detection = Detection(detection.mask, detection.pixels, detection.world, detection.visibility, faces)
        if detection.pixels is None:
            self._pixel_filter.reset()
            self._world_filter.reset()
            return BodyObservation(TrackingState.STEP_INTO_VIEW, mask=detection.mask, faces=detection.faces)
        pixels = self._pixel_filter(detection.pixels, time_s)
        world = self._world_filter(detection.world, time_s)
        visibility = detection.visibility
        torso = bool((visibility[list(lm.TORSO)] > self.gate.min_visibility).all())
        feet = gate_feet(pixels, world, visibility, detection.mask, self.gate)
        return BodyObservation(TrackingState.TRACKING, pixels, world, visibility, detection.mask, feet, torso,
                               detection.faces)


class BodyTracker:
    """MediaPipe Pose + person segmentation + presence gate (:meth:`detect`), and
    smoothing (:meth:`process` = detect, then a :class:`LandmarkSmoother`).

    ``segmenter``: "selfie" runs MediaPipe selfie segmentation (landscape model)
    beside Pose; "pose" uses the mask Pose's own graph predicts (one model, cheaper).
    Feed :meth:`process` frames in time order; ``time_s`` drives the smoothing.
    One tracker is used from one thread at a time; the pipelined mirror gives each
    worker its own and smooths in frame order itself.
    """

    SEGMENTERS = ("selfie", "pose")

    def __init__(self, *, static_image_mode: bool = False, segmenter: str = "pose", gate: GateConfig | None = None,
                 smoother: LandmarkSmoother | None = None, count_faces_every: int = 15) -> None:
        if segmenter not in self.SEGMENTERS:
            raise ArInputError(f"unknown segmenter {segmenter!r}; expected one of {self.SEGMENTERS}")
        import mediapipe as mp

        self.gate = gate or GateConfig()
        self.segmenter = segmenter
        self.static_image_mode = static_image_mode
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=static_image_mode,
            model_complexity=1,
            enable_segmentation=segmenter == "pose",
            smooth_segmentation=not static_image_mode,
        )
        self._selfie = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1) if segmenter == "selfie" else None
        self.smoother = smoother or LandmarkSmoother(self.gate)
        # Pose follows one person; the full-range face detector counts everyone in view. It costs
        # 15-50 ms, so a live mirror counts every ``count_faces_every`` frames (0: never).
        self.count_faces_every = 1 if static_image_mode else max(0, count_faces_every)
        self._faces = None
        if self.count_faces_every:
            self._faces = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        self._calls = 0

    def _count_faces(self, rgb: np.ndarray) -> int | None:
        if self._faces is None or self._calls % self.count_faces_every:
            return None
        import cv2

        scale = min(1.0, 640.0 / max(rgb.shape[:2]))
        small = rgb if scale >= 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        detections = self._faces.process(np.ascontiguousarray(small)).detections
        return len(detections or ())

    def close(self) -> None:
        self._pose.close()
        if self._faces is not None:
            self._faces.close()
        if self._selfie is not None:
            self._selfie.close()

    def __enter__(self) -> BodyTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _segment(self, rgb: np.ndarray, results: object) -> np.ndarray:
        height, width = rgb.shape[:2]
        if self._selfie is not None:
            mask = self._selfie.process(rgb).segmentation_mask
        else:
            mask = getattr(results, "segmentation_mask", None)
        return np.zeros((height, width), np.float32) if mask is None else np.asarray(mask, dtype=np.float32)

    def detect(self, rgb: np.ndarray) -> Detection:
        """rgb : (H, W, 3) uint8 RGB frame -> raw detection (landmarks only when the person gate passes)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ArInputError(f"expected an (H, W, 3) uint8 RGB frame; got {rgb.shape} {rgb.dtype}")
        rgb = np.ascontiguousarray(rgb)
        faces = self._count_faces(rgb)
        self._calls += 1
        results = self._pose.process(rgb)
        mask = self._segment(rgb, results)
        if results.pose_landmarks is None or results.pose_world_landmarks is None:
            return Detection(mask, faces=faces)
        height, width = rgb.shape[:2]
        raw = np.array([(p.x * width, p.y * height, p.visibility) for p in results.pose_landmarks.landmark])
        world = np.array([(p.x, p.y, p.z) for p in results.pose_world_landmarks.landmark])
        pixels, visibility = raw[:, :2], raw[:, 2]
        if not gate_person(pixels, world, visibility, mask, self.gate):
            return Detection(mask, faces=faces)
        return Detection(mask, pixels, world, visibility, faces)

    def process(self, rgb: np.ndarray, time_s: float) -> BodyObservation:
        """rgb : (H, W, 3) uint8 RGB frame taken at ``time_s`` seconds -> smoothed observation."""
        return self.smoother(self.detect(rgb), time_s)
