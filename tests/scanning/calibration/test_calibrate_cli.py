"""``omnifit calibrate`` end to end: the synthetic rig, capture folders written from rendered
frames, camera poses against the rendered truth, and a clear error (exit 2, nothing written)
for each bad input."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from omnifit.cli import main
from scanning.calibration import RigCalibration
from scanning.calibration.charuco import try_detect_corners
from scanning.calibration.procedure import CaptureRig, procedure, start_synthetic_captures, take_synthetic_capture
from scanning.sources.synthetic import kiosk_rig

GLASS_FOOT_CAMERAS = ["cam0", "cam1", "cam2", "cam3", "plantar"]


def _pose_error(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(position error mm, rotation error degrees) between two camera → platform poses."""
    delta = np.linalg.inv(truth) @ estimate
    angle = np.degrees(np.arccos(np.clip((np.trace(delta[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)))
    return float(np.linalg.norm(estimate[:3, 3] - truth[:3, 3]) * 1000.0), float(angle)


def _errors(path: Path, kind: str, plantar: bool | None = None) -> dict[str, tuple[float, float]]:
    """Each camera's (position mm, rotation degrees) error against the rendered truth; the foot
    rig on glass (with its plantar camera) unless ``plantar`` is False."""
    found = RigCalibration.load(path).cameras
    truth = kiosk_rig(kind, plantar=kind == "foot" if plantar is None else plantar)
    assert sorted(found) == sorted(c.camera_id for c in truth)
    return {c.camera_id: _pose_error(found[c.camera_id].extrinsic, c.extrinsic) for c in truth}


def _worst_error(path: Path, kind: str, plantar: bool | None = None) -> tuple[float, float]:
    errors = _errors(path, kind, plantar).values()
    return max(e[0] for e in errors), max(e[1] for e in errors)


def _calibrate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["calibrate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _write_captures(folder: Path, kind: str, views: int | None = None, only: tuple[str, ...] | None = None) -> Path:
    """A capture folder as staff would bring it: rig.json and each capture's rendered images."""
    for step in start_synthetic_captures(folder, kind, views):
        if only is None or step.name in only:
            take_synthetic_capture(folder, step)
    return folder


@pytest.fixture(scope="module")
def foot_captures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_captures(tmp_path_factory.mktemp("foot") / "captures", "foot")


@pytest.fixture
def captures(foot_captures: Path, tmp_path: Path) -> Path:
    """A copy of the foot rig's captures that a test may spoil."""
    return Path(shutil.copytree(foot_captures, tmp_path / "captures"))


def test_synthetic_foot_rig_prints_one_json_object_and_saves_poses_within_1mm(tmp_path: Path, capsys) -> None:
    out = tmp_path / "etc" / "rig.json"
    code, stdout, _ = _calibrate(["--source", "synthetic", "--kind", "foot", "--out", str(out), "--json"], capsys)
    assert code == 0
    report = json.loads(stdout)
    assert report["cameras"] == GLASS_FOOT_CAMERAS and report["plantar"] == ["plantar"] and report["captures"] == 1
    assert set(report["reprojection_px"]) == set(report["cameras"])
    assert report["reprojection_px_max"] == max(report["reprojection_px"].values()) < 1.0
    assert report["saved"] and not report["forced"] and report["output"] == str(out)
    assert report["timing_s"]["total"] >= report["timing_s"]["solve"] > 0
    position_mm, rotation_deg = _worst_error(out, "foot")
    assert position_mm < 1.0 and rotation_deg < 0.1
    plantar_mm, plantar_deg = _errors(out, "foot")["plantar"]  # the camera under the glass, by the board's back
    assert plantar_mm < 1.0 and plantar_deg < 0.1
    assert [p.name for p in out.parent.iterdir()] == ["rig.json"]  # no temporary file left beside it


def test_synthetic_open_foot_platform_without_the_plantar_camera(tmp_path: Path, capsys) -> None:
    out = tmp_path / "rig.json"
    code, stdout, _ = _calibrate(["--source", "synthetic", "--kind", "foot", "--no-plantar", "--out", str(out)],
                                 capsys)
    assert code == 0 and stdout.startswith("foot rig, 4 cameras, 1 capture(s)"), stdout
    assert not RigCalibration.load(out).board["double_sided"]  # the single-sided board will do
    position_mm, rotation_deg = _worst_error(out, "foot", plantar=False)
    assert position_mm < 1.0 and rotation_deg < 0.1


def test_recorded_capture_folder_prints_each_camera_and_saves(captures: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "rig.json"
    code, stdout, _ = _calibrate(["--source", "recorded", "--path", str(captures), "--out", str(out)], capsys)
    assert code == 0
    assert stdout.startswith("foot rig (glass platform, plantar camera plantar), 5 cameras, 1 capture(s)"), stdout
    for camera in GLASS_FOOT_CAMERAS:
        assert re.search(rf"^\s+{camera}\s+0\.\d\d px\s+\d+\s+ok$", stdout, re.MULTILINE), stdout
    assert f"saved {out}" in stdout
    position_mm, rotation_deg = _worst_error(out, "foot")
    assert position_mm < 1.0 and rotation_deg < 0.1


@pytest.mark.slow
def test_body_rig_from_its_13_recorded_captures_within_2mm(tmp_path: Path, capsys) -> None:
    folder = _write_captures(tmp_path / "captures", "body")
    rig = CaptureRig.load(folder)
    names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert names == sorted(step.name for step in procedure(rig)) and len(names) == 13
    out = tmp_path / "rig.json"
    code, stdout, _ = _calibrate(["--source", "recorded", "--path", str(folder), "--kind", "body", "--out", str(out),
                                  "--json"], capsys)
    assert code == 0
    report = json.loads(stdout)
    assert report["kind"] == "body" and report["captures"] == 13 and report["reprojection_px_max"] < 1.0
    position_mm, rotation_deg = _worst_error(out, "body")
    assert position_mm < 2.0 and rotation_deg < 0.1


def _refused(args: list[str], out: Path, capsys) -> str:
    """Run a calibration that must fail: exit 2, the reason on stderr, ``out`` untouched."""
    out.write_text("the previous calibration")
    code, _, stderr = _calibrate([*args, "--out", str(out)], capsys)
    assert code == 2, stderr
    assert out.read_text() == "the previous calibration"
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []
    return stderr


def _blank(captures: Path, capture: str, camera: str, keep: int = 0) -> None:
    """Grey out a camera's image in a capture except a ``keep``-pixel square around the board's middle."""
    path = captures / capture / "colour" / f"{camera}_0000.png"
    image = cv2.imread(str(path))
    blanked = np.full_like(image, 128)
    if keep:
        rig = CaptureRig.load(captures)
        _, corners, _ = try_detect_corners(rig.board, image[..., ::-1], rig.intrinsics[camera].matrix())
        col, row = np.round(corners.mean(axis=0)).astype(int)
        blanked[row - keep // 2:row + keep // 2, col - keep // 2:col + keep // 2] = \
            image[row - keep // 2:row + keep // 2, col - keep // 2:col + keep // 2]
    cv2.imwrite(str(path), blanked)


def test_a_camera_that_never_sees_the_board_is_named(captures: Path, tmp_path: Path, capsys) -> None:
    _blank(captures, "centre", "cam2")
    stderr = _refused(["--source", "recorded", "--path", str(captures)], tmp_path / "rig.json", capsys)
    assert "camera cam2: found 0 ChArUco corners in capture centre, need at least 6" in stderr
    assert "Lay the double-sided board flat in the middle of the glass" in stderr


def test_a_plantar_camera_that_sees_no_board_is_named(captures: Path, tmp_path: Path, capsys) -> None:
    _blank(captures, "centre", "plantar")
    stderr = _refused(["--source", "recorded", "--path", str(captures)], tmp_path / "rig.json", capsys)
    assert "camera plantar: found 0 ChArUco corners in capture centre, need at least 6" in stderr
    assert "camera plantar under the glass sees its back print" in stderr


def test_too_few_corners_are_refused_naming_the_camera_and_the_count(captures: Path, tmp_path: Path, capsys) -> None:
    _blank(captures, "centre", "cam1", keep=140)
    stderr = _refused(["--source", "recorded", "--path", str(captures)], tmp_path / "rig.json", capsys)
    found = re.search(r"camera cam1: found (\d+) ChArUco corners in capture centre", stderr)
    assert found and 0 < int(found[1]) < 6, stderr


def test_a_capture_without_one_cameras_image_is_refused(captures: Path, tmp_path: Path, capsys) -> None:
    index_path = captures / "centre" / "frames.json"
    index = json.loads(index_path.read_text())
    index["frames"] = [entry for entry in index["frames"] if entry["camera"] != "cam3"]
    index_path.write_text(json.dumps(index))
    stderr = _refused(["--source", "recorded", "--path", str(captures)], tmp_path / "rig.json", capsys)
    assert "camera cam3: no image in capture centre" in stderr


def test_a_folder_missing_a_capture_names_it_and_says_how_to_take_it(tmp_path: Path, capsys) -> None:
    folder = _write_captures(tmp_path / "captures", "body", views=3, only=("centre",))
    stderr = _refused(["--source", "recorded", "--path", str(folder)], tmp_path / "rig.json", capsys)
    assert "is missing capture 'lying-cam0'" in stderr and "in front of camera cam0" in stderr


def test_a_folder_without_rig_json_or_of_another_kind_is_refused(captures: Path, tmp_path: Path, capsys) -> None:
    stderr = _refused(["--source", "recorded", "--path", str(captures), "--kind", "body"], tmp_path / "rig.json",
                      capsys)
    assert "describes a foot rig" in stderr
    (captures / "rig.json").unlink()
    stderr = _refused(["--source", "recorded", "--path", str(captures)], tmp_path / "rig.json", capsys)
    assert "has no rig.json" in stderr
    stderr = _refused(["--source", "synthetic"], tmp_path / "rig.json", capsys)
    assert "needs --kind" in stderr
    stderr = _refused(["--source", "recorded", "--path", str(captures), "--no-plantar"], tmp_path / "rig.json", capsys)
    assert "--no-plantar is for --source synthetic" in stderr


def test_reprojection_above_the_limit_is_not_saved_unless_forced(captures: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "rig.json"
    args = ["--source", "recorded", "--path", str(captures), "--max-reprojection-px", "0.05"]
    out.write_text("the previous calibration")
    code, stdout, stderr = _calibrate([*args, "--out", str(out), "--json"], capsys)
    assert code == 2 and out.read_text() == "the previous calibration"
    report = json.loads(stdout)  # still one JSON object: what was measured, and that it was not saved
    assert not report["saved"] and report["over_limit"] and report["limit_px"] == 0.05
    camera = report["over_limit"][0]
    assert f"camera {camera}: reprojection error" in stderr and "above the 0.05 px limit" in stderr
    assert "--force" in stderr
    code, stdout, _ = _calibrate([*args, "--out", str(out), "--json", "--force"], capsys)
    report = json.loads(stdout)
    assert code == 0 and report["saved"] and report["forced"]
    assert len(RigCalibration.load(out).cameras) == 5
    code, _, stderr = _calibrate([*args[:-1], "0", "--out", str(out)], capsys)
    assert code == 2 and "--max-reprojection-px must be a positive" in stderr
