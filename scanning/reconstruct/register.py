"""Optional ICP refinement of camera extrinsics before fusion.

A rig's calibration drifts a little (a bumped camera, thermal expansion). Each
camera's points in the scan volume are aligned, point-to-plane, to the points of all
the other cameras; a correction is applied only when ICP converged with a good
overlap and the correction is small (a large one means the overlap is wrong, not
the calibration). A plantar camera under a glass platform keeps its calibrated pose: it
sees the soles flat on the glass plane, along which ICP slides and turns it freely.
"""
from __future__ import annotations

import logging

import numpy as np

from scanning.reconstruct.fusion import FusionSettings, camera_points, in_volume
from scanning.sources.frame import RGBDFrame, is_plantar

_LOGGER = logging.getLogger(__name__)

MAX_CORRECTION_M = 0.01
MAX_CORRECTION_DEG = 2.0
MIN_FITNESS = 0.3


def refine_extrinsics(frames: list[RGBDFrame], fusion: FusionSettings) -> list[RGBDFrame]:
    """The frames with ICP-corrected extrinsics (the first camera is the reference; a plantar
    camera is left as calibrated, see the module notes)."""
    import open3d as o3d
    import open3d.core as o3c

    lower = np.array(fusion.volume_min, dtype=np.float32)
    upper = np.array(fusion.volume_max, dtype=np.float32)
    voxel = 2.0 * fusion.voxel_m
    clouds = []
    for frame in frames:
        points, depth = camera_points(frame)
        valid = in_volume(points, depth, lower, upper)
        cloud = o3d.t.geometry.PointCloud(o3c.Tensor(points[valid].astype(np.float32))).voxel_down_sample(voxel)
        cloud.estimate_normals(max_nn=20, radius=4 * voxel)
        clouds.append(cloud)
    refined = [frames[0]]
    for index in range(1, len(frames)):
        if is_plantar(frames[index].extrinsic):
            # the soles on the glass fix only its height and tilt: on an exactly calibrated rig
            # ICP moved it 15 mm along the glass, within the plausibility limits
            _LOGGER.info("camera %s: plantar camera, left as calibrated", frames[index].camera_id)
            refined.append(frames[index])
            continue
        target = o3d.t.geometry.PointCloud(o3c.Tensor(np.concatenate(
            [c.point.positions.numpy() for j, c in enumerate(clouds) if j != index])))
        target.estimate_normals(max_nn=20, radius=4 * voxel)
        result = o3d.t.pipelines.registration.icp(
            clouds[index], target, 3 * voxel, o3c.Tensor(np.eye(4)),
            o3d.t.pipelines.registration.TransformationEstimationPointToPlane())
        correction = result.transformation.numpy()
        refined.append(_apply_if_plausible(frames[index], correction, float(result.fitness)))
    return refined


def _apply_if_plausible(frame: RGBDFrame, correction: np.ndarray, fitness: float) -> RGBDFrame:
    shift = float(np.linalg.norm(correction[:3, 3]))
    angle = float(np.degrees(np.arccos(np.clip((np.trace(correction[:3, :3]) - 1.0) / 2.0, -1.0, 1.0))))
    if fitness < MIN_FITNESS or shift > MAX_CORRECTION_M or angle > MAX_CORRECTION_DEG:
        _LOGGER.info("camera %s: ICP correction rejected (fitness %.2f, %.1f mm, %.2f°)",
                     frame.camera_id, fitness, shift * 1000, angle)
        return frame
    _LOGGER.info("camera %s: ICP correction %.2f mm, %.3f°", frame.camera_id, shift * 1000, angle)
    return frame.with_extrinsic(correction @ frame.extrinsic)
