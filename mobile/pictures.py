"""Product pictures: garment images from the assets, shoes rendered from their 3D models.

A shoe's picture is its GLB model drawn in a three-quarter side view with the AR
mirror's renderer (moderngl on EGL), on white, and kept as a PNG in the assets cache
(``assets.shoes.cache_dir()/product-pictures``) so it is rendered once per machine. Rendering
runs in a spawned process: it needs its own GL context and holds the CPU for a while.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

_LOGGER = logging.getLogger(__name__)
PICTURE_SIZE = (480, 360)  # pixels, 4:3
VIEW_TURN_DEG = -25.0  # about the vertical: the toe swings towards the camera
VIEW_TILT_DEG = 20.0  # the camera looks down on the shoe
FOV_DEG = 14.0  # a long lens: little perspective, as in a catalogue photo


REPO_ROOT = Path(__file__).resolve().parents[1]  # the catalog's model_uri is relative to it


def pictures_dir() -> Path:
    from assets.shoes import cache_dir

    return cache_dir() / "product-pictures"


def picture_path(product_id: str, colour_code: str = "") -> Path:
    """Where the picture of ``product_id`` (in ``colour_code``, default its first colour) is or will be."""
    suffix = f"-{colour_code}" if colour_code else ""
    return pictures_dir() / f"{product_id}{suffix}.png"


def existing_picture(product_id: str, category: str) -> Path | None:
    """The picture if there is one already (garments always; shoes once rendered)."""
    if category != "shoes":
        from assets.garments import GARMENTS_DIR

        committed = GARMENTS_DIR / f"{product_id}.png"
        return committed if committed.is_file() else None
    path = picture_path(product_id)
    return path if path.is_file() else None


def missing_shoe_pictures(products: Iterable[object]) -> list[tuple[str, str]]:
    """``(product_id, model file)`` of the shoes among ``products`` (``cloud.client.Product``) with no picture yet."""
    missing = []
    for product in products:
        product_id, uri = product.product_id, product.model_uri
        if product.category == "shoes" and uri and existing_picture(product_id, "shoes") is None:
            model = REPO_ROOT / uri
            if model.is_file():
                missing.append((product_id, str(model)))
    return missing


def _view_pose(length_m: float, height_m: float, distance_m: float) -> np.ndarray:
    """4x4 model frame (X heel to toe, Y up, Z across) -> camera frame (x right, y down, z forward)."""
    turn, tilt = math.radians(VIEW_TURN_DEG), math.radians(VIEW_TILT_DEG)
    side_on = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])  # toe to the right, outer side to the camera
    about_up = np.array([[math.cos(turn), 0, math.sin(turn)], [0, 1, 0], [-math.sin(turn), 0, math.cos(turn)]])
    look_down = np.array([[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)], [0, math.sin(tilt), math.cos(tilt)]])
    rotation = look_down @ side_on @ about_up
    centre = np.array([length_m / 2, height_m / 2, 0.0])
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = np.array([0.0, 0.0, distance_m]) - rotation @ centre
    return pose


def _framed(shoe, width: int, height: int):  # type: ignore[no-untyped-def]
    """The drawn shoe cropped to itself, scaled to fill 84 % of the width, centred (a PIL RGBA image)."""
    box = shoe.getbbox()
    if box is not None:
        shoe = shoe.crop(box)
    scale = min(0.84 * width / shoe.width, 0.8 * height / shoe.height)
    shoe = shoe.resize((max(1, round(shoe.width * scale)), max(1, round(shoe.height * scale))), resample=3)
    from PIL import Image

    framed = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    framed.alpha_composite(shoe, ((width - shoe.width) // 2, (height - shoe.height) // 2 + height // 20))
    return framed


SKIN = (0.87, 0.72, 0.62, 1.0)  # the foot model's colour: a neutral skin tone
FOOT_PICTURE_SIZE = (360, 480)  # pixels, portrait: a foot seen from above, toes up
FOOT_TILT_DEG = 30.0  # from straight above, so the instep and arch show


def _top_pose(length_m: float, height_m: float, distance_m: float) -> np.ndarray:
    """4x4 model frame -> camera frame: the foot from above and in front, toes to the top of the picture."""
    tilt = math.radians(FOOT_TILT_DEG)
    from_above = np.array([[0.0, 0, 1.0], [-1.0, 0, 0], [0, -1.0, 0]])  # X (toes) up, Y (up) to the camera, Z right
    lean = np.array([[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)], [0, math.sin(tilt), math.cos(tilt)]])
    rotation = lean @ from_above
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = np.array([0.0, 0.0, distance_m]) - rotation @ np.array([length_m / 2, height_m / 2, 0.0])
    return pose


def foot_picture_path(side: str, figures: dict[str, float]) -> Path:
    """Where the picture of a foot with these measurements (mm) is or will be: one per distinct scan."""
    digest = hashlib.sha256(json.dumps([side, sorted(figures.items()), FOOT_TILT_DEG]).encode("utf-8")).hexdigest()[:16]
    return pictures_dir() / f"foot-{side}-{digest}.png"


def _foot_model(side: str, figures: dict[str, float]):  # type: ignore[no-untyped-def]
    """A foot built from the scan's measurements (the population model's shape at that length, width,
    instep and arch), as a drawable model: the cloud keeps a scan's figures, not its mesh."""
    from scanning.population import sdf
    from scanning.population.foot import GRID_SPACING_M, INSTEP_FULLNESS_RANGE, FootParameters, foot_field
    from tryon.ar.mesh import MeshPart, ShoeModel

    length = figures["length"] / 1000
    params = FootParameters(
        seed=0, side=side, length=length, ball_width=figures.get("width", 0.39 * length * 1000) / 1000,
        arch_raise=float(np.clip(figures.get("arch_height", 12.0) / 1000, 0.003, 0.020)),
        instep_height=figures.get("instep_height", 0.235 * length * 1000) / 1000, cut_height=0.10,
        second_toe_offset=0.0, instep_fullness=sum(INSTEP_FULLNESS_RANGE) / 2,
    )
    half = 0.5 * params.ball_width + 0.02
    mesh = sdf.mesh_from_field(lambda pts: foot_field(pts, params), np.array([0.0, -half, 0.0]),
                               np.array([length, half, params.cut_height]), 1.5 * GRID_SPACING_M)
    # the population's frame (x heel to toe, y across, z up) to the renderer's (X heel to toe, Y up, Z across)
    turn = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])
    points = (np.asarray(mesh.vertices) @ turn.T).astype(np.float32)
    normals = (np.asarray(mesh.vertex_normals) @ turn.T).astype(np.float32)
    part = MeshPart(positions=points, normals=normals, uvs=None, colors=np.tile(np.float32(SKIN), (len(points), 1)),
                    indices=np.asarray(mesh.faces, np.uint32), texture=None)
    extent = points.max(axis=0) - points.min(axis=0)
    return ShoeModel(f"foot-{side}", (part,), float(extent[0]), float(extent[2]), float(extent[1]))


