"""ChArUco rig calibration on boards rendered by the synthetic rig with known camera poses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scanning.calibration import CharucoBoardSpec, RigCalibration, calibrate_intrinsics, calibrate_rig
from scanning.calibration.charuco import board_scene_mesh, pose_from_corners, seen_side, try_detect_corners
from scanning.errors import CalibrationError
from scanning.sources.frame import Intrinsics, is_plantar
from scanning.sources.synthetic import SyntheticRig, VirtualCamera, kiosk_rig, look_at

SPEC = CharucoBoardSpec()


def _pose_error(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(translation error mm, rotation error degrees) between two camera poses."""
    delta = np.linalg.inv(truth) @ estimate
    angle = np.degrees(np.arccos(np.clip((np.trace(delta[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)))
    return float(np.linalg.norm(estimate[:3, 3] - truth[:3, 3]) * 1000.0), float(angle)


@pytest.fixture(scope="module")
def board_capture():
    cameras = kiosk_rig("foot", 4)
    rig = SyntheticRig(None, cameras, extras=board_scene_mesh(SPEC), supersample=4, noise=False)
    return cameras, list(rig.frames())


@pytest.mark.slow
def test_extrinsics_recovered_within_1mm_and_0_1_degree(board_capture) -> None:
    cameras, frames = board_capture
    rig = calibrate_rig(SPEC, frames)
    assert sorted(rig.cameras) == [c.camera_id for c in cameras]
    for camera in cameras:
        found = rig.cameras[camera.camera_id]
        shift_mm, angle_deg = _pose_error(found.extrinsic, camera.extrinsic)
        assert shift_mm < 1.0, camera.camera_id
        assert angle_deg < 0.1, camera.camera_id
        assert found.reprojection_error_px < 0.5  # oblique views at 30° elevation
        assert found.corners >= 40


@pytest.mark.slow
def test_calibration_round_trips_through_json_and_checks_frames(board_capture, tmp_path: Path) -> None:
    _, frames = board_capture
    rig = calibrate_rig(SPEC, frames)
    rig.save(tmp_path / "rig.json")
    loaded = RigCalibration.load(tmp_path / "rig.json")
    for camera_id, calibration in rig.cameras.items():
        np.testing.assert_allclose(loaded.cameras[camera_id].extrinsic, calibration.extrinsic)
        assert loaded.cameras[camera_id].reprojection_error_px == calibration.reprojection_error_px
    applied = loaded.apply(frames[0].with_extrinsic(np.eye(4)))
    np.testing.assert_allclose(applied.extrinsic, rig.cameras[frames[0].camera_id].extrinsic)
    stranger = type(frames[0])(frames[0].colour, frames[0].depth, frames[0].intrinsics, "cam9")
    with pytest.raises(CalibrationError, match="camera cam9: not in the rig calibration"):
        loaded.apply(stranger)
    assert loaded.board == SPEC.to_dict()


def test_empty_platform_is_refused_naming_the_camera() -> None:
    frames = list(SyntheticRig(None, kiosk_rig("foot", 2), noise=False).frames())
    with pytest.raises(CalibrationError, match="camera cam0: found 0 ChArUco corners"):
        calibrate_rig(SPEC, frames)


def test_bad_calibration_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="not found"):
        RigCalibration.load(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"format": "something-else", "version": 1, "cameras": {}}')
    with pytest.raises(CalibrationError, match="expected format 'omnifit-rig-calibration'"):
        RigCalibration.load(tmp_path / "other.json")
    (tmp_path / "bad.json").write_text(
        '{"format": "omnifit-rig-calibration", "version": 1, "cameras": {"cam0": {"intrinsics": {"fx": 1}}}}')
    with pytest.raises(CalibrationError, match="camera cam0: bad calibration entry"):
        RigCalibration.load(tmp_path / "bad.json")


@pytest.mark.slow
def test_intrinsics_recovered_from_tilted_board_views() -> None:
    truth = Intrinsics(610.0, 608.0, 322.0, 236.0, 640, 480)
    frames = []
    for index, (azimuth, elevation) in enumerate([(0, 50), (60, 40), (100, 55), (150, 60), (200, 35), (230, 45),
                                                  (300, 35), (330, 55)]):
        a, e = np.radians(azimuth), np.radians(elevation)
        eye = 0.5 * np.array([np.cos(a) * np.cos(e), np.sin(a) * np.cos(e), np.sin(e)])
        target = np.array([0.03 * np.cos(a), 0.02 * np.sin(a), 0.0])
        camera = VirtualCamera("cam0", truth, look_at(eye, target))
        rig = SyntheticRig(None, [camera], extras=board_scene_mesh(SPEC), supersample=4, noise=False, seed=index)
        frames += list(rig.frames())
    guess = [type(f)(f.colour, f.depth, Intrinsics(600.0, 600.0, 319.5, 239.5, 640, 480), f.camera_id)
             for f in frames]
    found, _, rms = calibrate_intrinsics(SPEC, guess)
    assert rms < 0.2
    assert found.fx == pytest.approx(truth.fx, rel=0.005) and found.fy == pytest.approx(truth.fy, rel=0.005)
    assert found.cx == pytest.approx(truth.cx, abs=3.0) and found.cy == pytest.approx(truth.cy, abs=3.0)


DOUBLE = CharucoBoardSpec(double_sided=True, thickness_m=0.003)


@pytest.fixture(scope="module")
def glass_capture():
    """The glass foot platform (four cameras around, the plantar camera under the glass) with
    the double-sided board lying on the glass."""
    cameras = kiosk_rig("foot", 4, plantar=True)
    rig = SyntheticRig(None, cameras, extras=board_scene_mesh(DOUBLE), supersample=4, noise=False)
    return cameras, list(rig.frames())


def _truth_pixels(spec: CharucoBoardSpec, camera, object_points: np.ndarray) -> np.ndarray:
    """Where the rendered truth puts front-board points in a camera's image."""
    platform = object_points @ spec.board_to_platform()[:3, :3].T + spec.board_to_platform()[:3, 3]
    to_camera = np.linalg.inv(camera.extrinsic)
    points = platform @ to_camera[:3, :3].T + to_camera[:3, 3]
    pixels = points @ camera.intrinsics.matrix().T
    return pixels[:, :2] / pixels[:, 2:]


@pytest.mark.slow
def test_the_back_print_is_recognised_by_its_ids_and_mapped_onto_the_front(glass_capture) -> None:
    cameras, frames = glass_capture
    for camera, frame in zip(cameras, frames):
        matrix = camera.intrinsics.matrix()
        points, pixels, found = try_detect_corners(DOUBLE, frame.colour, matrix)
        single = try_detect_corners(CharucoBoardSpec(), frame.colour, matrix)[2]
        side = seen_side(DOUBLE, points)
        if camera.camera_id == "plantar":
            assert side == "back" and found >= 40 and single == 0  # a single-sided board never finds the back
            np.testing.assert_allclose(points[:, 2], DOUBLE.thickness_m)
        else:
            assert side == "front" and found == single >= 40
            np.testing.assert_allclose(points[:, 2], 0.0)
        # back_to_front against the rendered truth: the corners land where the truth projects them
        misses = np.linalg.norm(pixels - _truth_pixels(DOUBLE, camera, points), axis=1)
        assert np.sqrt(np.mean(misses ** 2)) < 0.5 and misses.max() < 2.0, camera.camera_id


@pytest.mark.slow
def test_front_and_back_views_give_the_same_board_pose(glass_capture) -> None:
    cameras, frames = glass_capture
    poses = {}
    for camera, frame in zip(cameras, frames):
        points, pixels, _ = try_detect_corners(DOUBLE, frame.colour, camera.intrinsics.matrix())
        board_to_camera = pose_from_corners(points, pixels, camera.intrinsics.matrix(), camera.camera_id)
        poses[camera.camera_id] = camera.extrinsic @ board_to_camera  # board → platform, through the true camera
    for camera_id, pose in poses.items():
        shift_mm, angle_deg = _pose_error(pose, DOUBLE.board_to_platform())
        assert shift_mm < 1.0 and angle_deg < 0.1, camera_id
    shift_mm, angle_deg = _pose_error(poses["plantar"], poses["cam1"])
    assert shift_mm < 1.0 and angle_deg < 0.1


@pytest.mark.slow
def test_glass_rig_extrinsics_with_the_plantar_camera_within_1mm_and_0_1_degree(glass_capture) -> None:
    cameras, frames = glass_capture
    rig = calibrate_rig(DOUBLE, frames)
    assert sorted(rig.cameras) == sorted(c.camera_id for c in cameras) and "plantar" in rig.cameras
    for camera in cameras:
        found = rig.cameras[camera.camera_id]
        shift_mm, angle_deg = _pose_error(found.extrinsic, camera.extrinsic)
        assert shift_mm < 1.0 and angle_deg < 0.1, camera.camera_id
        assert found.reprojection_error_px < 0.5 and found.corners >= 40
    assert is_plantar(rig.cameras["plantar"].extrinsic)  # a recorded scan will know it by its pose
    assert rig.board == DOUBLE.to_dict()


@pytest.mark.slow
def test_a_plantar_camera_that_sees_no_board_is_named(glass_capture) -> None:
    _, frames = glass_capture
    with pytest.raises(CalibrationError, match="camera plantar: found 0 ChArUco corners.*double-sided board"):
        calibrate_rig(CharucoBoardSpec(), frames)  # the single-sided board's spec: the back print is no board of it


def test_a_double_sided_board_needs_twice_the_markers_in_its_dictionary() -> None:
    small = CharucoBoardSpec(dictionary="DICT_4X4_50", double_sided=True)
    small.cv_board("front")  # 35 markers fit
    with pytest.raises(CalibrationError, match="needs 70 distinct markers .* DICT_4X4_50 has 50"):
        small.cv_board("back")
    with pytest.raises(CalibrationError, match="no side 'back'"):
        CharucoBoardSpec().cv_board("back")
    with pytest.raises(CalibrationError, match="thickness_m"):
        CharucoBoardSpec(double_sided=True, thickness_m=0.0)
    back = DOUBLE.cv_board("back")
    assert back.getIds().min() == DOUBLE.markers == 35 and back.getIds().max() == 69
    width, height = DOUBLE.size_m
    corner = DOUBLE.back_to_front() @ [0.0, 0.0, 0.0, 1.0]  # the back's top-left, seen from behind
    np.testing.assert_allclose(corner[:3], [width, 0.0, DOUBLE.thickness_m])
    lying = DOUBLE.board_to_platform()
    np.testing.assert_allclose((lying @ [width / 2, height / 2, 0.0, 1.0])[:3], [0.0, 0.0, 0.003])  # front up
    np.testing.assert_allclose((lying @ [width / 2, height / 2, 0.003, 1.0])[:3], 0.0, atol=1e-12)  # back on glass
