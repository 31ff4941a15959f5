"""Clothing try-on: warp a garment image onto the body from the pose landmarks.

A garment (``assets/garments``) is a front-view RGBA image plus a sidecar that
splits it into parts, each tied to 2 or 4 named anchors. Each part is warped on
its own: 4 anchors (shoulders and hips, or hips and knees) by the homography of
the quad, 2 anchors (shoulder to elbow, knee to ankle) by a similarity - so the
garment is piecewise-projective over the body and bends at elbows and knees.
Parts marked ``behind_arms`` are hidden where a forearm (or a bare upper arm)
lies over them on the person mask, so arms in front stay in front; the whole
garment is clipped to the (slightly grown) person mask.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scanning.sources.frame import Intrinsics
from tryon.ar import landmarks as lm
from tryon.ar.errors import ModelLoadError
from tryon.ar.render import RenderedLayer
from tryon.ar.tracking import BodyObservation

_LOGGER = logging.getLogger(__name__)

ANCHOR_LANDMARKS = {
    "left_shoulder": lm.LEFT_SHOULDER, "right_shoulder": lm.RIGHT_SHOULDER,
    "left_elbow": lm.LEFT_ELBOW, "right_elbow": lm.RIGHT_ELBOW,
    "left_wrist": lm.LEFT_WRIST, "right_wrist": lm.RIGHT_WRIST,
    "left_hip": lm.LEFT_HIP, "right_hip": lm.RIGHT_HIP,
    "left_knee": lm.LEFT_KNEE, "right_knee": lm.RIGHT_KNEE,
    "left_ankle": lm.LEFT_ANKLE, "right_ankle": lm.RIGHT_ANKLE,
}


@dataclass(frozen=True)
class GarmentPart:
    """One warped piece: its premultiplied BGRA crop : (h, w, 4) float32 in [0, 1], the crop's
    top-left in garment pixels, its anchors (garment pixels, (k, 2)) and their landmark names.

    A 2-anchor part with ``width_names`` (another anchor pair, e.g. the shoulders) scales
    across its axis by that pair instead of by its own length.
    """

    name: str
    crop: np.ndarray
    origin: tuple[int, int]
    anchor_names: tuple[str, ...]
    anchors: np.ndarray
    behind_arms: bool
    width_names: tuple[str, ...] = ()
    width_anchors: np.ndarray | None = None


@dataclass(frozen=True)
class Garment:
    """A garment image split into parts, in drawing order."""

    name: str
    category: str
    parts: tuple[GarmentPart, ...]


def _read_sidecar(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError(f"garment sidecar missing: {path} (expected next to the image)", path=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise ModelLoadError(f"garment sidecar {path} is not valid JSON: {exc}", path=str(path)) from exc


def _part(raw: dict, image: np.ndarray, anchors: dict, path: Path) -> GarmentPart:
    import cv2

    try:
        polygon = np.asarray(raw["polygon"], dtype=np.float64)
        names = tuple(raw["anchors"])
        points = np.array([anchors[n] for n in names], dtype=np.float64)
        width_names = tuple(raw.get("width_from", ()))
        width_points = np.array([anchors[n] for n in width_names], dtype=np.float64) if width_names else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"garment sidecar for {path} has a malformed part: {exc!r}", path=str(path)) from exc
    if len(width_names) not in (0, 2) or any(n not in ANCHOR_LANDMARKS for n in width_names):
        raise ModelLoadError(f"garment part {raw.get('name')!r} of {path}: width_from {width_names}; expected 2 of "
                             f"{sorted(ANCHOR_LANDMARKS)}", path=str(path))
    if len(names) not in (2, 4) or any(n not in ANCHOR_LANDMARKS for n in names):
        raise ModelLoadError(f"garment part {raw.get('name')!r} of {path}: anchors {names}; expected 2 or 4 of "
                             f"{sorted(ANCHOR_LANDMARKS)}", path=str(path))
    height, width = image.shape[:2]
    x0, y0 = np.clip(np.floor(polygon.min(axis=0)).astype(int) - 1, 0, [width - 1, height - 1])
    x1, y1 = np.clip(np.ceil(polygon.max(axis=0)).astype(int) + 2, 1, [width, height])
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((polygon - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    crop = image[y0:y1, x0:x1].astype(np.float32) / 255.0
    crop[..., 3] *= mask / 255.0
    crop[..., :3] *= crop[..., 3:4]
    return GarmentPart(str(raw.get("name", "part")), crop, (int(x0), int(y0)), names, points, bool(raw.get("behind_arms")),
                       width_names, width_points)


def load_garment(path: str | Path) -> Garment:
    """Read a garment PNG (RGBA) and its ``.json`` sidecar."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"garment image not found: {path}", path=str(path))
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ModelLoadError(f"garment image {path} is not a readable colour image", path=str(path))
    if image.shape[2] == 3:
        image = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    sidecar = _read_sidecar(path.with_suffix(".json"))
    anchors = sidecar.get("anchors", {})
    parts = tuple(_part(raw, image, anchors, path) for raw in sidecar.get("parts", ()))
    if not parts:
        raise ModelLoadError(f"garment sidecar for {path} lists no parts", path=str(path))
    return Garment(path.stem, str(sidecar.get("category", "tops")), parts)


