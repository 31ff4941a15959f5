"""Procedural garment images for the AR mirror: a front view with alpha, and where
it attaches to the body.

Each garment is a PNG (RGBA, straight alpha) plus a JSON sidecar with the canvas
size, the anchor points (pixels, named after the MediaPipe landmarks they go
to: ``right_shoulder`` is the wearer's right, on the image's left) and the parts
the mirror warps one by one (a polygon and 2 or 4 anchor names each).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assets.garments.styles import GarmentStyle
from assets.shoes.palette import RGB, contrast, shade

OUTPUT_SCALE = 0.5  # drawn at full canvas size, stored at half: ample for a 640 x 480 mirror
TOP_CANVAS = (768, 640)
BOTTOM_CANVAS = (512, 960)
SLEEVE_ANGLE_DEG = 28.0
UPPER_ARM_PX, FOREARM_PX = 250.0, 230.0
SHOULDERS = ["right_shoulder", "left_shoulder"]


@dataclass
class GarmentDrawing:
    """A garment under construction: named anchors, parts, and the polygons' outlines (pixels)."""

    category: str
    style: str
    size: tuple[int, int]
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)
    parts: list[dict] = field(default_factory=list)

    def add_part(self, name: str, polygon: np.ndarray, anchors: list[str], behind_arms: bool,
                 width_from: list[str] | None = None) -> None:
        """A part tied to 2 or 4 anchors; a 2-anchor part may take its width scale from another
        anchor pair (``width_from``), so a sleeve stays as wide as the shoulders say."""
        part = {"name": name, "polygon": np.round(polygon, 1).tolist(), "anchors": anchors, "behind_arms": behind_arms}
        if width_from:
            part["width_from"] = width_from
        self.parts.append(part)

    def sidecar(self, scale: float = 1.0) -> dict:
        """The JSON sidecar for the image stored at ``scale`` times the canvas size."""
        parts = [{**p, "polygon": np.round(np.array(p["polygon"]) * scale, 1).tolist()} for p in self.parts]
        return {"category": self.category, "style": self.style,
                "canvas": [round(self.size[0] * scale), round(self.size[1] * scale)],
                "anchors": {k: [round(v[0] * scale, 1), round(v[1] * scale, 1)] for k, v in self.anchors.items()},
                "parts": parts}


def _mirror(points: np.ndarray, width: int) -> np.ndarray:
    mirrored = np.array(points, dtype=float)
    mirrored[:, 0] = width - mirrored[:, 0]
    return mirrored


def _sleeve(drawing: GarmentDrawing, style: GarmentStyle, shoulder: np.ndarray, armpit: np.ndarray, side: str) -> None:
    """Add one sleeve (right side drawn; the left is its mirror) as one or two parts."""
    angle = np.radians(SLEEVE_ANGLE_DEG)
    axis = np.array([-np.sin(angle), np.cos(angle)])
    across = np.array([axis[1], -axis[0]])  # points into the body; -across is the sleeve's outer edge
    top_width = float(np.linalg.norm(armpit - shoulder))
    start = (shoulder + armpit) / 2
    elbow, wrist = shoulder + axis * UPPER_ARM_PX, shoulder + axis * (UPPER_ARM_PX + FOREARM_PX)
    flip = (lambda p: _mirror(p, drawing.size[0])) if side == "left" else (lambda p: np.asarray(p, float))
    drawing.anchors[f"{side}_elbow"] = tuple(flip(elbow[None])[0])
    drawing.anchors[f"{side}_wrist"] = tuple(flip(wrist[None])[0])

    def band(s0: float, s1: float, w0: float, w1: float) -> np.ndarray:
        a, b = start + axis * s0, start + axis * s1
        return np.array([a - across * w0 / 2, b - across * w1 / 2, b + across * w1 / 2, a + across * w0 / 2])

    if style.sleeves == "short":
        polygon = np.vstack([[shoulder], band(20.0, 125.0, top_width, 0.8 * top_width)[1:3], [armpit]])
        drawing.add_part(f"{side}_sleeve", flip(polygon), [f"{side}_shoulder", f"{side}_elbow"], False, SHOULDERS)
        return
    elbow_s = UPPER_ARM_PX - 10.0
    upper = np.vstack([[shoulder], band(0.0, elbow_s + 12, top_width, 0.62 * top_width)[1:3], [armpit]])
    lower = band(elbow_s - 12, elbow_s + FOREARM_PX + 10, 0.64 * top_width, 0.5 * top_width)
    drawing.add_part(f"{side}_upper_sleeve", flip(upper), [f"{side}_shoulder", f"{side}_elbow"], False, SHOULDERS)
    drawing.add_part(f"{side}_lower_sleeve", flip(lower), [f"{side}_elbow", f"{side}_wrist"], False, SHOULDERS)


