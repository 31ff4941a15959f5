"""Recorded RGB-D captures read back from disk: our folder format, Open3D/Redwood folders, RealSense bags.

Our format (also in ``docs/recorded-format.md``)::

    DIR/
      calibration.json      the rig calibration (scanning/calibration/rig.py format): each
                            camera's intrinsics and camera → platform extrinsic
      frames.json           optional index, see below
      depth/<camera>_<n>.png   16-bit depth, one unit = depth_scale metres (default 0.001)
      colour/<camera>_<n>.png  8-bit RGB (or .jpg), registered to the depth image

``frames.json`` (when present) names the files and the depth encoding::

    {"depth_decoder": "scale", "depth_scale": 0.001,
     "frames": [{"camera": "cam0", "depth": "depth/cam0_0000.png",
                 "colour": "colour/cam0_0000.png", "timestamp": 0.0}, ...]}

Without it every ``depth/<camera>_<n>.png`` is paired with ``colour/<camera>_<n>.*``.
``depth_decoder`` picks one of :data:`DEPTH_DECODERS`, which turn the 16-bit samples
of the public RGB-D datasets into metres: ``scale`` (units × depth_scale; RealSense,
Redwood and Open3D's mm images), ``tum`` (5000 units per metre), ``sun`` (SUN RGB-D's
bit-rotated millimetres) and ``nyu`` (raw Kinect disparity stored little-endian in a
PGM whose header claims big-endian).
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from scanning.calibration.rig import RigCalibration
from scanning.errors import CalibrationError, FrameError
from scanning.sources.frame import Intrinsics, RGBDFrame

_LOGGER = logging.getLogger(__name__)

FRAME_NAME = re.compile(r"^(?P<camera>.+)_(?P<index>\d+)$")
COLOUR_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm")


def decode_scaled(raw: np.ndarray, depth_scale: float = 0.001) -> np.ndarray:
    """Depth units × ``depth_scale`` (metres per unit); 0 stays 0."""
    return raw.astype(np.float32) * np.float32(depth_scale)


def decode_tum(raw: np.ndarray, depth_scale: float = 1.0 / 5000.0) -> np.ndarray:
    """TUM RGB-D: 5000 units per metre."""
    return decode_scaled(raw, depth_scale)


def decode_sun(raw: np.ndarray, depth_scale: float = 0.001) -> np.ndarray:
    """SUN RGB-D: millimetres with the 16 bits rotated right by 3."""
    raw = raw.astype(np.uint16)
    millimetres = (raw >> 3) | (raw << 13)
    return decode_scaled(millimetres, depth_scale)


def decode_nyu(raw: np.ndarray, depth_scale: float = 1.0) -> np.ndarray:
    """NYU Depth V2 raw Kinect disparity (11 bits, 2047 = none), stored little-endian in a
    PGM; ``raw`` is the array as a PGM reader returns it (big-endian interpretation)."""
    disparity = raw.astype(np.uint16).byteswap().astype(np.float64)
    valid = (disparity < 2047) & (disparity < 1092.5)
    depth = np.zeros(raw.shape, dtype=np.float32)
    depth[valid] = (351.3 / (1092.5 - disparity[valid])).astype(np.float32) * np.float32(depth_scale)
    return depth


DEPTH_DECODERS: dict[str, Callable[..., np.ndarray]] = {
    "scale": decode_scaled,
    "tum": decode_tum,
    "sun": decode_sun,
    "nyu": decode_nyu,
}


def read_depth(path: Path, decoder: str = "scale", depth_scale: float | None = None) -> np.ndarray:
    """(H, W) float32 metres from a 16-bit depth image decoded by name."""
    import cv2

    if decoder not in DEPTH_DECODERS:
        raise FrameError(f"unknown depth decoder {decoder!r}; expected one of {sorted(DEPTH_DECODERS)}",
                         field="depth_decoder")
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise FrameError(f"cannot read depth image {path}", path=str(path))
    if raw.dtype != np.uint16 or raw.ndim != 2:
        raise FrameError(f"depth image {path} must be single-channel 16-bit; got {raw.dtype} {raw.shape}",
                         path=str(path))
    decode = DEPTH_DECODERS[decoder]
    return decode(raw) if depth_scale is None else decode(raw, depth_scale)


def read_colour(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameError(f"cannot read colour image {path}", path=str(path))
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class RecordedSource:
    """Frames from a recorded folder in our format, each with its calibrated extrinsic.

    Raises :class:`CalibrationError` when ``calibration.json`` is missing, does not list a
    recorded camera, or disagrees with its image size.
    """

    def __init__(self, folder: str | Path, calibration: RigCalibration | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FrameError(f"recorded folder not found: {self.folder}", path=str(self.folder))
        self.calibration = calibration or RigCalibration.load(self.folder / "calibration.json")
        self.index = self._read_index()
        if not self.index["frames"]:
            raise FrameError(f"recorded folder {self.folder} holds no depth frames (expected depth/<camera>_<n>.png)",
                             path=str(self.folder))
        unknown = sorted({entry["camera"] for entry in self.index["frames"]} - set(self.calibration.cameras))
        if unknown:
            raise CalibrationError(f"cameras {unknown} recorded in {self.folder} are not in its calibration "
                                   f"(calibrated: {sorted(self.calibration.cameras)})", camera=unknown[0])

    def _read_index(self) -> dict:
        index_path = self.folder / "frames.json"
        if index_path.is_file():
            try:
                index = json.loads(index_path.read_text())
                entries = [dict(entry) for entry in index["frames"]]
            except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise FrameError(f"{index_path}: not a frames index ({exc})", path=str(index_path)) from exc
            return {"depth_decoder": index.get("depth_decoder", "scale"), "depth_scale": index.get("depth_scale"),
                    "frames": entries}
        entries = []
        for depth_path in sorted((self.folder / "depth").glob("*.png")):
            match = FRAME_NAME.match(depth_path.stem)
            if match is None:
                raise FrameError(f"{depth_path}: expected a name like <camera>_<n>.png", path=str(depth_path))
            colour = next((self.folder / "colour" / f"{depth_path.stem}{suffix}" for suffix in COLOUR_SUFFIXES
                           if (self.folder / "colour" / f"{depth_path.stem}{suffix}").is_file()), None)
            if colour is None:
                raise FrameError(f"{depth_path}: no colour image colour/{depth_path.stem}.png|.jpg",
                                 camera=match["camera"], path=str(depth_path))
            entries.append({"camera": match["camera"], "depth": str(depth_path.relative_to(self.folder)),
                            "colour": str(colour.relative_to(self.folder)), "timestamp": int(match["index"]) / 30.0})
        return {"depth_decoder": "scale", "depth_scale": None, "frames": entries}

    def frames(self) -> Iterator[RGBDFrame]:
        """Every recorded frame, in index order, with its camera's extrinsic attached."""
        for entry in self.index["frames"]:
            camera = entry["camera"]
            depth = read_depth(self.folder / entry["depth"], self.index["depth_decoder"], self.index["depth_scale"])
            colour = read_colour(self.folder / entry["colour"])
            intrinsics = self.calibration.cameras[camera].intrinsics
            if depth.shape != (intrinsics.height, intrinsics.width):
                raise CalibrationError(f"camera {camera}: recorded images are {depth.shape[1]}x{depth.shape[0]} but "
                                       f"its calibration is for {intrinsics.width}x{intrinsics.height}; recalibrate",
                                       camera=camera)
            frame = RGBDFrame(colour, depth, intrinsics, camera, float(entry.get("timestamp", 0.0)))
            yield self.calibration.apply(frame)


