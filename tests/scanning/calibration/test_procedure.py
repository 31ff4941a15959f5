"""The calibration procedures (which captures, which cameras must see the board, where it goes)
and the capture folder's rig.json."""
from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from scanning.calibration.procedure import (
    BOARDS,
    GLASS_FOOT_BOARD,
    CaptureRig,
    check_capture,
    procedure,
    prune_capture_folders,
    render_capture,
    require,
    save,
    solve,
    synthetic_rig,
)
from scanning.calibration.rig import RigCalibration
from scanning.errors import CalibrationError
from scanning.sources.synthetic import GLASS_HALF_M


def _board_centre(step) -> np.ndarray:
    width, height = BOARDS["body"].size_m
    return step.board_pose[:3, :3] @ [width / 2, height / 2, 0.0] + step.board_pose[:3, 3]


def test_the_foot_rig_takes_one_capture_every_camera_must_see() -> None:
    rig, _, azimuths = synthetic_rig("foot", plantar=False)
    assert rig.cameras == ("cam0", "cam1", "cam2", "cam3") and not rig.glass and rig.board == BOARDS["foot"]
    steps = procedure(rig, azimuths)
    assert [(s.name, s.role, s.required) for s in steps] == [("centre", "centre", rig.cameras)]
    np.testing.assert_allclose(steps[0].board_pose, BOARDS["foot"].board_to_platform())
    assert "middle of the platform" in steps[0].instruction


def test_the_glass_foot_rig_lays_the_double_sided_board_on_the_glass_for_its_plantar_camera() -> None:
    rig, cameras, azimuths = synthetic_rig("foot")  # the default: glass, as synthetic foot scans have it
    assert rig.cameras == ("cam0", "cam1", "cam2", "cam3", "plantar") and rig.plantar == ("plantar",)
    assert rig.around == ("cam0", "cam1", "cam2", "cam3") and rig.board == GLASS_FOOT_BOARD
    assert rig.board.double_sided and rig.board.thickness_m == 0.003
    steps = procedure(rig, azimuths)
    assert [(s.name, s.role, s.required) for s in steps] == [("centre", "centre", rig.cameras)]
    assert "double-sided board" in steps[0].instruction and "middle of the glass" in steps[0].instruction
    assert "camera plantar" in steps[0].instruction
    np.testing.assert_allclose(steps[0].board_pose, GLASS_FOOT_BOARD.board_to_platform())
    width, height = GLASS_FOOT_BOARD.size_m
    corners = np.array([[0, 0, 0.003], [width, 0, 0.003], [width, height, 0.003], [0, height, 0.003]])
    on_glass = corners @ steps[0].board_pose[:3, :3].T + steps[0].board_pose[:3, 3]
    np.testing.assert_allclose(on_glass[:, 2], 0.0, atol=1e-12)  # the back print lies on the glass ...
    assert np.all(np.abs(on_glass[:, :2]) <= GLASS_HALF_M)  # ... within its window


def test_a_board_laid_the_wrong_side_up_on_the_glass_is_refused() -> None:
    rig, cameras, azimuths = synthetic_rig("foot")
    step = procedure(rig, azimuths)[0]
    over = np.diag([1.0, -1.0, -1.0, 1.0]) @ step.board_pose  # turned over about the platform's x axis ...
    over[2, 3] += rig.board.thickness_m  # ... lying on the glass, back print up
    check = check_capture(rig, step, render_capture(rig, cameras, replace(step, board_pose=over)))
    assert not check.ok and set(check.cameras_at_fault) == set(rig.cameras)
    assert "camera cam0: sees the board's back print in capture centre: it lies the wrong side up" in check.problems
    assert "camera plantar: sees the board's front print in capture centre: it lies the wrong side up" in check.problems
    with pytest.raises(CalibrationError, match="wrong side up. Retake it: Lay the double-sided board"):
        require(check, step)


def test_a_glass_rig_json_marks_its_plantar_camera(tmp_path: Path) -> None:
    rig, _, _ = synthetic_rig("foot")
    rig.save(tmp_path)
    data = json.loads((tmp_path / "rig.json").read_text())
    assert [entry.get("plantar", False) for entry in data["cameras"]] == [False] * 4 + [True]
    assert data["board"]["double_sided"] is True and data["board"]["thickness_m"] == 0.003
    loaded = CaptureRig.load(tmp_path)
    assert loaded.plantar == ("plantar",) and loaded.board == GLASS_FOOT_BOARD
    del data["board"]  # the board is optional: a rig with a plantar camera gets the double-sided one
    (tmp_path / "rig.json").write_text(json.dumps(data))
    assert CaptureRig.load(tmp_path).board == GLASS_FOOT_BOARD
    for spoil, message in [(lambda d: d.update(board=BOARDS["foot"].to_dict()), "needs a double-sided board"),
                           (lambda d: d.update(kind="body"), "only a foot rig has a glass platform"),
                           (lambda d: d["cameras"][4].update(plantar="yes"), "plantar must be true or false"),
                           (lambda d: [e.update(plantar=True) for e in d["cameras"]], "every camera is marked plantar"),
                           (lambda d: d.update(board={**GLASS_FOOT_BOARD.to_dict(), "thickness_m": -1}),
                            "thickness_m must be")]:
        spoilt = json.loads(json.dumps(data))
        spoil(spoilt)
        (tmp_path / "rig.json").write_text(json.dumps(spoilt))
        with pytest.raises(CalibrationError, match=message):
            CaptureRig.load(tmp_path)


