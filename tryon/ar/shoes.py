"""Shoe try-on: place a shoe model on each tracked foot and render it as a layer, with
the shins (sized from the person mask) hiding what the leg covers; the mirror
composites the layer onto the frame."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scanning.sources.frame import Intrinsics
from tryon.ar import landmarks as lm
from tryon.ar.errors import ArInputError
from tryon.ar.mesh import ShoeModel
from tryon.ar.pose import FootPose, estimate_foot_poses
from tryon.ar.render import Occluder, RenderedLayer, ShoeInstance, ShoeRenderer
from tryon.ar.tracking import BodyObservation


@dataclass(frozen=True)
class ShoeFit:
    """How a model sits on a tracked foot (metres, fractions of the foot's heel-to-toe length).

    ``scale_to_foot``: size the shoe from the tracked foot (robust to a wrong
    monocular depth) rather than drawing it at the model's own size.
    """

    scale_to_foot: bool = True
    toe_room: float = 0.10
    heel_back: float = 0.06
    sole_below_heel: float = 0.10
    scale_range: tuple[float, float] = (0.5, 2.0)
    leg_radius_range_m: tuple[float, float] = (0.025, 0.07)

    def __post_init__(self) -> None:
        for name in ("toe_room", "heel_back", "sole_below_heel"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ArInputError(f"ShoeFit.{name} must be a fraction of the foot in [0, 1); got {getattr(self, name)}")
        for name in ("scale_range", "leg_radius_range_m"):
            low, high = getattr(self, name)
            if not 0.0 < low <= high:
                raise ArInputError(f"ShoeFit.{name} must be (low, high) with 0 < low <= high; got {(low, high)}")


def shoe_matrix(model: ShoeModel, foot: FootPose, fit: ShoeFit, mirror: bool) -> np.ndarray:
    """4x4 model frame -> camera frame for ``model`` on ``foot``; ``mirror`` flips Z (the other foot)."""
    length = foot.length_m
    scale = 1.0
    if fit.scale_to_foot and model.length_m > 0:
        scale = float(np.clip(length * (1.0 + fit.toe_room + fit.heel_back) / model.length_m, *fit.scale_range))
    forward, up = foot.rotation[:, 0], foot.rotation[:, 1]
    matrix = np.eye(4)
    matrix[:3, :3] = foot.rotation * np.array([scale, scale, -scale if mirror else scale])
    matrix[:3, 3] = foot.heel - forward * (fit.heel_back * length) - up * (fit.sole_below_heel * length)
    return matrix


def leg_radius_from_mask(mask: np.ndarray, pixels: np.ndarray, side: lm.Side, depth_m: float,
                         camera: Intrinsics, limits: tuple[float, float]) -> float:
    """Shin radius (metres) from the person mask's width across the shin, a third up from the ankle.

    Scans the mask along the perpendicular of the 2D ankle-knee line from the
    shin's centre outwards until it leaves the person.
    """
    ankle, knee = pixels[lm.FOOT[side][0]], pixels[lm.KNEE[side]]
    axis = knee - ankle
    length = float(np.linalg.norm(axis))
    if length < 2.0:
        return limits[0]
    centre = ankle + axis / 3.0
    normal = np.array([-axis[1], axis[0]]) / length
    half_width = []
    for direction in (normal, -normal):
        steps = np.arange(0.0, length, 1.0)
        points = np.round(centre + steps[:, None] * direction).astype(int)
        inside = (points[:, 0] >= 0) & (points[:, 0] < mask.shape[1]) & (points[:, 1] >= 0) & (points[:, 1] < mask.shape[0])
        values = np.zeros(len(points))
        values[inside] = mask[points[inside, 1], points[inside, 0]]
        outside = np.flatnonzero(values < 0.5)
        half_width.append(float(outside[0]) if len(outside) else length)
    radius_px = (half_width[0] + half_width[1]) / 2.0
    return float(np.clip(radius_px * depth_m / camera.fx, *limits))


class ShoeTryOn:
    """Draw one shoe model on every tracked foot of an observation.

    The model is taken as a right shoe; the left foot gets its mirror image.
    """

    needs = "feet"  # what the mirror must see to draw it (see tryon.ar.scene)

    def __init__(self, model: ShoeModel, renderer: ShoeRenderer, fit: ShoeFit | None = None) -> None:
        self.model = model
        self.renderer = renderer
        self.fit = fit or ShoeFit()

    def scene(self, observation: BodyObservation, camera: Intrinsics) -> tuple[list[ShoeInstance], list[Occluder]]:
        """The shoes and the leg occluders for ``observation`` (empty when no foot is tracked)."""
        if not observation.tracking or not observation.feet:
            return [], []
        feet = estimate_foot_poses(observation.pixels, observation.world, observation.visibility, camera, observation.feet)
        instances, occluders = [], []
        for foot in feet:
            instances.append(ShoeInstance(self.model, shoe_matrix(self.model, foot, self.fit, foot.side is lm.Side.LEFT)))
            radius = leg_radius_from_mask(observation.mask, observation.pixels, foot.side, float(foot.ankle[2]), camera,
                                          self.fit.leg_radius_range_m)
            occluders.append(Occluder(foot.ankle - foot.rotation[:, 1] * 0.01, foot.knee, radius))
        return instances, occluders

    def render(self, observation: BodyObservation, camera: Intrinsics,
               scene_depth: np.ndarray | None = None) -> RenderedLayer | None:
        """The shoes layer (BGRA, straight alpha), or None when no foot is tracked or on screen.

        ``scene_depth`` (H, W) metres from a registered depth camera, when the kiosk has one,
        also hides the shoe behind whatever real surface is in front of it.
        """
        instances, occluders = self.scene(observation, camera)
        layer = self.renderer.render(instances, camera, occluders, scene_depth=scene_depth)
        if layer is None:
            return None
        return RenderedLayer(np.ascontiguousarray(layer.rgba[..., [2, 1, 0, 3]]), layer.x0, layer.y0)
