"""The synthetic rig renders exact geometry through calibrated cameras, with repeatable noise."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.errors import FrameError
from scanning.sources.frame import back_project
from scanning.sources.synthetic import SyntheticRig, foot_pair_scene, kiosk_rig, look_at


@pytest.fixture(scope="module")
def box_scene() -> trimesh.Trimesh:
    box = trimesh.creation.box(extents=[0.24, 0.10, 0.07])
    box.apply_translation([0.0, 0.0, 0.035])
    return box


def test_look_at_points_the_optical_axis_at_the_target() -> None:
    pose = look_at(np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0]))
    np.testing.assert_allclose(pose[:3, 2], -np.ones(3) / np.sqrt(3))
    np.testing.assert_allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3), atol=1e-12)
    assert pose[2, 1] < 0  # image "down" points down in the world


def test_rig_layout_and_argument_checks() -> None:
    cameras = kiosk_rig("foot", 6)
    assert [c.camera_id for c in cameras] == [f"cam{i}" for i in range(6)]
    assert sorted({round(c.extrinsic[2, 3], 2) for c in cameras}) == [0.2, 0.34]  # low and high cameras
    with pytest.raises(FrameError, match="unknown rig kind"):
        kiosk_rig("hand")
    with pytest.raises(FrameError, match="2 to 12 cameras"):
        kiosk_rig("foot", 1)


def test_clean_depth_back_projects_onto_the_scene(box_scene: trimesh.Trimesh) -> None:
    rig = SyntheticRig(box_scene, kiosk_rig("foot", 4), noise=False)
    for frame in rig.frames():
        points = back_project(frame, stride=3)
        on_box = points[points[:, 2] > 0.003]
        assert len(on_box) > 500
        _, distance, _ = trimesh.proximity.closest_point(box_scene, on_box[::7])
        assert np.percentile(distance, 99) < 2e-4, frame.camera_id
        floor = points[np.abs(points[:, 2]) < 0.002]
        assert len(floor) > 1000  # the platform is in the scene


def test_noise_is_seeded_and_realistic(box_scene: trimesh.Trimesh) -> None:
    cameras = kiosk_rig("foot", 2)
    first = [f.depth for f in SyntheticRig(box_scene, cameras, seed=4).frames()]
    again = [f.depth for f in SyntheticRig(box_scene, cameras, seed=4).frames()]
    other = [f.depth for f in SyntheticRig(box_scene, cameras, seed=5).frames()]
    clean = [f.depth for f in SyntheticRig(box_scene, cameras, noise=False).frames()]
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])
    both = (first[0] > 0) & (clean[0] > 0)
    residual = first[0][both] - clean[0][both]
    expected = np.median(clean[0][both]) ** 2 * 0.08 / (600.0 * 0.055)
    assert 0.5 * expected < np.median(np.abs(residual)) / 0.6745 < 2.0 * expected
    assert (first[0] == 0).sum() > (clean[0] == 0).sum()  # dropouts


def test_foot_pair_scene_mirrors_the_right_foot() -> None:
    foot = trimesh.creation.box(extents=[0.26, 0.1, 0.06])
    foot.apply_translation(-foot.bounds[0])
    pair = foot_pair_scene(foot, separation_m=0.24)
    right, left = sorted(pair.split(only_watertight=False), key=lambda m: m.centroid[1])
    assert right.centroid[1] == pytest.approx(-0.12) and left.centroid[1] == pytest.approx(0.12)
    assert left.is_watertight and left.volume > 0
    assert pair.bounds[0, 2] == pytest.approx(0.0)


def test_glass_platform_rig_has_a_plantar_camera_that_sees_only_the_soles(box_scene: trimesh.Trimesh) -> None:
    from scanning.sources.frame import is_plantar

    cameras = kiosk_rig("foot", 4, plantar=True)
    assert [c.camera_id for c in cameras] == ["cam0", "cam1", "cam2", "cam3", "plantar"]
    assert [is_plantar(c.extrinsic) for c in cameras] == [False] * 4 + [True]
    assert not is_plantar(None)
    with pytest.raises(FrameError, match="only the foot rig"):
        kiosk_rig("body", plantar=True)
    frames = {f.camera_id: f for f in SyntheticRig(box_scene, cameras, noise=False).frames()}
    # from under the glass: the box's bottom face at z = 0 and, beyond it, the shop's ceiling;
    # no platform, no floor
    seen = back_project(frames["plantar"], stride=2)
    sole = seen[seen[:, 2] < 1.0]
    assert len(sole) > 1000
    np.testing.assert_allclose(sole[:, 2], 0.0, atol=2e-4)
    assert np.all(np.abs(sole[:, 0]) <= 0.12 + 1e-3) and np.all(np.abs(sole[:, 1]) <= 0.05 + 1e-3)
    np.testing.assert_allclose(seen[seen[:, 2] >= 1.0][:, 2], 2.6, atol=2e-3)
    # from above, the window beside the box shows the housing's floor under the platform
    above = back_project(frames["cam0"], stride=2)
    assert np.any(np.abs(above[:, 2] + 0.07) < 0.002)
    assert np.any(np.abs(above[:, 2]) < 0.002)  # and the opaque frame around the glass
