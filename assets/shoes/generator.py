"""Procedural shoe models on a product's own last, written as textured GLB.

The shoe is built in the model frame the AR mirror uses: metres, +X from the
heel (X = 0) to the toe, Y up with the sole at Y = 0, Z across the foot. Parts:
a sole extruded from the footprint (with heel height and toe spring), an upper
lofted from superellipse sections over the footbed with the collar opening cut
out, lace bars over the throat, and one small texture atlas painted with the
brand colours (panels, heel counter, toe cap, eyestay, stitching, sole tread).

``LastLike`` is anything with the ``tryon.fit.lasts.ShoeLast`` dimensions in
millimetres: length_mm, ball_width_mm, heel_width_mm, heel_height_mm, toe_spring_mm.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assets.shoes.palette import RGB, contrast, shade
from assets.shoes.styles import ShoeStyle

_LOGGER = logging.getLogger(__name__)

ATLAS_SIZE = 256
# Atlas rows (top of the image = row 0): upper, sole, laces.
UPPER_ROWS = (0, 160)
SOLE_ROWS = (160, 224)
LACE_ROWS = (224, 256)
SECTIONS = 60  # lofted sections along the length
AROUND = 36  # steps around each upper section
SUPERELLIPSE = 2.8  # section squareness of the upper


class LastLike(Protocol):
    length_mm: float
    ball_width_mm: float
    heel_width_mm: float
    heel_height_mm: float
    toe_spring_mm: float


@dataclass(frozen=True)
class ShoeColours:
    """The colours of one colourway."""

    upper: RGB
    accent: RGB
    sole: RGB
    lace: RGB


@dataclass(frozen=True)
class ShoeMesh:
    """vertices : (n, 3) float metres; faces : (m, 3) int; uv : (n, 2) in [0, 1] (v up); texture (256, 256, 3) uint8 RGB."""

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    texture: np.ndarray


def _pchip(xs: list[float], ys: list[float], x: np.ndarray) -> np.ndarray:
    from scipy.interpolate import PchipInterpolator

    return PchipInterpolator(xs, ys)(x)


def _half_width(u: np.ndarray, last: LastLike, style: ShoeStyle) -> np.ndarray:
    """Footprint half-width (metres) at length fractions ``u`` in [0, 1]."""
    heel, ball = last.heel_width_mm / 2000.0, last.ball_width_mm / 2000.0
    xs = [0.0, 0.012, 0.04, 0.09, 0.17, 0.40, 0.68, 0.86, 0.95, 0.985, 1.0]
    ys = [0.0, 0.5 * heel, 0.78 * heel, 0.94 * heel, heel, 0.84 * ball, ball, 0.9 * ball,
          style.toe_shape * ball, 0.5 * style.toe_shape * ball, 0.0]
    return np.maximum(_pchip(xs, ys, u), 0.0)


def _sole_profile(u: np.ndarray, last: LastLike, style: ShoeStyle) -> tuple[np.ndarray, np.ndarray]:
    """(bottom, footbed) heights in metres at length fractions ``u``: toe spring and heel height."""
    spring = last.toe_spring_mm / 1000.0
    bottom = spring * np.clip((u - 0.72) / 0.28, 0.0, 1.0) ** 2
    heel = max(style.sole_forefoot_m, last.heel_height_mm / 1000.0)
    blend = np.clip((0.66 - u) / 0.46, 0.0, 1.0)
    thickness = style.sole_forefoot_m + (heel - style.sole_forefoot_m) * blend * blend * (3 - 2 * blend)
    return bottom, bottom + thickness


def _upper_height(u: np.ndarray, style: ShoeStyle) -> np.ndarray:
    """Height of the upper's top line above the footbed, as a fraction of the length."""
    back = style.collar_back * 1.3
    throat = max(0.2, style.collar_front * 1.15) if style.laces else style.collar_front * 1.2
    xs = [0.0, style.throat * 0.8, style.throat, 0.66, 0.86]
    ys = [back, max(back * 0.92, throat), throat, 0.16 if style.laces else 0.13, 0.10]
    height = _pchip(xs, ys, np.minimum(u, 0.86))
    tip = np.clip((u - 0.86) / 0.14, 0.0, 1.0)
    return height * np.sqrt(np.maximum(1.0 - tip ** 2, 0.0))


def _collar(u: np.ndarray, style: ShoeStyle) -> np.ndarray:
    """Collar line height above the footbed (fraction of length); +inf where there is no opening."""
    line = style.collar_back + (style.collar_front - style.collar_back) * np.clip(u / style.throat, 0.0, 1.0)
    return np.where(u < style.throat, line, np.inf)


def _stations() -> np.ndarray:
    """Length fractions of the sections, denser at heel and toe."""
    return 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, SECTIONS))


