"""Rig calibration: ChArUco board detection, camera intrinsics and camera → platform extrinsics, JSON files."""
from __future__ import annotations

from scanning.calibration.charuco import (
    CharucoBoardSpec,
    calibrate_intrinsics,
    calibrate_rig,
    detect_corners,
)
from scanning.calibration.rig import CameraCalibration, RigCalibration

__all__ = [
    "CameraCalibration",
    "CharucoBoardSpec",
    "RigCalibration",
    "calibrate_intrinsics",
    "calibrate_rig",
    "detect_corners",
]
