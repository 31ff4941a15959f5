"""A kiosk rig's calibration: every camera's intrinsics and camera → platform pose, as JSON.

The kiosk's admin mode writes this file after a ChArUco calibration and the scan
pipeline (and :class:`~scanning.sources.recorded.RecordedSource`) reads it. Format::

    {
      "format": "omnifit-rig-calibration",
      "version": 1,
      "board": {"squares_x": 10, "squares_y": 7, "square_m": 0.04, ...},   # optional
      "cameras": {
        "cam0": {
          "intrinsics": {"fx": 600.0, "fy": 600.0, "cx": 319.5, "cy": 239.5, "width": 640, "height": 480},
          "extrinsic_camera_to_platform": [[r00, r01, r02, tx], ..., [0, 0, 0, 1]],   # metres
          "reprojection_error_px": 0.07,
          "corners": 24
        }
      }
    }

The platform frame has its origin at the platform centre, z up, the platform surface
at z = 0; cameras use the OpenCV convention (x right, y down, z forward).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scanning.errors import CalibrationError, FrameError
from scanning.files import write_atomically
from scanning.sources.frame import Intrinsics, RGBDFrame, check_extrinsic

FORMAT_NAME = "omnifit-rig-calibration"
FORMAT_VERSION = 1
SIZE_TOLERANCE_PX = 0.5


def json_flag(value: object, name: str) -> bool:
    """A JSON true/false, refused (``ValueError`` naming ``name``) when it is anything else:
    "yes", 1 or a missing quote must not quietly read as a setting."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false; got {value!r}")
    return value


@dataclass(frozen=True, eq=False)
class CameraCalibration:
    """One camera: intrinsics, (4, 4) camera → platform pose (metres), reprojection RMS (px).

    mirrored : the camera sees the platform by way of a mirror (a plantar camera under a
        shallow glass platform); its live images are flipped back (:func:`unmirror`) before
        anything else, so ``intrinsics`` and ``extrinsic`` are the virtual camera's.
    """

    camera_id: str
    intrinsics: Intrinsics
    extrinsic: np.ndarray
    reprojection_error_px: float = 0.0
    corners: int = 0
    mirrored: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "intrinsics": self.intrinsics.to_dict(),
            "extrinsic_camera_to_platform": np.asarray(self.extrinsic).tolist(),
            "reprojection_error_px": self.reprojection_error_px,
            "corners": self.corners,
            "mirrored": self.mirrored,
        }

    @classmethod
    def from_dict(cls, camera_id: str, values: dict) -> CameraCalibration:
        try:
            intrinsics = Intrinsics.from_dict(values["intrinsics"])
            extrinsic = check_extrinsic(np.array(values["extrinsic_camera_to_platform"], dtype=np.float64), camera_id)
            return cls(camera_id, intrinsics, extrinsic, float(values.get("reprojection_error_px", 0.0)),
                       int(values.get("corners", 0)), json_flag(values.get("mirrored", False), "mirrored"))
        except (KeyError, TypeError, ValueError, FrameError) as exc:
            raise CalibrationError(f"camera {camera_id}: bad calibration entry ({exc})", camera=camera_id) from exc


@dataclass(frozen=True, eq=False)
class RigCalibration:
    """Every camera of a rig by id."""

    cameras: dict[str, CameraCalibration]
    board: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "board": self.board,
            "cameras": {camera_id: cal.to_dict() for camera_id, cal in sorted(self.cameras.items())},
        }

    def save(self, path: str | Path) -> None:
        """Write the JSON atomically (a temporary file renamed into place): a failed write
        leaves the previous calibration and no temporary file behind."""
        write_atomically(Path(path), json.dumps(self.to_dict(), indent=2).encode(), CalibrationError)

    @classmethod
    def load(cls, path: str | Path) -> RigCalibration:
        path = Path(path)
        if not path.is_file():
            raise CalibrationError(f"calibration file not found: {path}", path=str(path))
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CalibrationError(f"calibration file {path} is not readable JSON: {exc}", path=str(path)) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME or data.get("version") != FORMAT_VERSION:
            raise CalibrationError(f"calibration file {path}: expected format {FORMAT_NAME!r} version "
                                   f"{FORMAT_VERSION}", path=str(path))
        cameras = data.get("cameras")
        if not isinstance(cameras, dict) or not cameras:
            raise CalibrationError(f"calibration file {path} lists no cameras", path=str(path))
        return cls({cid: CameraCalibration.from_dict(cid, values) for cid, values in cameras.items()},
                   board=dict(data.get("board") or {}))

    def apply(self, frame: RGBDFrame) -> RGBDFrame:
        """The frame with its camera's extrinsic attached; its intrinsics must match the calibration."""
        calibration = self.cameras.get(frame.camera_id)
        if calibration is None:
            raise CalibrationError(f"camera {frame.camera_id}: not in the rig calibration (calibrated cameras: "
                                   f"{sorted(self.cameras)})", camera=frame.camera_id)
        mine, theirs = calibration.intrinsics, frame.intrinsics
        if (mine.width, mine.height) != (theirs.width, theirs.height) or max(
            abs(mine.fx - theirs.fx), abs(mine.fy - theirs.fy), abs(mine.cx - theirs.cx), abs(mine.cy - theirs.cy)
        ) > SIZE_TOLERANCE_PX:
            raise CalibrationError(f"camera {frame.camera_id}: frame intrinsics {theirs} do not match the "
                                   f"calibration {mine}; recalibrate the rig", camera=frame.camera_id)
        return frame.with_extrinsic(calibration.extrinsic)