def test_the_six_camera_body_rig_takes_13_captures_around_the_platform() -> None:
    rig, cameras, azimuths = synthetic_rig("body")
    steps = procedure(rig, azimuths)
    assert [s.name for s in steps] == ["centre", *(f"lying-cam{i}" for i in range(6)),
                                       *(f"standing-cam{i}-cam{(i + 1) % 6}" for i in range(6))]
    standing = [s for s in steps if s.role == "standing"]
    assert [s.required for s in standing] == [(f"cam{i}", f"cam{(i + 1) % 6}") for i in range(6)]
    assert [round(float(_board_centre(s)[2]), 3) for s in standing] == [1.0, 1.4] * 3
    for step in standing:  # the print faces midway between its two cameras
        first, second = (np.radians(azimuths[c]) for c in step.required)
        midway = np.array([np.cos(first) + np.cos(second), np.sin(first) + np.sin(second), 0.0])
        facing = -step.board_pose[:3, 2]  # board z points into the board, away from the print
        assert np.dot(facing, midway / np.linalg.norm(midway)) == pytest.approx(1.0)
    for step, camera in zip(steps[1:7], cameras):
        centre = _board_centre(step)
        assert centre[2] == pytest.approx(0.0) and np.hypot(*centre[:2]) == pytest.approx(0.45)
        assert np.dot(centre[:2], camera.extrinsic[:2, 3]) > 0  # on the camera's side
        assert step.min_cameras == 2 and not step.required and camera.camera_id in step.instruction


def test_a_two_camera_body_rig_stands_the_board_between_them_once() -> None:
    rig, _, _ = synthetic_rig("body", 2)
    assert [s.name for s in procedure(rig)] == ["centre", "lying-cam0", "lying-cam1", "standing-cam0-cam1"]
    assert all(s.board_pose is None for s in procedure(rig))  # positions unknown: instructions only


def test_rig_json_round_trips_and_bad_ones_are_refused(tmp_path: Path) -> None:
    rig, _, _ = synthetic_rig("body", 3)
    with_distortion = CaptureRig(rig.kind, rig.cameras, rig.intrinsics, rig.board, {"cam1": np.arange(5) / 100})
    with_distortion.save(tmp_path)
    loaded = CaptureRig.load(tmp_path)
    assert loaded.cameras == rig.cameras and loaded.board == BOARDS["body"] and loaded.intrinsics == rig.intrinsics
    np.testing.assert_allclose(loaded.distortion["cam1"], np.arange(5) / 100)
    data = json.loads((tmp_path / "rig.json").read_text())
    for spoil, message in [(lambda d: d["cameras"][1].update(distortion=[0.1, 0.2]), "distortion must be 5"),
                           (lambda d: d.update(kind="hand"), "unknown rig kind 'hand'"),
                           (lambda d: d["cameras"].append(d["cameras"][0]), "distinct camera ids"),
                           (lambda d: d["cameras"][0]["intrinsics"].update(fx=-1), "positive fx"),
                           (lambda d: d.update(format="something"), "expected format")]:
        spoilt = json.loads(json.dumps(data))
        spoil(spoilt)
        (tmp_path / "rig.json").write_text(json.dumps(spoilt))
        with pytest.raises(CalibrationError, match=message):
            CaptureRig.load(tmp_path)


def test_only_the_newest_capture_folders_are_kept(tmp_path: Path) -> None:
    for age in range(4):
        (tmp_path / f"session{age}").mkdir()
        (tmp_path / f"session{age}" / "rig.json").write_text("{}")
        os.utime(tmp_path / f"session{age}" / "rig.json", (1e9 - age, 1e9 - age))
    (tmp_path / "not-a-session").mkdir()
    deleted = prune_capture_folders(tmp_path, 2)
    assert sorted(p.name for p in deleted) == ["session2", "session3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-session", "session0", "session1"]


@pytest.mark.slow
def test_a_camera_behind_a_mirror_is_calibrated_as_the_virtual_camera_and_marked_mirrored(tmp_path: Path) -> None:
    rig, cameras, azimuths = synthetic_rig("foot")
    rig = replace(rig, mirrored=("plantar",))  # its captures are recorded un-mirrored, as the virtual camera
    rig.save(tmp_path)
    assert CaptureRig.load(tmp_path).mirrored == ("plantar",)
    steps = procedure(rig, azimuths)
    outcome = solve(rig, steps, {steps[0].name: render_capture(rig, cameras, steps[0])})
    assert {c: cal.mirrored for c, cal in outcome.calibration.cameras.items()} == {
        "cam0": False, "cam1": False, "cam2": False, "cam3": False, "plantar": True}
    save(outcome, tmp_path / "calibration.json")
    assert RigCalibration.load(tmp_path / "calibration.json").cameras["plantar"].mirrored
    with pytest.raises(CalibrationError, match="mirrored camera cam7 is not one of the rig's cameras"):
        replace(rig, mirrored=("cam7",))
