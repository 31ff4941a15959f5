"""RealSense sources: a clear error without pyrealsense2; with it (no cameras here), missing
hardware and files are named. Live capture itself needs the cameras."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from scanning.calibration import CameraCalibration, RigCalibration
from scanning.errors import FrameError
from scanning.sources.frame import Intrinsics
from scanning.sources.realsense import BagSource, RealSenseSource

HAVE_REALSENSE = importlib.util.find_spec("pyrealsense2") is not None
RIG = RigCalibration({"000000000000": CameraCalibration("000000000000", Intrinsics(600, 600, 319.5, 239.5, 640, 480),
                                                        np.eye(4))})


@pytest.mark.skipif(HAVE_REALSENSE, reason="pyrealsense2 is installed")
def test_without_pyrealsense2_sources_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FrameError, match="pyrealsense2 is not installed"):
        RealSenseSource(RIG)
    with pytest.raises(FrameError, match="pyrealsense2 is not installed"):
        BagSource(tmp_path / "capture.bag")


@pytest.mark.skipif(not HAVE_REALSENSE, reason="pyrealsense2 is not installed")
def test_with_pyrealsense2_missing_cameras_and_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FrameError, match=r"cameras \['000000000000'\] of the rig calibration are not connected"):
        RealSenseSource(RIG)
    with pytest.raises(FrameError, match="RealSense recording not found"):
        BagSource(tmp_path / "capture.bag")