def write_recording(frames: list[RGBDFrame], folder: str | Path, calibration: RigCalibration | None,
                    depth_scale: float = 0.0001) -> Path:
    """Save frames in our recorded format (16-bit depth at ``depth_scale`` metres per unit).

    calibration : written as ``calibration.json``; None for the captures of a rig calibration
        (``scanning.calibration.procedure``), which is what they are taken to find.
    """
    import cv2

    folder = Path(folder)
    (folder / "depth").mkdir(parents=True, exist_ok=True)
    (folder / "colour").mkdir(parents=True, exist_ok=True)
    if calibration is not None:
        calibration.save(folder / "calibration.json")
    entries, counts = [], {}
    for frame in frames:
        index = counts[frame.camera_id] = counts.get(frame.camera_id, -1) + 1
        stem = f"{frame.camera_id}_{index:04d}"
        units = np.clip(np.round(frame.depth / depth_scale), 0, 65535).astype(np.uint16)
        cv2.imwrite(str(folder / "depth" / f"{stem}.png"), units)
        cv2.imwrite(str(folder / "colour" / f"{stem}.png"), cv2.cvtColor(frame.colour, cv2.COLOR_RGB2BGR))
        entries.append({"camera": frame.camera_id, "depth": f"depth/{stem}.png", "colour": f"colour/{stem}.png",
                        "timestamp": frame.timestamp})
    index = {"depth_decoder": "scale", "depth_scale": depth_scale, "frames": entries}
    (folder / "frames.json").write_text(json.dumps(index, indent=2))
    return folder