def part_transform(source: np.ndarray, target: np.ndarray, width_scale: float | None = None) -> np.ndarray | None:
    """3x3 map from garment to frame pixels: a homography for 4 anchors; for 2, a rotation
    with the segment's length ratio along it and ``width_scale`` across it (default: the same,
    a similarity).

    Returns None for a degenerate target (a collapsed quad or segment).
    """
    import cv2

    if len(source) == 4:
        area = 0.5 * abs(float(np.cross(target[2] - target[0], target[3] - target[1])))
        if area < 16.0:
            return None
        return cv2.getPerspectiveTransform(source.astype(np.float32), target.astype(np.float32)).astype(np.float64)
    src, dst = source[1] - source[0], target[1] - target[0]
    src_len, dst_len = float(np.linalg.norm(src)), float(np.linalg.norm(dst))
    if src_len < 1e-6 or dst_len < 2.0:
        return None
    along, across = src / src_len, np.array([-src[1], src[0]]) / src_len
    to_along, to_across = dst / dst_len, np.array([-dst[1], dst[0]]) / dst_len
    scale = dst_len / src_len
    rotation = (np.outer(to_along, along) * scale
                + np.outer(to_across, across) * (scale if width_scale is None else width_scale))
    matrix = np.eye(3)
    matrix[:2, :2] = rotation
    matrix[:2, 2] = target[0] - rotation @ source[0]
    return matrix