def layout_top(style: GarmentStyle) -> GarmentDrawing:
    """Anchors and parts of a top on the 768 x 640 canvas."""
    width, _ = TOP_CANVAS
    drawing = GarmentDrawing("tops", style.name, TOP_CANVAS)
    centre = width / 2
    # MediaPipe puts shoulders and hips at the joints, inside the body's outline: the
    # anchors sit that far inside the garment's seams.
    shoulder = np.array([centre - 118.0, 120.0])
    shoulder_joint = np.array([centre - 100.0, 128.0])
    hip_joint = np.array([centre - 80.0, 520.0])
    armpit = np.array([centre - 128.0 * style.width, 235.0])
    hem_y = 520.0 + 50.0 * style.length
    neck = np.array([centre - 50.0, 100.0])
    drawing.anchors.update(right_shoulder=tuple(shoulder_joint), left_shoulder=tuple(_mirror(shoulder_joint[None], width)[0]),
                           right_hip=tuple(hip_joint), left_hip=tuple(_mirror(hip_joint[None], width)[0]))
    right = np.array([neck, shoulder, armpit, [centre - 122.0 * style.width, hem_y]])
    torso = np.vstack([right, _mirror(right, width)[::-1]])
    drawing.add_part("torso", torso, ["right_shoulder", "left_shoulder", "left_hip", "right_hip"], True)
    if style.sleeves != "none":
        for side in ("right", "left"):
            _sleeve(drawing, style, shoulder, armpit, side)
    return drawing


def layout_bottom(style: GarmentStyle) -> GarmentDrawing:
    """Anchors and parts of trousers, shorts or a skirt on the 512 x 960 canvas."""
    width, _ = BOTTOM_CANVAS
    drawing = GarmentDrawing("bottoms", style.name, BOTTOM_CANVAS)
    centre = width / 2
    # Hip joints sit well inside the hips' outline; knees and ankles mid-leg.
    hip, knee, ankle = np.array([centre - 72.0, 130.0]), np.array([centre - 64.0, 520.0]), np.array([centre - 58.0, 900.0])
    for name, point in (("hip", hip), ("knee", knee), ("ankle", ankle)):
        drawing.anchors[f"right_{name}"] = tuple(point)
        drawing.anchors[f"left_{name}"] = tuple(_mirror(point[None], width)[0])
    hem_y = 120.0 + 780.0 * style.length
    quad = ["right_hip", "left_hip", "left_knee", "right_knee"]
    if style.name == "skirt":
        half = np.array([[centre - 112.0, 20.0], [centre - 118.0 * style.width, hem_y]])
        drawing.add_part("skirt", np.vstack([half, _mirror(half, width)[::-1]]), quad, False)
        return drawing
    thigh, knee_w, hem_w = 72.0 * style.width, 56.0 * style.width, 50.0 * style.width
    upper_end = min(hem_y, 532.0)
    at = lambda y, w_top, w_bottom, y0, y1: w_top + (w_bottom - w_top) * (y - y0) / (y1 - y0)  # noqa: E731
    leg_w = at(upper_end, thigh, knee_w, 260.0, 520.0)
    leg_x = at(upper_end, knee[0] - 20.0, knee[0], 260.0, 520.0)
    right = np.array([[centre - 112.0, 20.0], [centre - 118.0, 150.0], [leg_x - leg_w, upper_end], [leg_x + leg_w, upper_end]])
    crotch = np.array([[centre, 262.0]])
    drawing.add_part("upper", np.vstack([right, crotch, _mirror(right, width)[::-1]]), quad, False)
    if hem_y > upper_end:
        for side in ("right", "left"):
            leg = np.array([[knee[0] - knee_w, 508.0], [ankle[0] - hem_w, hem_y], [ankle[0] + hem_w, hem_y], [knee[0] + knee_w, 508.0]])
            leg = _mirror(leg, width) if side == "left" else leg
            drawing.add_part(f"{side}_lower", leg, [f"{side}_knee", f"{side}_ankle"], False, ["right_knee", "left_knee"])
    return drawing


def _fabric(image: np.ndarray, fabric: str, rng: np.random.Generator) -> None:
    """Weave or knit texture over an (h, w, 3) uint8 image, in place."""
    h, w = image.shape[:2]
    rows, cols = np.mgrid[0:h, 0:w]
    pattern = {
        "denim": ((rows + cols) % 4 < 1) * -14.0 + ((rows - cols) % 9 < 1) * 6.0,
        "twill": ((rows + cols) % 5 < 1) * -8.0,
        "oxford": ((rows % 3 < 1) ^ (cols % 3 < 1)) * -7.0,
        "knit": (cols % 5 < 2) * -10.0,
        "nylon": (rows % 14 < 1) * -10.0 + (cols % 14 < 1) * -10.0,
        "jersey": np.zeros((h, w)),
    }[fabric]
    noise = np.round(rng.normal(0.0, 1.5, (h, w)))
    image[...] = np.clip(image.astype(np.float32) + (pattern + noise)[..., None], 0, 255).astype(np.uint8)