def _grid_faces(rows: int, cols: int, offset: int = 0) -> np.ndarray:
    """Quads of a rows x cols vertex grid as triangles : (2 (rows-1)(cols-1), 3)."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel() + offset
    b, d = a + 1, a + cols
    return np.concatenate([np.stack([a, d, b], 1), np.stack([b, d, d + 1], 1)])


def _atlas_uv(u: np.ndarray, v: np.ndarray, rows: tuple[int, int]) -> np.ndarray:
    """Atlas texture coordinates (v up) of region ``rows`` for local (u, v) in [0, 1] (v down)."""
    top, bottom = rows
    row = top + 0.5 + v * (bottom - top - 1)
    col = 0.5 + u * (ATLAS_SIZE - 1)
    return np.stack([col / ATLAS_SIZE, 1.0 - row / ATLAS_SIZE], axis=-1)


def _section_angles(height: np.ndarray, collar: np.ndarray) -> np.ndarray:
    """Angles around each section : (SECTIONS, AROUND); where a collar cuts the section the
    two halves stop at the collar line, so the opening has a smooth edge."""
    ratio = np.clip(collar / np.maximum(height, 1e-9), 0.0, 1.0)
    limit = np.arcsin(ratio ** (SUPERELLIPSE / 2.0))
    half = np.linspace(0.0, 1.0, AROUND // 2)
    return np.concatenate([limit[:, None] * half[None, :], np.pi - limit[:, None] * half[None, ::-1]], axis=1)


def build_upper(last: LastLike, style: ShoeStyle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper surface with the collar opening left open: vertices, faces, uv."""
    length = last.length_mm / 1000.0
    u = _stations()
    width = _half_width(u, last, style)
    _, footbed = _sole_profile(u, last, style)
    height = _upper_height(u, style) * length
    collar = np.minimum(_collar(u, style) * length, height)
    t = _section_angles(height, collar)
    cos, sin = np.cos(t), np.sin(t)
    power = 2.0 / SUPERELLIPSE
    z = width[:, None] * np.sign(cos) * np.abs(cos) ** power
    y = footbed[:, None] + height[:, None] * np.abs(sin) ** power
    x = np.broadcast_to(u[:, None] * length, z.shape)
    vertices = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    faces = _grid_faces(SECTIONS, AROUND)
    open_station = collar < height - 1e-9
    middle = AROUND // 2 - 1
    rows = np.tile(np.repeat(np.arange(SECTIONS - 1), AROUND - 1), 2)
    cols = np.tile(np.tile(np.arange(AROUND - 1), SECTIONS - 1), 2)
    across_opening = (cols == middle) & open_station[rows] & open_station[rows + 1]
    uv = _atlas_uv(np.broadcast_to(u[:, None], z.shape).ravel(), (t / np.pi).ravel(), UPPER_ROWS)
    return vertices, faces[~across_opening], uv