def _warp_box(part: GarmentPart, matrix: np.ndarray, width: int, height: int) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """(crop-to-frame 3x3, frame box (x0, y0, x1, y1)) of a part, or None when it falls off the frame."""
    shift = np.array([[1.0, 0.0, part.origin[0]], [0.0, 1.0, part.origin[1]], [0.0, 0.0, 1.0]])
    full = matrix @ shift
    h, w = part.crop.shape[:2]
    corners = full @ np.array([[0, w, w, 0], [0, 0, h, h], [1, 1, 1, 1]], dtype=np.float64)
    if (corners[2] <= 1e-6).any():
        return None
    xy = corners[:2] / corners[2]
    x0, y0 = max(int(np.floor(xy[0].min())), 0), max(int(np.floor(xy[1].min())), 0)
    x1, y1 = min(int(np.ceil(xy[0].max())) + 1, width), min(int(np.ceil(xy[1].max())) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return full, (x0, y0, x1, y1)


class GarmentTryOn:
    """Warp one garment onto the tracked body of each observation."""

    needs = "torso"  # what the mirror must see to draw it (see tryon.ar.scene)

    def __init__(self, garment: Garment, *, mask_grow_px: int = 6, arm_width: float = 0.3) -> None:
        self.garment = garment
        self.mask_grow_px = mask_grow_px
        self.arm_width = arm_width
        self._sleeved = {side for side in ("left", "right") if any(p.name.startswith(side) for p in garment.parts)}

    @staticmethod
    def _width_scale(part: GarmentPart, observation: BodyObservation, min_visibility: float) -> float | None:
        """Across-axis scale from the part's width pair, or None (a plain similarity) when it is hidden."""
        if part.width_anchors is None:
            return None
        idx = [ANCHOR_LANDMARKS[n] for n in part.width_names]
        source = float(np.linalg.norm(part.width_anchors[1] - part.width_anchors[0]))
        if (observation.visibility[idx] <= min_visibility).any() or source < 1e-6:
            return None
        return float(np.linalg.norm(observation.pixels[idx[1]] - observation.pixels[idx[0]])) / source

    def _placements(self, observation: BodyObservation, width: int, height: int, min_visibility: float):
        placed = []
        for part in self.garment.parts:
            idx = [ANCHOR_LANDMARKS[n] for n in part.anchor_names]
            if (observation.visibility[idx] <= min_visibility).any():
                continue
            matrix = part_transform(part.anchors, observation.pixels[idx], self._width_scale(part, observation, min_visibility))
            box = None if matrix is None else _warp_box(part, matrix, width, height)
            if box is not None:
                placed.append((part, *box))
        return placed

    def _arm_mask(self, observation: BodyObservation, box: tuple[int, int, int, int], min_visibility: float) -> np.ndarray:
        """(h, w) float32 in [0, 1]: person pixels covered by forearms (and bare upper arms) in ``box``."""
        import cv2

        x0, y0, x1, y1 = box
        arms = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for side, (shoulder, elbow, wrist) in lm.ARM.items():
            chain = [elbow, wrist] if side.value in self._sleeved else [shoulder, elbow, wrist]
            if (observation.visibility[chain] <= min_visibility).any():
                continue
            points = observation.pixels[chain] - [x0, y0]
            upper = float(np.linalg.norm(observation.pixels[elbow] - observation.pixels[shoulder]))
            hand = points[-1] + 0.35 * (points[-1] - points[-2])
            thickness = max(int(self.arm_width * upper), 3)
            for a, b in zip(np.vstack([points, hand])[:-1], np.vstack([points, hand])[1:]):
                cv2.line(arms, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), 255, thickness, cv2.LINE_AA)
        person = observation.mask[y0:y1, x0:x1]
        return (arms.astype(np.float32) / 255.0) * (person > 0.5)

    def render(self, observation: BodyObservation, camera: Intrinsics, min_visibility: float = 0.5) -> RenderedLayer | None:
        """The garment layer (BGRA, straight alpha) for a frame of the camera's size, or None."""
        import cv2

        if not observation.tracking:
            return None
        width, height = camera.width, camera.height
        placed = self._placements(observation, width, height, min_visibility)
        if not placed or placed[0][0] is not self.garment.parts[0]:
            return None
        x0 = min(b[0] for _, _, b in placed)
        y0 = min(b[1] for _, _, b in placed)
        x1 = max(b[2] for _, _, b in placed)
        y1 = max(b[3] for _, _, b in placed)
        canvas = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
        for part, matrix, (bx0, by0, bx1, by1) in placed:
            # Each part is warped into its own box only, then laid over what is below it.
            to_box = np.array([[1.0, 0.0, -bx0], [0.0, 1.0, -by0], [0.0, 0.0, 1.0]])
            warped = cv2.warpPerspective(part.crop, to_box @ matrix, (bx1 - bx0, by1 - by0), flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            if part.behind_arms:
                warped *= (1.0 - self._arm_mask(observation, (bx0, by0, bx1, by1), min_visibility))[..., None]
            below = canvas[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0]
            below *= 1.0 - warped[..., 3:4]
            below += warped
        return self._finish(canvas, observation.mask[y0:y1, x0:x1], x0, y0)

    def render_on(self, image: np.ndarray, observation: BodyObservation, camera: Intrinsics,
                  live: bool = False) -> tuple[np.ndarray, RenderedLayer | None]:
        """(``image``, the garment layer) with the shopper's own top hidden and the real shading kept.

        The shopper's top is the person-mask pixels around the torso and upper arms whose
        colour is the torso's (Lab distance to its median); where the warped garment leaves
        them showing, the garment is grown over them (its own colours filled in). The
        garment then takes the light and folds of the real top: its colour is scaled by the
        frame's smoothed brightness over the top's median brightness.
        """
        layer = self.render(observation, camera)
        if layer is None or observation.mask is None:
            return image, layer
        old = own_top_mask(image, observation)
        if old is None:
            return image, layer
        return image, _cover_and_shade(layer, old, image, observation.mask)

    def _finish(self, canvas: np.ndarray, person: np.ndarray, x0: int, y0: int) -> RenderedLayer:
        """Clip to the grown person mask and convert premultiplied float to straight-alpha uint8."""
        import cv2

        size = 2 * self.mask_grow_px + 1
        grown = cv2.dilate((person > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
        alpha = canvas[..., 3] * grown
        colour = canvas[..., :3] / np.maximum(canvas[..., 3:4], 1e-6)
        rgba = np.dstack([np.clip(colour * 255.0, 0, 255), np.clip(alpha * 255.0, 0, 255)]).astype(np.uint8)
        return RenderedLayer(rgba, x0, y0)


def own_top_mask(image: np.ndarray, observation: BodyObservation, max_distance: float = 30.0) -> np.ndarray | None:
    """(H, W) bool: the shopper's own top (see :meth:`GarmentTryOn.render_on`), or None without a torso."""
    import cv2

    pixels, visibility = observation.pixels, observation.visibility
    torso = [lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER, lm.RIGHT_HIP, lm.LEFT_HIP]
    if pixels is None or (visibility[torso] <= 0.5).any():
        return None
    height, width = image.shape[:2]
    shoulders = pixels[[lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER]]
    hips = pixels[[lm.LEFT_HIP, lm.RIGHT_HIP]]
    span = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    if span < 4.0:
        return None
    up = (shoulders.mean(axis=0) - hips.mean(axis=0))
    up /= max(float(np.linalg.norm(up)), 1e-6)
    outline = [shoulders[0] + 0.2 * span * up, shoulders[1] + 0.2 * span * up, hips[1] - 0.1 * span * up,
               hips[0] - 0.1 * span * up]
    for shoulder, elbow in ((lm.LEFT_SHOULDER, lm.LEFT_ELBOW), (lm.RIGHT_SHOULDER, lm.RIGHT_ELBOW)):
        if visibility[elbow] > 0.5:  # sleeves reach about half way down the upper arm
            outline.append(pixels[shoulder] + 0.5 * (pixels[elbow] - pixels[shoulder]))
    grow = max(1, int(0.2 * span))
    points = np.array(outline + [hips[0], hips[1]])
    # Work in the torso's window only: the frame is several times larger.
    x0, y0 = np.maximum(np.floor(points.min(axis=0)).astype(int) - grow - 1, 0)
    x1, y1 = np.minimum(np.ceil(points.max(axis=0)).astype(int) + grow + 2, [width, height])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    hull = cv2.convexHull(np.round(np.array(outline) - [x0, y0]).astype(np.int32))
    zone = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(zone, hull, 1)
    zone = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))) > 0
    zone &= observation.mask[y0:y1, x0:x1] > 0.5
    core = np.zeros(zone.shape, np.uint8)
    centre = np.concatenate([shoulders, hips]).mean(axis=0)
    quad = np.concatenate([shoulders, hips[::-1]])
    cv2.fillConvexPoly(core, np.round(centre + 0.6 * (quad - centre) - [x0, y0]).astype(np.int32), 1)
    core = (core > 0) & zone
    if core.sum() < 20:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_BGR2LAB).astype(np.float32)
    median = np.median(lab[core], axis=0)
    distance = np.linalg.norm((lab - median) * [0.5, 1.0, 1.0], axis=2)  # light and shade vary more than hue
    top = np.zeros((height, width), bool)
    top[y0:y1, x0:x1] = zone & (distance <= max_distance)
    return top


