"""Product pictures for tiles, the size screen and cart lines: rendered from the products' own models, cached.

A shoe is drawn from its glTF model (``assets.shoes``) with the AR mirror's moderngl renderer
(``tryon.ar.render``) in a three-quarter view on a clear background; a garment is its try-on
image (``assets.garments``). Rendering runs in the kiosk's work process, never in the UI loop:
the first time a picture is asked for, the screen shows the tile without it and the work process
renders it into ``<data_dir>/pictures/``; it shows from the next frame after the file is there,
and on every later start from the file.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pygame

if TYPE_CHECKING:
    from kiosk.app.worker import Worker

_LOGGER = logging.getLogger(__name__)
RENDER_PX = 320  # pictures are rendered once at this size and scaled on screen

_folder: Path | None = None
_worker: Worker | None = None
_asked: set[str] = set()
_surfaces: dict[tuple[str, int], pygame.Surface] = {}


def configure(worker: Worker | None, folder: Path) -> None:
    """Where pictures are kept, and the work process that renders missing ones (None: show none missing)."""
    global _folder, _worker
    _folder, _worker = folder, worker
    _asked.clear()
    _surfaces.clear()


def colour_code(sku: str, product_id: str) -> str:
    """The colour code of a catalog SKU ``{product_id}-{colour}-{size}``."""
    return sku[len(product_id) + 1:].split("-", 1)[0]


def tile(product, side: int, colour: str | None = None) -> pygame.Surface | None:
    """The picture of ``product`` (a ``cloud.client.Product``) in ``colour`` (a variant's colour name) or its first."""
    variant = next((v for v in product.variants if colour is None or v.colour == colour), None)
    if variant is None:
        return None
    return _picture(product.product_id, colour_code(variant.sku, product.product_id), side)


def line(cart_line, side: int) -> pygame.Surface | None:
    """The picture of a cart or receipt line's product in its colour."""
    return _picture(cart_line.product_id, colour_code(cart_line.sku, cart_line.product_id), side)


def _picture(product_id: str, colour: str, side: int) -> pygame.Surface | None:
    if _folder is None:
        return None
    key = f"{product_id}-{colour}"
    scaled = _surfaces.get((key, side))
    if scaled is not None:
        return scaled
    path = _folder / f"{key}.png"
    if not path.is_file():
        if key not in _asked and _worker is not None:
            _asked.add(key)
            _worker.run_blocking(_render_job(product_id, colour, path))
        return None
    try:
        image = pygame.image.load(str(path))
    except pygame.error:  # a torn file from a crash: render it again
        path.unlink(missing_ok=True)
        _asked.discard(key)
        return None
    scaled = _surfaces[(key, side)] = pygame.transform.smoothscale(image, (side, side))
    return scaled


def _render_job(product_id: str, colour: str, path: Path):
    import functools

    return functools.partial(render_picture, product_id, colour, str(path))


def render_picture(product_id: str, colour: str, path: str, side: int = RENDER_PX) -> str:
    """Render the picture of one product in one colour into ``path`` (a PNG with alpha); runs in the work process."""
    import cv2
    import numpy as np

    from assets.catalog import load_seed

    product = next((p for p in load_seed().products if p.product_id == product_id), None)
    if product is None:
        raise KeyError(f"no product {product_id!r} in the catalog seed")
    if product.category == "shoes":
        rgba = _render_shoe(product, colour, side)
    else:
        from assets.garments import garment_image_path

        rgba = _fit_square(cv2.imread(str(garment_image_path(product, colour)), cv2.IMREAD_UNCHANGED), side)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part.png")
    cv2.imwrite(str(partial), np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]))
    partial.replace(target)  # the UI never reads a half-written picture
    return path


def _fit_square(bgra, side: int):
    import cv2
    import numpy as np

    if bgra.shape[2] == 3:
        bgra = np.dstack([bgra, np.full(bgra.shape[:2], 255, np.uint8)])
    height, width = bgra.shape[:2]
    scale = 0.92 * side / max(height, width)
    small = cv2.resize(bgra, (max(1, int(width * scale)), max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((side, side, 4), np.uint8)
    y0, x0 = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return canvas[:, :, [2, 1, 0, 3]]  # RGBA


def _render_shoe(product, colour: str, side: int):
    """A three-quarter view of the shoe: RGBA (side, side, 4) uint8."""
    import numpy as np

    from assets.shoes import shoe_model_path
    from scanning.sources.frame import Intrinsics
    from tryon.ar.mesh import load_shoe_model
    from tryon.ar.render import ShoeInstance, ShoeRenderer

    model = load_shoe_model(shoe_model_path(product, colour))
    camera = Intrinsics.from_fov(side, side, 30.0)
    turn, tilt = math.radians(-30.0), math.radians(20.0)
    # Model frame: heel at X = 0 toward the toe at +X, sole at Y = 0, up +Y. Camera (OpenCV): x right,
    # y down, z forward. Seen from the outer side, turned toward the viewer and looked at from above.
    side_view = np.diag([1.0, -1.0, -1.0])
    about_up = np.array([[math.cos(turn), 0, math.sin(turn)], [0, 1, 0], [-math.sin(turn), 0, math.cos(turn)]])
    look_down = np.array([[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)], [0, math.sin(tilt), math.cos(tilt)]])
    rotation = look_down @ side_view @ about_up
    centre = np.array([model.length_m / 2, model.height_m / 2, 0.0])
    distance = 1.25 * model.length_m / (2 * math.tan(math.radians(15.0)))
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = np.array([0.0, 0.0, distance]) - rotation @ centre
    renderer = ShoeRenderer()
    try:
        layer = renderer.render([ShoeInstance(model, pose)], camera)
    finally:
        renderer.close()
    canvas = np.zeros((side, side, 4), np.uint8)
    if layer is not None:
        height, width = layer.rgba.shape[:2]
        canvas[layer.y0:layer.y0 + height, layer.x0:layer.x0 + width] = layer.rgba
    return canvas
