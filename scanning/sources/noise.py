"""A stereo depth-camera noise model after Intel's published RealSense D4xx figures.

Active-stereo cameras measure disparity ``d = fx * baseline / z`` (pixels) and turn it
into depth. Intel's D400 datasheet and the white paper "Depth accuracy and RMS error
of Intel RealSense D400 stereo depth cameras" (Grunnet-Jepsen et al.) give the RMS
depth error as::

    rms_z ≈ z² · subpixel / (fx · baseline)

with a subpixel (disparity) RMS of about 0.08 px for a well-textured scene, a
baseline of 50 mm (D415) or 55 mm (D435), and fx the focal length in pixels at the
chosen resolution. Drawing Gaussian noise on the disparity and converting back gives
exactly that z² growth. On top of it the model applies what those cameras show in
practice: disparity quantised to 1/32 px (the D4xx subpixel resolution), depth
stored in units of ``depth_unit_m`` (the camera's depth-scale setting), pixels lost
when the surface is seen at a grazing angle, a small rate of random dropouts, and
"flying pixels" between foreground and background along depth edges.

Depth is in metres, float32, ``0`` meaning "no reading", in the OpenCV camera frame
(x right, y down, z forward).
"""
from __future__ import annotations

import numpy as np

from scanning.errors import FrameError

DISPARITY_STEP_PX = 1.0 / 32.0  # D4xx subpixel resolution
GRAZING_START_DEG = 72.0  # angle between view ray and normal where dropouts begin
GRAZING_FULL_DEG = 86.0  # ... and where every pixel is lost
EDGE_JUMP_M = 0.02  # depth step between neighbours that counts as an occlusion edge


def add_depth_noise(
    depth_m: np.ndarray,
    rng: np.random.Generator,
    *,
    normals_cam: np.ndarray | None = None,
    fx: float = 600.0,
    baseline_m: float = 0.05,
    subpixel: float = 0.08,
    depth_unit_m: float = 1e-4,
    dropout_rate: float = 0.002,
    flying_pixel_rate: float = 0.3,
    principal_point: tuple[float, float] | None = None,
) -> np.ndarray:
    """A noisy copy of a clean depth image, as a D4xx camera would report it.

    Parameters
    ----------
    depth_m : (H, W) float, metres; 0 where nothing was seen.
    rng : the generator all randomness is drawn from (seed it for repeatable runs).
    normals_cam : (H, W, 3) float, unit surface normals in the camera frame, or None
        to skip the grazing-angle dropouts.
    fx : focal length, pixels (also used for fy when computing view rays).
    baseline_m : stereo baseline, metres (0.050 D415, 0.055 D435).
    subpixel : disparity RMS error, pixels.
    depth_unit_m : depth quantum, metres (the camera's depth scale).
    dropout_rate : probability that any valid pixel is lost at random.
    flying_pixel_rate : probability that a pixel on an occlusion edge is replaced by a
        value between the foreground and the background.
    principal_point : (cx, cy) pixels; the image centre when None.

    Returns
    -------
    (H, W) float32, metres, 0 = no reading.
    """
    depth = np.asarray(depth_m, dtype=np.float64)
    if depth.ndim != 2:
        raise FrameError(f"depth must be (H, W); got shape {depth.shape}", field="depth_m")
    if normals_cam is not None and np.shape(normals_cam) != depth.shape + (3,):
        raise FrameError(
            f"normals_cam must be {depth.shape + (3,)}; got {np.shape(normals_cam)}", field="normals_cam"
        )
    valid = np.isfinite(depth) & (depth > 0)
    focal_baseline = fx * baseline_m
    disparity = np.zeros_like(depth)
    disparity[valid] = focal_baseline / depth[valid]
    disparity[valid] += rng.normal(0.0, subpixel, size=int(valid.sum()))
    disparity = np.round(disparity / DISPARITY_STEP_PX) * DISPARITY_STEP_PX
    valid &= disparity > 0
    noisy = np.zeros_like(depth)
    noisy[valid] = focal_baseline / disparity[valid]
    noisy = _add_flying_pixels(noisy, valid, rng, flying_pixel_rate)
    lost = rng.random(depth.shape) < dropout_rate
    if normals_cam is not None:
        lost |= _grazing_dropouts(np.asarray(normals_cam, dtype=np.float64), fx, principal_point, rng)
    noisy[lost] = 0.0
    noisy = np.round(noisy / depth_unit_m) * depth_unit_m
    return noisy.astype(np.float32)


def _grazing_dropouts(
    normals_cam: np.ndarray, fx: float, principal_point: tuple[float, float] | None, rng: np.random.Generator
) -> np.ndarray:
    """(H, W) bool: pixels lost because the surface turns away from the camera."""
    height, width = normals_cam.shape[:2]
    cx, cy = principal_point if principal_point is not None else ((width - 1) / 2.0, (height - 1) / 2.0)
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    rays = np.stack([(u - cx) / fx, (v - cy) / fx, np.ones_like(u)], axis=-1)
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    cos_angle = np.abs(np.einsum("hwc,hwc->hw", rays, normals_cam))
    angle_deg = np.degrees(np.arccos(np.clip(cos_angle, 0.0, 1.0)))
    p_lost = np.clip((angle_deg - GRAZING_START_DEG) / (GRAZING_FULL_DEG - GRAZING_START_DEG), 0.0, 1.0)
    return rng.random(p_lost.shape) < p_lost


def _add_flying_pixels(depth: np.ndarray, valid: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Blend foreground and background on occlusion edges, as stereo matching windows do.

    depth : (H, W) float, metres, 0 = no reading. Returns a new array.
    """
    padded = np.pad(np.where(valid, depth, np.inf), 1, mode="edge")
    neighbours = np.stack(
        [padded[1:-1, :-2], padded[1:-1, 2:], padded[:-2, 1:-1], padded[2:, 1:-1]], axis=0
    )
    farthest = np.max(np.where(np.isfinite(neighbours), neighbours, -np.inf), axis=0)
    edge = valid & np.isfinite(farthest) & (farthest - depth > EDGE_JUMP_M)
    fly = edge & (rng.random(depth.shape) < rate)
    out = depth.copy()
    mix = rng.random(int(fly.sum()))
    out[fly] = depth[fly] + mix * (farthest[fly] - depth[fly])
    return out
