"""The picture of a person the AR mirror demo falls back on when ``../shared/data/people`` is absent.

``mannequin.png`` is made here, not photographed: the scanner's synthetic body (seed 0,
``scanning.population``) dressed in plain colours, rendered standing in a room by the
scanning rig's offscreen renderer. ``python -m assets.people`` draws it again.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

PEOPLE_DIR = Path(__file__).resolve().parent
MANNEQUIN = PEOPLE_DIR / "mannequin.png"
SIZE = (480, 720)  # width, height, pixels
# (up to this height in metres, RGB 0..1): bare feet (the mirror puts the shoes on), trousers, shirt, neck and head
OUTFIT = ((0.1, (0.87, 0.7, 0.58)), (0.93, (0.16, 0.2, 0.32)), (1.5, (0.86, 0.38, 0.24)), (9.0, (0.87, 0.7, 0.58)))
SKIN = (0.87, 0.7, 0.58)
ARM_REACH_M = 0.2  # further than this from the body's axis, below the sleeve, is a bare arm or hand


def mannequin_path() -> Path:
    return MANNEQUIN


def outfit_colours(vertices: np.ndarray) -> np.ndarray:
    """(n, 3) RGB per vertex: shoes, trousers, a short-sleeved shirt, skin. vertices : (n, 3) metres, z up."""
    height = vertices[:, 2]
    colours = np.empty((len(vertices), 3))
    for top, colour in reversed(OUTFIT):
        colours[height <= top] = colour
    forearm = (np.hypot(vertices[:, 0], vertices[:, 1]) > ARM_REACH_M) & (height > 0.6) & (height < 1.3)
    colours[forearm] = SKIN
    return colours


def draw_mannequin(seed: int = 0) -> np.ndarray:
    """The picture, BGR uint8 (720, 480, 3): the body seen from the front by a camera at chest height."""
    import cv2

    from scanning.population.body import make_body
    from scanning.sources.frame import Intrinsics
    from scanning.sources.render import SceneMesh, shared_renderer

    body = make_body(seed)
    vertices = np.asarray(body.vertices, dtype=np.float64)
    vertices[:, :2] -= vertices[:, :2].mean(axis=0)
    vertices[:, 2] -= vertices[:, 2].min()
    floor = _floor()
    scene = [SceneMesh(vertices, np.asarray(body.faces), outfit_colours(vertices)), floor]
    width, height = SIZE
    focal = 1.2 * height  # a 45-degree vertical field from 2.6 m away frames a standing adult with room
    intrinsics = Intrinsics(focal, focal, (width - 1) / 2, (height - 1) / 2, width, height)
    eye = np.array([0.0, 2.6, 0.95])
    forward = np.array([0.0, -1.0, -0.03])
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, np.cross(forward, right), forward, eye
    view = shared_renderer().render(scene, intrinsics, pose, near_far=(0.5, 12.0), supersample=3)
    rows = np.linspace(0.0, 1.0, height)[:, None, None]
    wall = ((1 - rows) * np.array([0.95, 0.93, 0.88]) + rows * np.array([0.82, 0.8, 0.76])) * 255
    picture = np.where(view.depth[..., None] > 0, view.colour, np.broadcast_to(wall, view.colour.shape))
    return cv2.cvtColor(picture.astype(np.uint8), cv2.COLOR_RGB2BGR)


def _floor():
    from scanning.sources.render import SceneMesh

    corners = np.array([[-3.0, -3.0, 0.0], [3.0, -3.0, 0.0], [3.0, 4.0, 0.0], [-3.0, 4.0, 0.0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    return SceneMesh(corners, faces, np.tile([0.55, 0.45, 0.36], (4, 1)), shaded=False)
