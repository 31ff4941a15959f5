"""Depth sources: where RGB-D frames come from (synthetic rig, recorded folders, RealSense cameras)."""
