"""Reconstruction: synthetic scans of generated feet come back watertight and true to size;
bad scenes (empty platform, one foot, a foot out of view, a blind camera) are named."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.errors import ReconstructionError
from scanning.measure import measure_foot
from scanning.population import make_foot
from scanning.reconstruct import reconstruct
from scanning.reconstruct.cleanup import boundary_loops, fill_holes
from scanning.sources.frame import RGBDFrame
from scanning.sources.synthetic import SyntheticRig, foot_pair_scene, kiosk_rig


@pytest.fixture(scope="module")
def right_foot() -> trimesh.Trimesh:
    return make_foot(7)


@pytest.fixture(scope="module")
def pair_scan(right_foot):
    frames = list(SyntheticRig(foot_pair_scene(right_foot), kiosk_rig("foot", 4), seed=3).frames())
    return frames, reconstruct(frames, "foot")


@pytest.mark.slow
def test_two_feet_come_back_watertight_and_true_to_size(right_foot, pair_scan) -> None:
    _, result = pair_scan
    truth = measure_foot(right_foot).to_mm_dict()
    assert sorted(result.parts) == ["left", "right"]
    for side, mesh in result.parts.items():
        assert mesh.is_watertight and mesh.volume > 0, side
        assert mesh.bounds[0, 0] == pytest.approx(0.0, abs=1e-6)  # canonical: heel at the origin
        assert mesh.bounds[0, 2] == pytest.approx(0.0, abs=1e-6)  # sole on z = 0
        found = measure_foot(mesh).to_mm_dict()
        assert abs(found["length"] - truth["length"]) < 2.0, side
        assert abs(found["width"] - truth["width"]) < 2.0, side
        assert abs(found["ball_girth"] - truth["ball_girth"]) < 2.0, side
        # this foot's high arch is hidden from the cameras and filled: its instep reads 2.5-3.5 mm long
        assert abs(found["instep_girth"] - truth["instep_girth"]) < 4.5, side
    quality = result.quality
    assert quality.flags == []
    assert set(quality.coverage["left"]) == {"cam0", "cam1", "cam2", "cam3"}
    assert all(0.2 < share <= 1.0 for share in quality.coverage["right"].values())
    assert 0.1 < quality.fusion_residual_mm < 3.0
    assert quality.floor_tilt_deg < 0.2 and abs(quality.floor_offset_mm) < 0.5


@pytest.mark.slow
def test_left_foot_is_on_the_shoppers_left(pair_scan) -> None:
    _, result = pair_scan
    left_in_platform = np.linalg.inv(result.to_canonical["left"])[:3, 3]
    right_in_platform = np.linalg.inv(result.to_canonical["right"])[:3, 3]
    assert left_in_platform[1] > 0 > right_in_platform[1]


def test_empty_platform_is_an_error_naming_each_camera() -> None:
    frames = list(SyntheticRig(None, kiosk_rig("foot", 3), seed=1).frames())
    with pytest.raises(ReconstructionError, match=r"nothing on the platform.*cam0: \d+, cam1: \d+, cam2: \d+"):
        reconstruct(frames, "foot")
    # on the glass platform, the plantar camera sees only the ceiling: the same answer
    frames = list(SyntheticRig(None, kiosk_rig("foot", 3, plantar=True), seed=1).frames())
    with pytest.raises(ReconstructionError, match=r"nothing on the platform.*cam2: \d+, plantar: \d+"):
        reconstruct(frames, "foot")


@pytest.mark.slow
def test_one_foot_is_flagged(right_foot) -> None:
    scene = foot_pair_scene(right_foot).split(only_watertight=False)
    right = min(scene, key=lambda m: m.centroid[1])
    frames = list(SyntheticRig(right, kiosk_rig("foot", 4), seed=1).frames())
    result = reconstruct(frames, "foot")
    assert list(result.parts) == ["right"]
    assert [flag.code for flag in result.quality.flags] == ["one_foot"]
    assert "only one foot" in result.quality.flags[0].message


@pytest.mark.slow
def test_foot_cut_off_at_the_edge_of_view_is_flagged_per_camera(right_foot) -> None:
    scene = foot_pair_scene(right_foot)
    scene.apply_translation([0.27, 0.0, 0.0])  # toes run off the platform's scan area and the images
    frames = list(SyntheticRig(scene, kiosk_rig("foot", 4), seed=1).frames())
    result = reconstruct(frames, "foot")
    codes = {(flag.code, flag.camera) for flag in result.quality.flags}
    assert any(code == "cut_off_at_edge" and camera for code, camera in codes)
    assert ("cut_off_at_volume", None) in codes
    message = next(f.message for f in result.quality.flags if f.code == "cut_off_at_edge")
    assert message.startswith("camera cam") and "cut off at the edge of view" in message


@pytest.mark.slow
def test_blind_camera_is_flagged_and_frames_need_extrinsics(pair_scan) -> None:
    frames, _ = pair_scan
    blind = frames[2]
    depth = blind.depth.copy()
    depth[:, 40:] = 0.0
    frames = [*frames[:2], RGBDFrame(blind.colour, depth, blind.intrinsics, blind.camera_id, 0.0, blind.extrinsic),
              frames[3]]
    result = reconstruct(frames, "foot")
    low = [flag for flag in result.quality.flags if flag.code == "low_valid_depth"]
    assert [flag.camera for flag in low] == ["cam2"]
    blocked = {flag.camera for flag in result.quality.flags if flag.code == "low_coverage"}
    assert blocked == {"cam2"}
    uncalibrated = RGBDFrame(blind.colour, blind.depth, blind.intrinsics, "cam2")
    with pytest.raises(ReconstructionError, match="camera cam2: frame has no extrinsic"):
        reconstruct([*frames[:2], uncalibrated], "foot")


def test_unknown_kind_and_no_frames_are_refused() -> None:
    with pytest.raises(ReconstructionError, match="unknown scan kind 'hand'"):
        reconstruct([], "hand")
    with pytest.raises(ReconstructionError, match="at least one frame"):
        reconstruct([], "foot")


def test_fill_holes_closes_an_open_box() -> None:
    box = trimesh.creation.box()
    box.update_faces(box.face_normals[:, 2] < 0.5)  # drop the top side
    box.remove_unreferenced_vertices()
    assert not box.is_watertight and len(boundary_loops(box)) == 1
    closed = fill_holes(box)
    assert closed.is_watertight
    assert closed.volume == pytest.approx(1.0, rel=1e-6)


@pytest.mark.slow
def test_touching_feet_are_split_into_left_and_right(right_foot) -> None:
    width = float(right_foot.extents[1])
    scene = foot_pair_scene(right_foot, separation_m=width - 0.004)  # the feet press together
    frames = list(SyntheticRig(scene, kiosk_rig("foot", 4), seed=1).frames())
    result = reconstruct(frames, "foot")
    assert sorted(result.parts) == ["left", "right"]
    truth = measure_foot(right_foot).to_mm_dict()
    for side, mesh in result.parts.items():
        assert mesh.is_watertight, side
        assert abs(measure_foot(mesh).to_mm_dict()["length"] - truth["length"]) < 3.0, side


@pytest.fixture(scope="module")
def high_arch_frames():
    foot = make_foot(4)  # a 17 mm arch
    frames = list(SyntheticRig(foot_pair_scene(foot), kiosk_rig("foot", 4, plantar=True), seed=2).frames())
    return foot, frames


@pytest.mark.slow
def test_the_plantar_camera_sees_the_arch_that_cameras_around_the_feet_cannot(high_arch_frames) -> None:
    foot, frames = high_arch_frames
    truth = measure_foot(foot).to_mm_dict()
    with_glass = reconstruct(frames, "foot")
    around_only = reconstruct(frames[:4], "foot")
    assert with_glass.quality.flags == []  # a plantar view is mostly empty by design: no low_valid_depth
    assert with_glass.quality.coverage["right"]["plantar"] > 0.1
    for side in ("left", "right"):
        seen = measure_foot(with_glass.parts[side]).to_mm_dict()
        hidden = measure_foot(around_only.parts[side]).to_mm_dict()
        assert abs(seen["arch_height"] - truth["arch_height"]) < 1.5, side
        assert truth["arch_height"] - hidden["arch_height"] > 5.0, side  # filled: the arch reads low
        assert abs(seen["instep_girth"] - truth["instep_girth"]) < 2.0, side
        assert abs(seen["instep_girth"] - truth["instep_girth"]) < abs(hidden["instep_girth"] - truth["instep_girth"])


def test_a_covered_plantar_camera_is_flagged(high_arch_frames) -> None:
    _, frames = high_arch_frames
    covered = frames[4]
    depth = np.zeros_like(covered.depth)
    depth[:40, :40] = 0.25  # something lying on the glass over its corner; the soles are hidden
    blind = RGBDFrame(covered.colour, depth, covered.intrinsics, covered.camera_id, extrinsic=covered.extrinsic)
    result = reconstruct([*frames[:4], blind], "foot")
    flagged = {(flag.code, flag.camera) for flag in result.quality.flags}
    assert ("low_coverage", "plantar") in flagged


def test_the_same_frames_give_the_same_feet(pair_scan) -> None:
    frames, first = pair_scan
    again = reconstruct(frames, "foot")
    for side, mesh in first.parts.items():
        # bit for bit: Open3D's marching cubes lists vertices in thread order, put in a fixed one
        assert np.array_equal(mesh.vertices, again.parts[side].vertices), side
        assert np.array_equal(mesh.faces, again.parts[side].faces), side
        assert measure_foot(mesh).to_mm_dict() == measure_foot(again.parts[side]).to_mm_dict(), side
