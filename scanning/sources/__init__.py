"""Depth sources: where RGB-D frames come from (synthetic rig, recorded folders, RealSense cameras).

The heavy modules (moderngl rendering, OpenCV image reading, pyrealsense2) load only
when their source is used; import them from their submodules.
"""
from __future__ import annotations

from scanning.sources.frame import DepthSource, Intrinsics, RGBDFrame, back_project
from scanning.sources.noise import add_depth_noise

__all__ = ["DepthSource", "Intrinsics", "RGBDFrame", "add_depth_noise", "back_project"]