def _shading(alpha: np.ndarray, rng: np.random.Generator, folds: int = 5) -> np.ndarray:
    """Light factor : (h, w) float32 - darker near the outline and in a few soft vertical folds."""
    import cv2

    inside = (alpha > 127).astype(np.uint8)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    light = 0.72 + 0.28 * np.clip(distance / 28.0, 0.0, 1.0)
    cols = np.arange(alpha.shape[1], dtype=np.float32)
    for x in rng.uniform(0.1, 0.9, folds) * alpha.shape[1]:
        light *= 1.0 - 0.1 * np.exp(-0.5 * ((cols - x) / rng.uniform(6, 16)) ** 2)[None, :]
    return light.astype(np.float32)


def _trims(image: np.ndarray, drawing: GarmentDrawing, style: GarmentStyle, colour: RGB, brand: str) -> None:
    """Collar, placket, pockets, waistband, seams and the brand mark, drawn over the filled garment."""
    import cv2

    dark, line = shade(colour, 0.7), shade(colour, 0.55)
    centre = drawing.size[0] // 2
    aa = cv2.LINE_AA
    if drawing.category == "tops":
        if style.collar == "hood":
            cv2.ellipse(image, (centre, 92), (92, 46), 0, 180, 360, dark, -1, aa)
        if style.collar in ("crew", "hood", "zip"):
            cv2.ellipse(image, (centre, 100), (50, 30), 0, 0, 180, dark, 8, aa)
        if style.collar in ("v", "shirt"):
            cv2.fillPoly(image, [np.array([[centre - 48, 100], [centre + 48, 100], [centre, 175]], np.int32)], dark, aa)
        if style.collar == "shirt":
            for sign in (-1, 1):
                collar = np.array([[centre + sign * 50, 96], [centre + sign * 8, 150], [centre + sign * 40, 160]], np.int32)
                cv2.fillPoly(image, [collar], shade(colour, 1.08), aa)
            for y in range(200, 560, 60):
                cv2.circle(image, (centre, y), 5, contrast(colour), -1, aa)
        if style.collar == "zip":
            cv2.line(image, (centre, 110), (centre, 585), shade(colour, 0.45), 4, aa)
        if style.pockets:
            cv2.rectangle(image, (centre - 90, 420), (centre + 90, 520), line, 2, aa)
        initials = "".join(word[0] for word in brand.split() if word[0].isalpha())[:3].upper()
        cv2.putText(image, initials, (centre + 52, 205), cv2.FONT_HERSHEY_SIMPLEX, 0.7, contrast(colour), 2, aa)
        return
    cv2.rectangle(image, (centre - 114, 20), (centre + 114, 52), dark, -1, aa)
    if style.name != "skirt":
        cv2.line(image, (centre, 52), (centre, 200), line, 2, aa)
        cv2.circle(image, (centre, 36), 6, (200, 170, 90), -1, aa)
    if style.pockets:
        for sign in (-1, 1):
            cv2.ellipse(image, (centre + sign * 112, 52), (60, 70), 0, 90 if sign < 0 else 0, 180 if sign < 0 else 90, line, 2, aa)


def paint_garment(drawing: GarmentDrawing, style: GarmentStyle, colour: RGB, brand: str, seed: int = 0) -> np.ndarray:
    """The garment image : (h, w, 4) uint8 RGBA, straight alpha, transparent outside the parts."""
    import cv2

    width, height = drawing.size
    rng = np.random.default_rng(seed)
    alpha = np.zeros((height, width), np.uint8)
    for part in drawing.parts:
        cv2.fillPoly(alpha, [np.round(np.array(part["polygon"]) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[...] = colour
    _fabric(rgb, style.fabric, rng)
    _trims(rgb, drawing, style, colour, brand)
    rgb = np.clip(rgb.astype(np.float32) * _shading(alpha, rng)[..., None], 0, 255).astype(np.uint8)
    return np.dstack([rgb, alpha])


def write_garment(rgba: np.ndarray, drawing: GarmentDrawing, png_path: Path) -> Path:
    """Write the PNG (at ``OUTPUT_SCALE``) and its ``.json`` sidecar next to it; returns the PNG path."""
    import cv2

    png_path.parent.mkdir(parents=True, exist_ok=True)
    width, height = drawing.size
    stored = cv2.resize(rgba, (round(width * OUTPUT_SCALE), round(height * OUTPUT_SCALE)), interpolation=cv2.INTER_AREA)
    if not cv2.imwrite(str(png_path), cv2.cvtColor(stored, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write garment image {png_path}")
    sidecar = json.dumps(drawing.sidecar(OUTPUT_SCALE), indent=1)
    png_path.with_suffix(".json").write_text(sidecar + "\n", encoding="utf-8")
    return png_path
