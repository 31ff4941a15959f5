"""Shoe try-on: place a shoe model on each tracked foot and render it as a layer, with
the shins (sized from the person mask) hiding what the leg covers; the mirror
composites the layer onto the frame."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scanning.sources.frame import Intrinsics
from tryon.ar import landmarks as lm
from tryon.ar.errors import ArInputError
from tryon.ar.lighting import SceneLight, estimate_light
from tryon.ar.mesh import ShoeModel
from tryon.ar.pose import FootPose, estimate_foot_poses
from tryon.ar.removal import erase, old_shoe_masks, sole_row
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


def _sole_outline(model: ShoeModel, pose: np.ndarray, camera: Intrinsics) -> np.ndarray | None:
    """(n, 2) pixels: the convex outline of the model's sole (its lowest vertices) under ``pose``."""
    import cv2

    points = np.concatenate([p.positions for p in model.parts])
    sole = points[points[:, 1] <= points[:, 1].min() + 0.15 * max(model.height_m, 1e-6)]
    world = sole @ pose[:3, :3].T + pose[:3, 3]
    if (world[:, 2] <= 0.05).any():
        return None
    pixels = camera.project(world).astype(np.float32)
    return cv2.convexHull(pixels).reshape(-1, 2)


class ShoeTryOn:
    """Draw one shoe model on every tracked foot of an observation.

    The model is taken as a right shoe; the left foot gets its mirror image.
    """

    needs = "feet"  # what the mirror must see to draw it (see tryon.ar.scene)

    def __init__(self, model: ShoeModel, renderer: ShoeRenderer, fit: ShoeFit | None = None, *,
                 remove_old: bool = True, refine_old: bool = True, shadow: float = 0.55,
                 sole_on_floor: bool = True) -> None:
        self.model = model
        self.renderer = renderer
        self.fit = fit or ShoeFit()
        self.remove_old, self.refine_old, self.shadow = remove_old, refine_old, shadow
        self.sole_on_floor = sole_on_floor
        renderer.preload(model)  # a 1024-px PBR model's mipmaps take a second: not on the first frame
        self.light_every = 10  # frames between light estimates in a live mirror (the room's light is slow)
        self._light: SceneLight | None = None
        self._frames = 0
        self.last_instances: list[ShoeInstance] = []  # what the last frame drew (the benchmark reads it)
        self.last_sides: list[lm.Side] = []  # the foot of each of those

    def scene(self, observation: BodyObservation, camera: Intrinsics) -> tuple[list[ShoeInstance], list[Occluder]]:
        """The shoes and the leg occluders for ``observation`` (empty when no foot is tracked)."""
        instances, occluders, _ = self._scene(observation, camera)
        return instances, occluders

    def _scene(self, observation: BodyObservation,
               camera: Intrinsics) -> tuple[list[ShoeInstance], list[Occluder], list[lm.Side]]:
        if not observation.tracking or not observation.feet:
            return [], [], []
        feet = estimate_foot_poses(observation.pixels, observation.world, observation.visibility, camera, observation.feet)
        instances, occluders = [], []
        for foot in feet:
            instances.append(ShoeInstance(self.model, shoe_matrix(self.model, foot, self.fit, foot.side is lm.Side.LEFT)))
            radius = leg_radius_from_mask(observation.mask, observation.pixels, foot.side, float(foot.ankle[2]), camera,
                                          self.fit.leg_radius_range_m)
            occluders.append(Occluder(foot.ankle - foot.rotation[:, 1] * 0.01, foot.knee, radius))
        return instances, occluders, [foot.side for foot in feet]

    def render(self, observation: BodyObservation, camera: Intrinsics,
               scene_depth: np.ndarray | None = None, light: SceneLight | None = None) -> RenderedLayer | None:
        """The shoes layer (BGRA, straight alpha), or None when no foot is tracked or on screen.

        ``scene_depth`` (H, W) metres from a registered depth camera, when the kiosk has one,
        also hides the shoe behind whatever real surface is in front of it.
        """
        instances, occluders = self.scene(observation, camera)
        self.last_instances = instances
        layer = self.renderer.render(instances, camera, occluders, scene_depth=scene_depth, light=light)
        if layer is None:
            return None
        return RenderedLayer(np.ascontiguousarray(layer.rgba[..., [2, 1, 0, 3]]), layer.x0, layer.y0)

    def render_on(self, image: np.ndarray, observation: BodyObservation, camera: Intrinsics,
                  live: bool = False) -> tuple[np.ndarray, RenderedLayer | None]:
        """(the frame with the shopper's own shoes taken out, the new shoes' layer with their
        contact shadow); the frame is ``image`` itself when nothing is drawn.

        The old shoes' lowest rows say where the floor is: each new sole is moved onto
        them. The shoes are lit by the light estimated from ``image`` (BGR, (H, W, 3) uint8).
        ``live`` (a video or camera) trades stills' care for time: no GrabCut refinement,
        the light re-estimated every ``light_every`` frames, the fill at half resolution.
        """
        self.last_instances, self.last_sides = [], []
        if not observation.tracking or not observation.feet:
            return image, None
        instances, occluders, sides = self._scene(observation, camera)
        old: dict = {}
        if observation.mask is not None and (self.remove_old or self.sole_on_floor):
            old = old_shoe_masks(image, observation.mask, observation.pixels, observation.feet,
                                 refine=self.refine_old and not live)
        if self.sole_on_floor:
            instances = [self._on_floor(inst, side, old.get(side), observation, camera)
                         for inst, side in zip(instances, sides, strict=True)]
        self.last_instances, self.last_sides = instances, sides
        if not live or self._light is None or self._frames % self.light_every == 0:
            self._light = estimate_light(image, observation.mask)
        self._frames += 1
        layer = self.renderer.render(instances, camera, occluders, light=self._light)
        if layer is None:
            return image, None
        layer = RenderedLayer(np.ascontiguousarray(layer.rgba[..., [2, 1, 0, 3]]), layer.x0, layer.y0)
        background = image
        if self.remove_old and old:
            region = np.zeros(image.shape[:2], bool)
            for mask in old.values():
                region |= mask
            background = erase(image, region, observation.mask, scale=0.5 if live else 1.0)
        if self.shadow > 0:
            layer = self._with_shadow(layer, camera)
        return background, layer

    def _on_floor(self, instance: ShoeInstance, side: lm.Side, shoe: np.ndarray | None, observation: BodyObservation,
                  camera: Intrinsics) -> ShoeInstance:
        """``instance`` moved along its foot's up axis so its sole's lowest pixel is on the old sole's row.

        The move is bounded (a third of the model's height) so a bad mask cannot throw the shoe away.
        """
        if shoe is None:
            return instance
        floor = sole_row(shoe, observation.pixels, side)
        outline = _sole_outline(self.model, instance.pose, camera)
        if floor is None or outline is None:
            return instance
        offset_px = floor - float(outline[:, 1].max())
        depth = float(instance.pose[2, 3])
        up = instance.pose[:3, 1] / max(float(np.linalg.norm(instance.pose[:3, 1])), 1e-9)
        down_px_per_m = -camera.fy * up[1] / depth  # image rows moved per metre down the foot's up axis
        if abs(down_px_per_m) < 1e-6:
            return instance
        scale = float(np.linalg.norm(instance.pose[:3, 0]))
        limit = self.model.height_m * scale / 3.0
        shift_m = float(np.clip(offset_px / down_px_per_m, -limit, limit))
        pose = instance.pose.copy()
        pose[:3, 3] -= up * shift_m
        return ShoeInstance(instance.model, pose)

    def _with_shadow(self, layer: RenderedLayer, camera: Intrinsics) -> RenderedLayer:
        """``layer`` over a soft dark contact shadow: each sole's outline on the floor, blurred."""
        import cv2

        soles = [_sole_outline(self.model, instance.pose, camera) for instance in self.last_instances]
        soles = [s for s in soles if s is not None]
        if not soles:
            return layer
        blur = max(2, int(round(0.12 * max(float(np.ptp(s[:, 0])) for s in soles))))
        points = np.concatenate(soles)
        height, width = layer.rgba.shape[:2]
        x0 = min(layer.x0, int(points[:, 0].min()) - 3 * blur)
        y0 = min(layer.y0, int(points[:, 1].min()) - 3 * blur)
        x1 = max(layer.x0 + width, int(points[:, 0].max()) + 3 * blur + 1)
        y1 = max(layer.y0 + height, int(points[:, 1].max()) + 3 * blur + 1)
        shadow = np.zeros((y1 - y0, x1 - x0), np.float32)
        for sole in soles:
            cv2.fillPoly(shadow, [np.round(sole - [x0, y0]).astype(np.int32)], 1.0)
        shadow = cv2.GaussianBlur(shadow, (0, 0), blur) * self.shadow
        out = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
        out[..., 3] = shadow
        oy, ox = layer.y0 - y0, layer.x0 - x0
        shoe = layer.rgba.astype(np.float32) / 255.0
        region = out[oy:oy + height, ox:ox + width]
        alpha = shoe[..., 3:4]
        under = region[..., 3:4] * (1.0 - alpha)  # shadow is black: it only adds coverage
        total = alpha + under
        region[..., :3] = np.where(total > 0, shoe[..., :3] * alpha / np.maximum(total, 1e-6), 0.0)
        region[..., 3:4] = total
        return RenderedLayer(np.round(out * 255.0).astype(np.uint8), x0, y0)
