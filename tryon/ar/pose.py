"""Metric body and foot poses in the camera frame from MediaPipe landmarks.

MediaPipe gives two views of one skeleton: image landmarks (pixels) and world
landmarks (metres, hip-centred). A PnP fit between them with the camera
intrinsics places the skeleton in the camera frame; each foot point is then
back-projected through its own (smoothed) pixel at the depth the fit gives it,
so the drawn shoe lands exactly on the tracked heel and toe.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scanning.sources.frame import Intrinsics
from tryon.ar import landmarks as lm
from tryon.ar.errors import ArInputError


@dataclass(frozen=True)
class FootPose:
    """One foot in the camera frame (OpenCV axes, metres).

    heel, toe, ankle, knee : (3,) points; ``rotation`` (3, 3) has columns forward
    (heel to toe), up (floor normal, towards the ankle) and their cross product.
    """

    side: lm.Side
    heel: np.ndarray
    toe: np.ndarray
    ankle: np.ndarray
    knee: np.ndarray
    rotation: np.ndarray

    @property
    def length_m(self) -> float:
        return float(np.linalg.norm(self.toe - self.heel))


def skeleton_in_camera(pixels: np.ndarray, world: np.ndarray, visibility: np.ndarray, camera: Intrinsics,
                       min_visibility: float = 0.5) -> np.ndarray:
    """(33, 3) camera-frame landmarks: world landmarks moved by the PnP pose that best reprojects them."""
    import cv2

    good = visibility > min_visibility
    if int(good.sum()) < 6:
        raise ArInputError(f"need at least 6 visible landmarks to place the body; got {int(good.sum())}")
    object_points = np.ascontiguousarray(world[good], dtype=np.float64)
    image_points = np.ascontiguousarray(pixels[good], dtype=np.float64)
    ok, rvec, tvec = cv2.solvePnP(object_points, image_points, camera.matrix(), None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok or tvec[2, 0] <= 0:
        raise ArInputError("could not place the body in front of the camera from its landmarks")
    rotation, _ = cv2.Rodrigues(rvec)
    return world @ rotation.T + tvec.reshape(1, 3)


def _orthonormal(forward: np.ndarray, up_hint: np.ndarray) -> np.ndarray:
    forward = forward / np.linalg.norm(forward)
    up = up_hint - forward * float(up_hint @ forward)
    norm = np.linalg.norm(up)
    if norm < 1e-6:
        raise ArInputError("foot direction is parallel to the shin; cannot orient the shoe")
    up = up / norm
    return np.stack([forward, up, np.cross(forward, up)], axis=1)


def foot_length_prior(world: np.ndarray, side: lm.Side, ratio: float = 0.62,
                      limits: tuple[float, float] = (0.18, 0.32)) -> float:
    """Anatomical foot length (metres): ``ratio`` times the world shin length, within ``limits``."""
    ankle = lm.FOOT[side][0]
    return float(np.clip(ratio * np.linalg.norm(world[lm.KNEE[side]] - world[ankle]), *limits))


def _toe_on_ray(heel: np.ndarray, ray: np.ndarray, length: float, farther: bool) -> np.ndarray:
    """The point on the camera ray ``ray`` (through the toe pixel) at ``length`` from ``heel``.

    Of the two solutions, ``farther`` picks the deeper one; when the ray passes
    farther than ``length`` from the heel, its closest point is used.
    """
    a = float(ray @ ray)
    b = -2.0 * float(ray @ heel)
    c = float(heel @ heel) - length * length
    disc = b * b - 4 * a * c
    if disc < 0:
        return ray * (-b / (2 * a))
    root = np.sqrt(disc)
    depth = (-b + root) / (2 * a) if farther else (-b - root) / (2 * a)
    return ray * max(depth, 1e-3)


def estimate_foot_poses(pixels: np.ndarray, world: np.ndarray, visibility: np.ndarray, camera: Intrinsics,
                        sides: tuple[lm.Side, ...], length_tolerance: float = 0.2) -> list[FootPose]:
    """Camera-frame pose of each foot in ``sides``.

    pixels : (33, 2) px; world : (33, 3) metres; visibility : (33,). Heel, ankle and
    knee sit on their pixels' rays at the PnP depths. The toe sits on its own ray
    at a foot length from the heel: Pose's world model shortens feet seen end-on,
    so the length is the world one kept within ``length_tolerance`` of the
    anatomical prior, and the world landmarks only say whether the toe is nearer
    or farther than the heel.
    """
    body = skeleton_in_camera(pixels, world, visibility, camera)
    poses = []
    for side in sides:
        ankle, heel, toe = lm.FOOT[side]
        idx = [heel, ankle, lm.KNEE[side]]
        heel_p, ankle_p, knee_p = camera.unproject(pixels[idx], np.maximum(body[idx, 2], 0.1))
        prior = foot_length_prior(world, side)
        length = float(np.clip(np.linalg.norm(world[toe] - world[heel]), (1 - length_tolerance) * prior,
                               (1 + length_tolerance) * prior))
        ray = camera.unproject(pixels[toe][None], np.ones(1))[0]
        toe_p = _toe_on_ray(heel_p, ray, length, farther=bool(body[toe, 2] > body[heel, 2]))
        if np.linalg.norm(toe_p - heel_p) < 1e-4:
            continue
        rotation = _orthonormal(toe_p - heel_p, ankle_p - heel_p)
        poses.append(FootPose(side, heel_p, toe_p, ankle_p, knee_p, rotation))
    return poses