def read_open3d_intrinsics(path: str | Path) -> Intrinsics:
    """Open3D ``PinholeCameraIntrinsic`` JSON (column-major ``intrinsic_matrix``)."""
    try:
        data = json.loads(Path(path).read_text())
        matrix = np.array(data["intrinsic_matrix"], dtype=np.float64).reshape(3, 3).T
        return Intrinsics(matrix[0, 0], matrix[1, 1], matrix[0, 2], matrix[1, 2], int(data["width"]),
                          int(data["height"]))
    except (OSError, json.JSONDecodeError, KeyError, ValueError) as exc:
        raise CalibrationError(f"{path}: not an Open3D intrinsics file ({exc})", path=str(path)) from exc


def read_trajectory_log(path: str | Path) -> list[np.ndarray]:
    """Open3D/Redwood ``.log`` poses: per entry a "i j n" line then a 4x4 camera → world matrix."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    if len(rows) % 5:
        raise CalibrationError(f"{path}: expected groups of 5 lines (header + 4x4 matrix)", path=str(path))
    return [np.array(rows[i + 1:i + 5], dtype=np.float64) for i in range(0, len(rows), 5)]


class Open3DSequenceSource:
    """A single moving camera recorded in Open3D's test-data layout (``depth/*.png``,
    ``color/*.jpg``, an intrinsics JSON, optionally a ``trajectory.log`` of poses that
    become the frames' extrinsics)."""

    def __init__(self, folder: str | Path, intrinsics_path: str | Path, *, trajectory: str | Path | None = None,
                 depth_decoder: str = "scale", depth_scale: float | None = None, camera_id: str = "camera") -> None:
        self.folder = Path(folder)
        self.intrinsics = read_open3d_intrinsics(intrinsics_path)
        self.depth_paths = sorted((self.folder / "depth").glob("*.png"))
        self.colour_paths = sorted(p for p in (self.folder / "color").glob("*") if p.suffix.lower() in COLOUR_SUFFIXES)
        if not self.depth_paths or len(self.depth_paths) != len(self.colour_paths):
            raise FrameError(f"{self.folder}: expected as many depth/*.png as color/* images; got "
                             f"{len(self.depth_paths)} and {len(self.colour_paths)}", path=str(self.folder))
        self.poses = read_trajectory_log(trajectory) if trajectory else None
        if self.poses is not None and len(self.poses) != len(self.depth_paths):
            raise CalibrationError(f"{trajectory}: {len(self.poses)} poses for {len(self.depth_paths)} frames",
                                   path=str(trajectory))
        self.depth_decoder, self.depth_scale, self.camera_id = depth_decoder, depth_scale, camera_id

    def frames(self) -> Iterator[RGBDFrame]:
        for index, (depth_path, colour_path) in enumerate(zip(self.depth_paths, self.colour_paths)):
            depth = read_depth(depth_path, self.depth_decoder, self.depth_scale)
            extrinsic = None if self.poses is None else self.poses[index]
            yield RGBDFrame(read_colour(colour_path), depth, self.intrinsics, self.camera_id, index / 30.0, extrinsic)
