"""The scanned meshes turning on the result screen: rendered offscreen with the AR mirror's moderngl renderer.

The work process renders a turntable (``STEPS`` views a full turn apart) right after the
scan, as PNGs; the screen only cycles through them, so drawing costs a blit per frame.
"""
from __future__ import annotations

import math

import numpy as np

STEPS = 24
SIDE_PX = 360
SKIN = (0.86, 0.72, 0.62, 1.0)


def _part(mesh):
    """A ``tryon.ar.mesh.MeshPart`` of a scanned (trimesh) mesh, one skin colour."""
    from tryon.ar.mesh import MeshPart

    positions = np.asarray(mesh.vertices, np.float32)
    return MeshPart(positions=positions, normals=np.asarray(mesh.vertex_normals, np.float32), uvs=None,
                    colors=np.tile(np.asarray(SKIN, np.float32), (len(positions), 1)),
                    indices=np.asarray(mesh.faces, np.uint32), texture=None)


def render_turntable(meshes: dict, *, steps: int = STEPS, side: int = SIDE_PX) -> tuple[bytes, ...]:
    """PNG views (RGBA) of ``meshes`` (canonical frames: z up, metres) turning once about the vertical.

    Feet (``left``, ``right``) stand side by side as on the platform; a ``body`` stands alone.
    """
    import cv2

    from scanning.sources.frame import Intrinsics
    from tryon.ar.mesh import ShoeModel
    from tryon.ar.render import ShoeInstance, ShoeRenderer

    placed = []
    for name, mesh in meshes.items():
        shifted = mesh.copy()
        if name in ("left", "right"):  # the left foot on the shopper's left (+y), a hand's width apart
            lo, hi = shifted.bounds
            shifted.apply_translation([-(lo[0] + hi[0]) / 2, (0.065 if name == "left" else -0.065), 0.0])
        else:
            lo, hi = shifted.bounds
            shifted.apply_translation([-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, 0.0])
        placed.append(shifted)
    points = np.vstack([m.vertices for m in placed])
    lo, hi = points.min(axis=0), points.max(axis=0)
    model = ShoeModel("scan", tuple(_part(m) for m in placed), *(hi - lo))
    centre = (lo + hi) / 2
    reach = float(np.linalg.norm(hi - lo)) / 2
    camera = Intrinsics.from_fov(side, side, 30.0)
    distance = 1.15 * reach / math.sin(math.radians(15.0))
    # World z up; the camera looks along +y, tilted 25 degrees down (OpenCV camera axes: x right, y down, z ahead).
    view = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    tilt = math.radians(25.0)
    down = np.array([[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)], [0, math.sin(tilt), math.cos(tilt)]])
    renderer = ShoeRenderer()
    views = []
    try:
        for step in range(steps):
            angle = 2 * math.pi * step / steps
            turn = np.array([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]])
            rotation = down @ view @ turn
            pose = np.eye(4)
            pose[:3, :3] = rotation
            pose[:3, 3] = np.array([0.0, 0.0, distance]) - rotation @ centre
            layer = renderer.render([ShoeInstance(model, pose)], camera)
            canvas = np.zeros((side, side, 4), np.uint8)
            if layer is not None:
                height, width = layer.rgba.shape[:2]
                canvas[layer.y0:layer.y0 + height, layer.x0:layer.x0 + width] = layer.rgba
            ok, png = cv2.imencode(".png", canvas[:, :, [2, 1, 0, 3]])
            views.append(png.tobytes() if ok else b"")
    finally:
        renderer.close()
    return tuple(views)