def _sole_loop(count: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed cross-section loop of the sole: (side, level, texture v), side in [-1, 1], level 0 bottom / 1 top."""
    bottom = np.linspace(-1.0, 1.0, count)
    top = bottom[::-1]
    side = np.concatenate([bottom, [1.0, 1.0], top, [-1.0, -1.0]])
    level = np.concatenate([np.zeros(count), [1 / 3, 2 / 3], np.ones(count), [2 / 3, 1 / 3]])
    side, level = np.append(side, side[0]), np.append(level, level[0])
    tex_v = np.linspace(0.0, 1.0, len(side))
    return side, level, tex_v


def build_sole(last: LastLike, style: ShoeStyle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sole extruded from the widened footprint between bottom and footbed: vertices, faces, uv."""
    length = last.length_mm / 1000.0
    u = _stations()
    overhang = 0.006 / length
    su = np.clip(u * (1 + 2 * overhang) - overhang, 0.0, 1.0)
    width = _half_width(su, last, style) * 1.05
    width[0] = width[-1] = 0.0
    bottom, footbed = _sole_profile(su, last, style)
    side, level, tex_v = _sole_loop()
    z = width[:, None] * side[None, :]
    y = bottom[:, None] + (footbed - bottom)[:, None] * level[None, :]
    x = np.broadcast_to((u * (1 + 2 * overhang) - overhang)[:, None] * length, z.shape)
    vertices = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    faces = _grid_faces(SECTIONS, len(side))
    uv = _atlas_uv(np.broadcast_to(u[:, None], z.shape).ravel(), np.broadcast_to(tex_v[None, :], z.shape).ravel(), SOLE_ROWS)
    return vertices, faces, uv


def _upper_top(x_fraction: float, z: np.ndarray, last: LastLike, style: ShoeStyle) -> np.ndarray:
    """Height (metres) of the upper's surface at length fraction ``x_fraction`` and lateral ``z``."""
    u = np.array([x_fraction])
    width = float(_half_width(u, last, style)[0])
    _, footbed = _sole_profile(u, last, style)
    height = float(_upper_height(u, style)[0]) * last.length_mm / 1000.0
    ratio = np.clip(np.abs(z) / width, 0.0, 1.0) ** SUPERELLIPSE
    return footbed[0] + height * (1.0 - ratio) ** (1.0 / SUPERELLIPSE)


def build_laces(last: LastLike, style: ShoeStyle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Criss-crossed lace bars over the throat, each a thin tube on the upper: vertices, faces, uv."""
    length = last.length_mm / 1000.0
    chunks, offset = [], 0
    samples, thick, wide = 9, 0.0015, 0.0022
    for k in range(style.laces):
        centre = style.throat + (0.70 - style.throat) * (k + 0.5) / style.laces
        width = float(_half_width(np.array([centre]), last, style)[0]) * 0.42
        pitch = 0.5 * (0.70 - style.throat) / style.laces
        for direction in (1.0, -1.0):
            s = np.linspace(-1.0, 1.0, samples)
            fx = centre + direction * s * pitch
            z = s * width
            y = np.array([_upper_top(float(f), np.array([zz]), last, style)[0] for f, zz in zip(fx, z)]) + 0.0025
            ring = np.array([[-wide, -thick], [wide, -thick], [wide, thick], [-wide, thick], [-wide, -thick]])
            pts = np.stack([fx[:, None] * length + ring[None, :, 0], y[:, None] + ring[None, :, 1],
                            np.broadcast_to(z[:, None], (samples, len(ring)))], axis=-1).reshape(-1, 3)
            uv = _atlas_uv(np.repeat((s + 1) / 2, len(ring)), np.tile(np.linspace(0, 1, len(ring)), samples), LACE_ROWS)
            chunks.append((pts, _grid_faces(samples, len(ring), offset), uv))
            offset += len(pts)
    if not chunks:
        return np.zeros((0, 3)), np.zeros((0, 3), int), np.zeros((0, 2))
    return tuple(np.concatenate(parts) for parts in zip(*chunks))  # type: ignore[return-value]


def _finish(region: np.ndarray, finish: str, rng: np.random.Generator) -> None:
    """Surface texture of a material, painted in place over an (h, w, 3) uint8 region."""
    if finish == "mesh":
        region[::4, ::4] = (region[::4, ::4] * 0.8).astype(np.uint8)
        region[2::4, 2::4] = (region[2::4, 2::4] * 0.88).astype(np.uint8)
    elif finish == "knit":
        region[::3] = (region[::3] * 0.9).astype(np.uint8)
    elif finish in ("suede", "lug", "foam"):
        noise = rng.integers(-9, 10, region.shape[:2])[..., None]
        region[...] = np.clip(region.astype(int) + noise, 0, 255).astype(np.uint8)
    else:
        noise = rng.integers(-3, 4, region.shape[:2])[..., None]
        region[...] = np.clip(region.astype(int) + noise, 0, 255).astype(np.uint8)


def _stitch(image: np.ndarray, points: np.ndarray, colour: RGB) -> None:
    """A dashed seam through ``points`` : (n, 2) pixel coordinates."""
    import cv2

    for a, b in zip(points[:-1], points[1:]):
        steps = max(int(np.linalg.norm(b - a) // 3), 1)
        for i in range(0, steps, 2):
            p = a + (b - a) * i / steps
            q = a + (b - a) * min(i + 1, steps) / steps
            cv2.line(image, tuple(int(c) for c in p), tuple(int(c) for c in q), colour, 1)


def paint_upper(style: ShoeStyle, colours: ShoeColours, rng: np.random.Generator) -> np.ndarray:
    """The upper's atlas region : (160, 256, 3) uint8; x = length (heel left), y = around the section."""
    import cv2

    top, bottom = UPPER_ROWS
    h, w = bottom - top, ATLAS_SIZE
    image = np.empty((h, w, 3), np.uint8)
    image[...] = colours.upper
    _finish(image, style.upper_finish, rng)
    seam = shade(contrast(colours.upper), 1.0)
    mirrored = ((0.0, 1.0), (1.0, -1.0))  # (origin, sign) for the two sides of the shoe
    for origin, sign in mirrored:
        v = lambda f, origin=origin, sign=sign: int((origin + sign * f) * (h - 1))  # noqa: E731 - local coordinate helper
        counter = np.array([[0, v(0.0)], [int(0.24 * w), v(0.0)], [int(0.2 * w), v(0.22)], [int(0.1 * w), v(0.4)], [0, v(0.42)]])
        cv2.fillPoly(image, [counter], shade(colours.accent, 0.85))
        _stitch(image, counter[1:4].astype(float), seam)
        if style.side_stripe:
            stripe = np.array([[int(0.64 * w), v(0.08)], [int(0.70 * w), v(0.1)], [int(0.40 * w), v(0.38)], [int(0.32 * w), v(0.36)]])
            cv2.fillPoly(image, [stripe], colours.accent)
        cv2.circle(image, (int(0.07 * w), v(0.2)), 4, contrast(colours.accent), 1, cv2.LINE_AA)
    if style.toe_cap:
        cv2.rectangle(image, (int(0.84 * w), 0), (w - 1, h - 1), shade(colours.upper, 0.78), -1)
        _stitch(image, np.array([[0.84 * w, 0], [0.84 * w, h - 1]]), seam)
    if style.laces:
        x0, x1 = int(style.throat * w), int(0.72 * w)
        cv2.rectangle(image, (x0, int(0.33 * h)), (x1, int(0.67 * h)), shade(colours.upper, 0.8), -1)
        for k in range(style.laces + 1):
            x = int(x0 + (x1 - x0) * (k + 0.25) / (style.laces + 0.5))
            for f in (0.37, 0.63):
                cv2.circle(image, (x, int(f * h)), 2, seam, -1)
        _stitch(image, np.array([[x0, 0.33 * h], [x1, 0.33 * h]]), seam)
        _stitch(image, np.array([[x0, 0.67 * h], [x1, 0.67 * h]]), seam)
    image[:3] = image[-3:] = shade(colours.sole, 0.9)
    return image


def paint_sole(style: ShoeStyle, colours: ShoeColours, rng: np.random.Generator) -> np.ndarray:
    """The sole's atlas region : (64, 256, 3) uint8; y follows the section loop (bottom, side, footbed, side)."""
    top, bottom = SOLE_ROWS
    h = bottom - top
    image = np.empty((h, ATLAS_SIZE, 3), np.uint8)
    image[...] = colours.sole
    _finish(image, style.sole_finish, rng)
    tread = shade(colours.sole, 0.7)
    loop = np.linspace(0.0, 1.0, h)
    bottom_rows = loop < 0.33
    step = 6 if style.sole_finish == "lug" else 3
    image[bottom_rows, ::step] = tread
    footbed = (loop > 0.52) & (loop < 0.82)
    image[footbed] = shade(colours.accent, 0.6)
    midline = (np.abs(loop - 0.4) < 0.02) | (np.abs(loop - 0.93) < 0.02)
    image[midline] = shade(colours.sole, 0.82)
    return image


def paint_laces(colours: ShoeColours) -> np.ndarray:
    """The laces' atlas region : (32, 256, 3) uint8 with a twisted-cord pattern."""
    top, bottom = LACE_ROWS
    rows, cols = np.mgrid[0:bottom - top, 0:ATLAS_SIZE]
    twist = ((rows + cols) % 6) < 2
    image = np.empty((bottom - top, ATLAS_SIZE, 3), np.uint8)
    image[...] = colours.lace
    image[twist] = shade(colours.lace, 0.8)
    return image


def build_shoe(last: LastLike, style: ShoeStyle, colours: ShoeColours, seed: int = 0) -> ShoeMesh:
    """The whole shoe on ``last``: geometry and its painted atlas."""
    if not (last.length_mm > 0 and last.ball_width_mm > 0 and last.heel_width_mm > 0):
        raise ValueError(f"last dimensions must be positive; got length {last.length_mm}, ball width "
                         f"{last.ball_width_mm}, heel width {last.heel_width_mm} mm")
    rng = np.random.default_rng(seed)
    parts = [build_sole(last, style), build_upper(last, style), build_laces(last, style)]
    vertices, faces, uvs, offset = [], [], [], 0
    for part_vertices, part_faces, part_uv in parts:
        vertices.append(part_vertices)
        faces.append(part_faces + offset)
        uvs.append(part_uv)
        offset += len(part_vertices)
    texture = np.concatenate([paint_upper(style, colours, rng), paint_sole(style, colours, rng), paint_laces(colours)])
    return ShoeMesh(np.concatenate(vertices), np.concatenate(faces).astype(np.int64), np.concatenate(uvs), texture)


def write_glb(shoe: ShoeMesh, path: Path) -> Path:
    """Write ``shoe`` as a GLB with its texture embedded (PNG); returns ``path``."""
    import trimesh
    from PIL import Image

    material = trimesh.visual.material.PBRMaterial(
        baseColorTexture=Image.fromarray(shoe.texture), metallicFactor=0.0, roughnessFactor=0.75
    )
    mesh = trimesh.Trimesh(shoe.vertices, shoe.faces, visual=trimesh.visual.TextureVisuals(uv=shoe.uv, material=material),
                           process=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".glb.tmp")
    tmp.write_bytes(mesh.export(file_type="glb"))
    tmp.replace(path)
    return path
