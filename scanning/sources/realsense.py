"""Intel RealSense cameras through ``pyrealsense2``: live rigs and ``.bag`` recordings.

Each camera streams depth (z16) and colour (rgb8); depth is aligned to the colour
image, so one set of intrinsics (the colour stream's, the ones the ChArUco calibration
measures) serves both. Cameras are named by serial number, which is also their id in
the rig calibration. ``pyrealsense2`` is imported only when a source is opened, and a
missing library or camera raises :class:`~scanning.errors.FrameError`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from scanning.calibration.rig import RigCalibration
from scanning.errors import CalibrationError, FrameError
from scanning.sources.frame import Intrinsics, RGBDFrame, unmirror

_LOGGER = logging.getLogger(__name__)

WARM_UP_FRAMES = 15  # auto-exposure settles over the first frames
WAIT_MS = 2000


def _import_realsense():
    try:
        import pyrealsense2 as rs
    except ImportError as exc:
        raise FrameError("pyrealsense2 is not installed; RealSense cameras and .bag files need it "
                         "(pip install pyrealsense2)", field="source") from exc
    return rs


def _frame_from(rs, frameset, align, camera_id: str, depth_scale: float) -> RGBDFrame:
    """One aligned RGB-D frame from a RealSense frameset."""
    aligned = align.process(frameset)
    depth_frame, colour_frame = aligned.get_depth_frame(), aligned.get_color_frame()
    if not depth_frame or not colour_frame:
        raise FrameError(f"camera {camera_id}: frameset without depth or colour", camera=camera_id)
    profile = colour_frame.profile.as_video_stream_profile().intrinsics
    intrinsics = Intrinsics(profile.fx, profile.fy, profile.ppx, profile.ppy, profile.width, profile.height)
    depth = np.asanyarray(depth_frame.get_data()).copy()
    colour = np.asanyarray(colour_frame.get_data()).copy()
    return RGBDFrame(colour, depth, intrinsics, camera_id, frameset.get_timestamp() / 1000.0, depth_scale=depth_scale)


class RealSenseSource:
    """One capture from every camera of a calibrated rig (cameras named by serial number)."""

    def __init__(self, calibration: RigCalibration, *, width: int = 640, height: int = 480, fps: int = 30,
                 frames_per_camera: int = 1) -> None:
        self.rs = _import_realsense()
        self.calibration = calibration
        self.size, self.fps, self.frames_per_camera = (width, height), fps, frames_per_camera
        connected = {device.get_info(self.rs.camera_info.serial_number) for device in self.rs.context().query_devices()}
        missing = sorted(set(calibration.cameras) - connected)
        if missing:
            raise FrameError(f"cameras {missing} of the rig calibration are not connected (connected: "
                             f"{sorted(connected)})", camera=missing[0])

    def frames(self) -> Iterator[RGBDFrame]:
        rs = self.rs
        for serial in sorted(self.calibration.cameras):
            config = rs.config()
            config.enable_device(serial)
            config.enable_stream(rs.stream.depth, *self.size, rs.format.z16, self.fps)
            config.enable_stream(rs.stream.color, *self.size, rs.format.rgb8, self.fps)
            pipeline = rs.pipeline()
            profile = pipeline.start(config)
            try:
                depth_scale = profile.get_device().first_depth_sensor().get_depth_scale()
                align = rs.align(rs.stream.color)
                for _ in range(WARM_UP_FRAMES):
                    pipeline.wait_for_frames(WAIT_MS)
                for _ in range(self.frames_per_camera):
                    frame = _frame_from(rs, pipeline.wait_for_frames(WAIT_MS), align, serial, depth_scale)
                    if self.calibration.cameras[serial].mirrored:
                        frame = unmirror(frame)
                    yield self.calibration.apply(frame)
            finally:
                pipeline.stop()


class BagSource:
    """Frames played back from a RealSense ``.bag`` recording of one camera."""

    def __init__(self, path: str | Path, calibration: RigCalibration | None = None, *, camera_id: str | None = None,
                 max_frames: int | None = None) -> None:
        self.rs = _import_realsense()
        self.path = Path(path)
        if not self.path.is_file():
            raise FrameError(f"RealSense recording not found: {self.path}", path=str(self.path))
        self.calibration, self.camera_id, self.max_frames = calibration, camera_id, max_frames
        if calibration is not None and camera_id is not None and camera_id not in calibration.cameras:
            raise CalibrationError(f"camera {camera_id} is not in the rig calibration", camera=camera_id)

    def frames(self) -> Iterator[RGBDFrame]:
        rs = self.rs
        config = rs.config()
        config.enable_device_from_file(str(self.path), repeat_playback=False)
        pipeline = rs.pipeline()
        profile = pipeline.start(config)
        playback = profile.get_device().as_playback()
        playback.set_real_time(False)
        camera_id = self.camera_id or profile.get_device().get_info(rs.camera_info.serial_number)
        depth_scale = profile.get_device().first_depth_sensor().get_depth_scale()
        align = rs.align(rs.stream.color)
        count = 0
        try:
            while self.max_frames is None or count < self.max_frames:
                ok, frameset = pipeline.try_wait_for_frames(WAIT_MS)
                if not ok:
                    break
                frame = _frame_from(rs, frameset, align, camera_id, depth_scale)
                count += 1
                if self.calibration is None:
                    yield frame
                    continue
                if camera_id in self.calibration.cameras and self.calibration.cameras[camera_id].mirrored:
                    frame = unmirror(frame)
                yield self.calibration.apply(frame)
        finally:
            pipeline.stop()
