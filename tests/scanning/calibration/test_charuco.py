"""ChArUco rig calibration on boards rendered by the synthetic rig with known camera poses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scanning.calibration import CharucoBoardSpec, RigCalibration, calibrate_intrinsics, calibrate_rig
from scanning.calibration.charuco import board_scene_mesh
from scanning.errors import CalibrationError
from scanning.sources.frame import Intrinsics
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
    rig = SyntheticRig(None, cameras, extras=(board_scene_mesh(SPEC),), supersample=4, noise=False)
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
        rig = SyntheticRig(None, [camera], extras=(board_scene_mesh(SPEC),), supersample=4, noise=False, seed=index)
        frames += list(rig.frames())
    guess = [type(f)(f.colour, f.depth, Intrinsics(600.0, 600.0, 319.5, 239.5, 640, 480), f.camera_id)
             for f in frames]
    found, _, rms = calibrate_intrinsics(SPEC, guess)
    assert rms < 0.2
    assert found.fx == pytest.approx(truth.fx, rel=0.005) and found.fy == pytest.approx(truth.fy, rel=0.005)
    assert found.cx == pytest.approx(truth.cx, abs=3.0) and found.cy == pytest.approx(truth.cy, abs=3.0)
