"""Product pictures: garment images from the assets, shoes rendered from their 3D models.

A shoe's picture is its GLB model drawn in a three-quarter side view with the AR
mirror's renderer (moderngl on EGL), on white, and kept as a PNG in the assets cache
(``assets.shoes.cache_dir()/product-pictures``) so it is rendered once per machine. Rendering
runs in a spawned process: it needs its own GL context and holds the CPU for a while.
"""
from __future__ import annotations

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


def render_shoe_pictures(items: Iterable[tuple[str, str]], folder: Path | None = None) -> dict[str, str]:
    """Render ``(product_id, model path)`` pairs into PNGs; returns product id -> picture path.

    Runs in its own process (see the module docstring); a model that fails is logged and skipped.
    """
    from PIL import Image

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
            canvas = Image.new("RGBA", (width, height), (255, 255, 255, 255))
            if layer is not None:
                canvas.alpha_composite(_framed(Image.fromarray(layer.rgba, "RGBA"), width, height))
            target = folder / f"{product_id}.png"
            temporary = target.with_suffix(".tmp.png")
            canvas.convert("RGB").save(temporary)
            temporary.replace(target)
            done[product_id] = str(target)
    finally:
        renderer.close()
    return done
