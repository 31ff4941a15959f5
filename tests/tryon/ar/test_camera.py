"""The camera model: projection, its OpenGL twin, and where the renderer puts a known point."""
from __future__ import annotations

import math

import numpy as np
import pytest

from scanning.errors import FrameError
from scanning.sources.frame import Intrinsics
from tryon.ar.camera import gl_projection
from tryon.ar.mesh import MeshPart, ShoeModel
from tryon.ar.render import ShoeInstance


def test_default_intrinsics_follow_the_field_of_view():
    camera = Intrinsics.from_fov(640, 480)
    assert camera.fx == pytest.approx(320.0 / math.tan(math.radians(30.0)))
    assert (camera.cx, camera.cy) == (319.5, 239.5)


def test_bad_intrinsics_are_refused():
    with pytest.raises(FrameError, match="field of view"):
        Intrinsics.from_fov(640, 480, 200.0)
    with pytest.raises(FrameError, match="positive fx"):
        Intrinsics(fx=0.0, fy=500.0, cx=320.0, cy=240.0, width=640, height=480)


def test_unproject_inverts_project(rng):
    camera = Intrinsics(fx=525.0, fy=530.0, cx=319.5, cy=239.5, width=640, height=480)
    points = rng.uniform([-1, -1, 0.5], [1, 1, 4], (50, 3))
    back = camera.unproject(camera.project(points), points[:, 2])
    np.testing.assert_allclose(back, points, atol=1e-9)


@pytest.mark.parametrize("viewport", [None, (100, 50, 200, 160)])
def test_gl_projection_lands_on_the_same_pixel(rng, viewport):
    camera = Intrinsics(fx=525.0, fy=530.0, cx=310.2, cy=245.7, width=640, height=480)
    points = rng.uniform([-0.5, -0.4, 0.5], [0.5, 0.4, 3.0], (40, 3))
    clip = gl_projection(camera, 0.05, 20.0, viewport) @ np.hstack([points, np.ones((40, 1))]).T
    ndc = clip[:3] / clip[3]
    x0, y0, w, h = viewport or (0, 0, 640, 480)
    # GL window coordinates (origin bottom-left, pixel centres at +0.5) back to image pixels.
    u = x0 + (ndc[0] + 1) / 2 * w - 0.5
    v = y0 + (1 - (ndc[1] + 1) / 2) * h - 0.5
    np.testing.assert_allclose(np.stack([u, v], 1), camera.project(points), atol=1e-6)
    assert ((ndc[2] > -1) & (ndc[2] < 1)).all()


def _marker(size_m: float) -> ShoeModel:
    """A small cube centred on the model origin."""
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float32) * size_m / 2
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]], np.uint32)
    part = MeshPart(corners, corners / np.linalg.norm(corners, axis=1, keepdims=True), None,
                    np.ones((8, 4), np.float32), faces, None)
    return ShoeModel("marker", (part,), size_m, size_m, size_m)


@pytest.mark.parametrize("point", [(0.0, 0.0, 1.0), (0.21, -0.13, 1.4), (-0.3, 0.25, 2.2)])
def test_rendered_point_lands_within_a_pixel(renderer, point):
    camera = Intrinsics.from_fov(640, 480)
    pose = np.eye(4)
    pose[:3, 3] = point
    layer = renderer.render([ShoeInstance(_marker(0.01), pose)], camera)
    alpha = layer.rgba[..., 3].astype(float)
    ys, xs = np.nonzero(alpha)
    centroid = np.array([(xs * alpha[ys, xs]).sum(), (ys * alpha[ys, xs]).sum()]) / alpha[ys, xs].sum()
    expected = camera.project(np.array([point]))[0]
    assert np.linalg.norm(centroid + [layer.x0, layer.y0] - expected) < 1.0


@pytest.mark.shared_data
@pytest.mark.parametrize(("distance_m", "visible"), [(0.5, True), (1.2, False)])
def test_real_depth_hides_what_is_behind_the_person(renderer, distance_m, visible):
    # depth.png: a person's upper body, the chest about 0.74 m away, in millimetres.
    import cv2

    from tests.conftest import shared_path

    depth_mm = cv2.imread(str(shared_path("data", "rgbd", "open3d-testdata", "depth.png")), cv2.IMREAD_UNCHANGED)
    scene_depth = depth_mm.astype(np.float64) / 1000.0
    camera = Intrinsics(fx=525.0, fy=525.0, cx=319.5, cy=239.5, width=640, height=480)
    torso = (360, 300)  # a pixel on the person's chest
    assert 0.6 < scene_depth[torso[1], torso[0]] < 0.9
    pose = np.eye(4)
    pose[:3, 3] = camera.unproject(np.array([torso]), np.array([distance_m]))[0]
    layer = renderer.render([ShoeInstance(_marker(0.05), pose)], camera, scene_depth=scene_depth)
    shown = int((layer.rgba[..., 3] > 0).sum())
    assert (shown > 50) if visible else (shown == 0)