def _cover_and_shade(layer: RenderedLayer, old: np.ndarray, image: np.ndarray, person: np.ndarray) -> RenderedLayer:
    """``layer`` grown over ``old`` pixels it leaves uncovered, and shaded by the frame's brightness."""
    import cv2

    height, width = image.shape[:2]
    ys, xs = np.nonzero(old)
    x0, y0 = min(layer.x0, int(xs.min())), min(layer.y0, int(ys.min()))
    x1 = max(layer.x0 + layer.rgba.shape[1], int(xs.max()) + 1)
    y1 = max(layer.y0 + layer.rgba.shape[0], int(ys.max()) + 1)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    rgba = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
    lx0, ly0 = layer.x0 - x0, layer.y0 - y0
    src = layer.rgba[max(-ly0, 0):, max(-lx0, 0):]
    h = min(src.shape[0], rgba.shape[0] - max(ly0, 0))
    w = min(src.shape[1], rgba.shape[1] - max(lx0, 0))
    rgba[max(ly0, 0):max(ly0, 0) + h, max(lx0, 0):max(lx0, 0) + w] = src[:h, :w]
    showing = old[y0:y1, x0:x1] & (rgba[..., 3] < 128)
    covered = rgba[..., 3] >= 128
    if showing.any() and covered.sum() > 20:
        # Fill the uncovered pixels with the colour of the nearest garment pixel (one distance
        # transform: an inpaint over the whole box would cost ten times more).
        _, labels = cv2.distanceTransformWithLabels((~covered).astype(np.uint8), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        ys, xs = np.nonzero(covered)
        colours = np.zeros((labels.max() + 1, 3), np.uint8)
        colours[labels[ys, xs]] = rgba[ys, xs, :3]
        rgba[showing, :3] = cv2.GaussianBlur(colours[labels], (0, 0), 1.5)[showing]
        rgba[showing, 3] = 255
    # Shading transfer: the real top's folds and light, relative to its median brightness.
    gray = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_BGR2GRAY).astype(np.float32)
    region = old[y0:y1, x0:x1]
    if region.sum() > 20:
        # Folds and light, not the print: blur at the scale of the body; a dark top's ratios are
        # mostly noise, so it passes on less of its shading.
        median = max(float(np.median(gray[region])), 1.0)
        sigma = max(2.0, 0.012 * float(np.sqrt(region.sum())) * 4.0)
        strength = 0.6 * float(np.clip(median / 80.0, 0.2, 1.0))
        shade = 1.0 + strength * (cv2.GaussianBlur(gray, (0, 0), sigma) / median - 1.0)
        shade = np.clip(shade, 0.7, 1.2)
        weight = cv2.GaussianBlur(region.astype(np.float32), (0, 0), 3.0)  # shading only over the real top
        shade = 1.0 + (shade - 1.0) * weight
        drawn = rgba[..., 3] > 0
        toned = rgba[..., :3].astype(np.float32) * shade[..., None]
        rgba[drawn, :3] = np.clip(toned[drawn], 0, 255).astype(np.uint8)
    return RenderedLayer(rgba, x0, y0)