def _save_picture(layer, size: tuple[int, int], target: Path) -> Path:  # type: ignore[no-untyped-def]
    """The rendered ``layer`` (or nothing) framed on white at ``size``, written to ``target`` atomically."""
    from PIL import Image

    width, height = size
    canvas = Image.new("RGBA", (width, height), (255, 255, 255, 255))
    if layer is not None:
        canvas.alpha_composite(_framed(Image.fromarray(layer.rgba, "RGBA"), width, height))
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp.png")
    canvas.convert("RGB").save(temporary)
    temporary.replace(target)
    return target


def render_foot_pictures(feet: dict[str, dict[str, float]]) -> dict[str, str]:
    """Render each side's foot (``{"left": figures_mm, ...}``) into its PNG; returns side -> path.

    Runs in its own process, like :func:`render_shoe_pictures`.
    """
    from scanning.sources.frame import Intrinsics
    from tryon.ar.render import ShoeInstance, ShoeRenderer

    width, height = FOOT_PICTURE_SIZE
    camera = Intrinsics.from_fov(width, height, hfov_deg=FOV_DEG)
    renderer = ShoeRenderer(raster_threads=None)
    done: dict[str, str] = {}
    try:
        for side, figures in feet.items():
            model = _foot_model(side, figures)
            half_vfov = math.atan(math.tan(math.radians(FOV_DEG / 2)) * height / width)
            distance = 1.25 * model.length_m / (2 * math.tan(half_vfov)) + model.height_m
            layer = renderer.render([ShoeInstance(model, _top_pose(model.length_m, model.height_m, distance))], camera)
            done[side] = str(_save_picture(layer, (width, height), foot_picture_path(side, figures)))
    finally:
        renderer.close()
    return done


def render_shoe_pictures(items: Iterable[tuple[str, str]], folder: Path | None = None) -> dict[str, str]:
    """Render ``(product_id, model path)`` pairs into PNGs; returns product id -> picture path.

    Runs in its own process (see the module docstring); a model that fails is logged and skipped.
    """
    from scanning.sources.frame import Intrinsics
    from tryon.ar.mesh import load_shoe_model
    from tryon.ar.render import ShoeInstance, ShoeRenderer

    folder = folder or pictures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    width, height = PICTURE_SIZE
    camera = Intrinsics.from_fov(width, height, hfov_deg=FOV_DEG)
    renderer = ShoeRenderer(raster_threads=None)
    done: dict[str, str] = {}
    try:
        for product_id, model_path in items:
            try:
                model = load_shoe_model(model_path, max_triangles=30_000)
            except Exception as exc:  # a broken model costs its picture, not the others
                _LOGGER.error("no picture for %s: %s", product_id, exc)
                continue
            distance = model.length_m * 1.3 / (2 * math.tan(math.radians(FOV_DEG / 2))) + model.width_m
            layer = renderer.render([ShoeInstance(model, _view_pose(model.length_m, model.height_m, distance))], camera)
            done[product_id] = str(_save_picture(layer, (width, height), folder / f"{product_id}.png"))
    finally:
        renderer.close()
    return done
