"""RGB-D frames and camera intrinsics: the values every depth source yields.

A frame is checked once, on construction, so every later stage may trust it: colour
(H, W, 3) uint8, depth (H, W) float32 metres with 0 meaning "no reading" (uint16
depth is converted with its ``depth_scale``), intrinsics that match the image size,
and an optional camera → platform extrinsic. Every error names the camera.

Camera frame convention (OpenCV, as RealSense and Open3D use it): x right, y down,
z forward; the platform frame has z up with the platform surface at z = 0.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from scanning.errors import FrameError


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics: focal lengths and principal point in pixels, image size in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if not (self.fx > 0 and self.fy > 0 and self.width > 0 and self.height > 0):
            raise FrameError(
                f"intrinsics need positive fx, fy, width, height; got fx={self.fx} fy={self.fy} "
                f"size={self.width}x{self.height}",
                field="intrinsics",
            )

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float = 60.0) -> Intrinsics:
        """Square pixels, centred principal point, ``hfov_deg`` horizontal field of view (a webcam's guess)."""
        if not 1.0 < hfov_deg < 179.0:
            raise FrameError(f"horizontal field of view must be in (1, 179) degrees; got {hfov_deg}", field="hfov_deg")
        focal = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(fx=focal, fy=focal, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0, width=width, height=height)

    def matrix(self) -> np.ndarray:
        """(3, 3) float64 camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def project(self, points: np.ndarray) -> np.ndarray:
        """points : (n, 3) camera frame, metres, z > 0 -> (n, 2) pixels (u, v)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        z = points[:, 2]
        return np.stack([self.fx * points[:, 0] / z + self.cx, self.fy * points[:, 1] / z + self.cy], axis=1)

    def unproject(self, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """pixels : (n, 2) and depth : (n,) metres along z -> (n, 3) camera-frame points."""
        pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        depth = np.asarray(depth, dtype=np.float64).reshape(-1)
        x = (pixels[:, 0] - self.cx) / self.fx * depth
        y = (pixels[:, 1] - self.cy) / self.fy * depth
        return np.stack([x, y, depth], axis=1)

    def scaled(self, factor: float) -> Intrinsics:
        """The same camera at ``factor`` times the resolution (pixel centres kept aligned)."""
        return Intrinsics(
            fx=self.fx * factor,
            fy=self.fy * factor,
            cx=(self.cx + 0.5) * factor - 0.5,
            cy=(self.cy + 0.5) * factor - 0.5,
            width=int(round(self.width * factor)),
            height=int(round(self.height * factor)),
        )

    def to_dict(self) -> dict[str, float]:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> Intrinsics:
        return cls(
            fx=float(values["fx"]),
            fy=float(values["fy"]),
            cx=float(values["cx"]),
            cy=float(values["cy"]),
            width=int(values["width"]),
            height=int(values["height"]),
        )


def check_extrinsic(matrix: np.ndarray, camera_id: str) -> np.ndarray:
    """A validated (4, 4) float64 rigid transform; raises :class:`FrameError` naming the camera."""
    pose = np.asarray(matrix, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise FrameError(f"camera {camera_id}: extrinsic must be a finite 4x4 matrix; got shape {pose.shape}",
                         camera=camera_id, field="extrinsic")
    rotation = pose[:3, :3]
    if not np.allclose(pose[3], [0, 0, 0, 1], atol=1e-9) or not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-5):
        raise FrameError(f"camera {camera_id}: extrinsic is not a rigid transform (rotation not orthonormal "
                         f"or last row not [0 0 0 1])", camera=camera_id, field="extrinsic")
    return pose


@dataclass(frozen=True, eq=False)
class RGBDFrame:
    """One camera's colour and depth at one instant.

    colour : (H, W, 3) uint8 RGB, registered to the depth image.
    depth : (H, W) float32 metres, 0 = no reading; or uint16 together with
        ``depth_scale`` (metres per unit), converted to float32 metres here.
    extrinsic : (4, 4) camera → platform transform, or None when not calibrated yet.
    timestamp : seconds.
    """

    colour: np.ndarray
    depth: np.ndarray
    intrinsics: Intrinsics
    camera_id: str
    timestamp: float = 0.0
    extrinsic: np.ndarray | None = None
    depth_scale: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        set_field(self, "depth", _depth_in_metres(self.depth, self.depth_scale, self.camera_id))
        set_field(self, "depth_scale", None)
        _check_colour(self.colour, self.depth.shape, self.camera_id)
        size = (self.intrinsics.height, self.intrinsics.width)
        if self.depth.shape != size:
            raise FrameError(
                f"camera {self.camera_id}: depth is {self.depth.shape[1]}x{self.depth.shape[0]} but its "
                f"intrinsics are for {size[1]}x{size[0]}",
                camera=self.camera_id,
                field="intrinsics",
            )
        if self.extrinsic is not None:
            set_field(self, "extrinsic", check_extrinsic(self.extrinsic, self.camera_id))

    @property
    def valid_fraction(self) -> float:
        """Share of pixels with a depth reading."""
        return float(np.count_nonzero(self.depth)) / self.depth.size

    def with_extrinsic(self, extrinsic: np.ndarray) -> RGBDFrame:
        """The same frame with a camera → platform transform attached."""
        return RGBDFrame(self.colour, self.depth, self.intrinsics, self.camera_id, self.timestamp, extrinsic)


def _depth_in_metres(depth: np.ndarray, depth_scale: float | None, camera_id: str) -> np.ndarray:
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise FrameError(f"camera {camera_id}: depth must be (H, W); got shape {depth.shape}",
                         camera=camera_id, field="depth")
    if depth.dtype == np.uint16:
        if depth_scale is None or not depth_scale > 0:
            raise FrameError(f"camera {camera_id}: uint16 depth needs a positive depth_scale (metres per unit); "
                             f"got {depth_scale}", camera=camera_id, field="depth_scale")
        metres = depth.astype(np.float32) * np.float32(depth_scale)
    elif depth.dtype in (np.float32, np.float64):
        metres = depth.astype(np.float32, copy=False)
    else:
        raise FrameError(f"camera {camera_id}: depth must be float32 metres or uint16 with a scale; "
                         f"got dtype {depth.dtype}", camera=camera_id, field="depth")
    if not np.all(np.isfinite(metres)):
        raise FrameError(f"camera {camera_id}: depth has {int(np.count_nonzero(~np.isfinite(metres)))} NaN/inf "
                         f"pixels; expected 0 for 'no reading'", camera=camera_id, field="depth")
    if np.any(metres < 0):
        raise FrameError(f"camera {camera_id}: depth has negative values (min {float(metres.min()):.3f} m)",
                         camera=camera_id, field="depth")
    if not np.any(metres > 0):
        raise FrameError(f"camera {camera_id}: depth is all zero (no reading anywhere); is the camera covered "
                         f"or disconnected?", camera=camera_id, field="depth")
    return metres


def _check_colour(colour: np.ndarray, depth_shape: tuple[int, ...], camera_id: str) -> None:
    if not isinstance(colour, np.ndarray) or colour.dtype != np.uint8 or colour.shape != depth_shape + (3,):
        got = f"{getattr(colour, 'shape', None)} {getattr(colour, 'dtype', type(colour).__name__)}"
        raise FrameError(f"camera {camera_id}: colour must be {depth_shape + (3,)} uint8 registered to depth; "
                         f"got {got}", camera=camera_id, field="colour")


@runtime_checkable
class DepthSource(Protocol):
    """Anything that yields RGB-D frames: a rig's cameras, a recording, a renderer.

    ``frames()`` yields every frame of one capture (one per camera for a fixed rig,
    or a sequence from one moving camera); each frame carries its camera → platform
    extrinsic when the source knows it.
    """

    def frames(self) -> Iterator[RGBDFrame]:
        ...


def back_project(frame: RGBDFrame, stride: int = 1) -> np.ndarray:
    """(N, 3) float64 points of a frame's valid depth pixels, in the platform frame if
    the frame has an extrinsic, else in the camera frame. ``stride`` subsamples pixels."""
    depth = frame.depth[::stride, ::stride]
    rows, cols = np.nonzero(depth)
    z = depth[rows, cols].astype(np.float64)
    k = frame.intrinsics
    points = np.stack([(cols * stride - k.cx) * z / k.fx, (rows * stride - k.cy) * z / k.fy, z], axis=1)
    if frame.extrinsic is None:
        return points
    return points @ frame.extrinsic[:3, :3].T + frame.extrinsic[:3, 3]


def is_plantar(extrinsic: np.ndarray | None) -> bool:
    """Whether a camera (its (4, 4) camera → platform pose) looks up at the platform from
    under it: the plantar camera of a glass platform, which sees soles and nothing else."""
    if extrinsic is None:
        return False
    return bool(extrinsic[2, 3] < 0.0 and extrinsic[2, 2] > 0.5)


def unmirror(frame: RGBDFrame) -> RGBDFrame:
    """The frame of a camera that looks at the scene by way of a mirror (the plantar camera
    under a shallow glass platform), flipped left-right with its principal point mirrored
    (cx → width − 1 − cx): the frame the virtual camera behind the mirror would take, a
    plain pinhole camera the calibration and the fusion can use as any other."""
    k = frame.intrinsics
    flipped = Intrinsics(k.fx, k.fy, k.width - 1 - k.cx, k.cy, k.width, k.height)
    return RGBDFrame(np.ascontiguousarray(frame.colour[:, ::-1]), np.ascontiguousarray(frame.depth[:, ::-1]),
                     flipped, frame.camera_id, frame.timestamp, extrinsic=frame.extrinsic)
