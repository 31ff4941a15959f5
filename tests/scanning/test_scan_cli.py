"""``omnifit scan`` end to end: synthetic and recorded sources, files written all-or-nothing,
one JSON object with --json, and clear errors for bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omnifit.cli import main
from scanning.calibration import CameraCalibration, RigCalibration
from scanning.population import make_foot
from scanning.sources.recorded import write_recording
from scanning.sources.synthetic import SyntheticRig, foot_pair_scene, kiosk_rig
from scanning.types import FOOT_MEASUREMENT_NAMES
from tests.scanning.test_export import validate_gltf


@pytest.fixture(scope="module")
def foot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mesh") / "foot_mm.ply"
    foot = make_foot(11)
    foot.apply_scale(1000.0)  # a file in millimetres, as scanners write them
    foot.export(path)
    return path


def _scan(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict | None, str]:
    code = main(["scan", *args])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 and "--json" in args else None), captured.err


@pytest.mark.slow
def test_synthetic_foot_scan_writes_meshes_and_reports(foot_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "scan"
    code, report, _ = _scan(["--source", "synthetic", "--mesh", str(foot_file), "--units", "mm", "--kind", "foot",
                             "--views", "4", "--seed", "2", "--out", str(out), "--json"], capsys)
    assert code == 0
    assert report["kind"] == "foot"
    assert set(report["measurements_mm"]) == {"left", "right"}
    for values in report["measurements_mm"].values():
        assert set(values) == set(FOOT_MEASUREMENT_NAMES)
        assert 200.0 < values["length"] < 320.0
    assert report["timing_s"]["scan_to_measurements"] > 0
    assert report["quality"]["watertight"] == {"left": True, "right": True}
    names = sorted(p.name for p in out.iterdir())
    assert names == ["foot_left.glb", "foot_left.ply", "foot_right.glb", "foot_right.ply", "measurements.json",
                     "quality.json"]
    saved = json.loads((out / "measurements.json").read_text())
    assert saved["measurements_mm"] == report["measurements_mm"]
    assert all(r["errors"] == 0 for r in validate_gltf(out / "foot_left.glb", out / "foot_right.glb"))


@pytest.mark.slow
def test_recorded_scan_matches_the_synthetic_one(foot_file: Path, tmp_path: Path, capsys) -> None:
    from scanning.pipeline import load_subject

    cameras = kiosk_rig("foot", 4)
    scene = foot_pair_scene(load_subject(foot_file, "foot", units="mm"))
    frames = list(SyntheticRig(scene, cameras, seed=5).frames())
    calibration = RigCalibration({c.camera_id: CameraCalibration(c.camera_id, c.intrinsics, c.extrinsic)
                                  for c in cameras})
    folder = write_recording(frames, tmp_path / "recording", calibration)
    code, report, _ = _scan(["--source", "recorded", "--path", str(folder), "--kind", "foot",
                             "--out", str(tmp_path / "out"), "--json"], capsys)
    assert code == 0
    truth = json.loads(_measure(foot_file, capsys))["measurements_mm"]
    assert abs(report["measurements_mm"]["right"]["length"] - truth["length"]) < 2.0


def _measure(path: Path, capsys) -> str:
    assert main(["measure", str(path), "--kind", "foot", "--units", "mm", "--json"]) == 0
    return capsys.readouterr().out


def test_missing_arguments_are_errors_and_write_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "scan"
    code, _, err = _scan(["--source", "synthetic", "--kind", "foot", "--out", str(out), "--json"], capsys)
    assert code == 2 and "--source synthetic needs --mesh MESH" in err
    code, _, err = _scan(["--source", "recorded", "--kind", "foot", "--out", str(out)], capsys)
    assert code == 2 and "--source recorded needs --path DIR" in err
    code, _, err = _scan(["--source", "recorded", "--path", str(tmp_path / "nowhere"), "--kind", "foot",
                          "--out", str(out)], capsys)
    assert code == 2 and "recorded folder not found" in err
    for rig_choice in (["--views", "6"], ["--no-plantar"]):  # the virtual rig's choices, not a recording's
        code, _, err = _scan(["--source", "recorded", "--path", str(tmp_path), "--kind", "foot", *rig_choice,
                              "--out", str(out)], capsys)
        assert code == 2 and f"{rig_choice[0]} chooses the synthetic rig's cameras" in err
    assert not out.exists()


def test_failed_scan_keeps_the_previous_output(tmp_path: Path, capsys) -> None:
    import trimesh

    out = tmp_path / "scan"
    out.mkdir()
    (out / "measurements.json").write_text('{"previous": true}')
    cube = tmp_path / "cube.ply"
    trimesh.creation.box(extents=[1.0, 1.0, 1.0]).export(cube)
    code, _, err = _scan(["--source", "synthetic", "--mesh", str(cube), "--kind", "foot", "--out", str(out)], capsys)
    assert code == 2 and "error:" in err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".scan")] == []
    assert json.loads((out / "measurements.json").read_text()) == {"previous": True}


def test_realsense_without_its_library_or_calibration_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code, _, err = _scan(["--source", "realsense", "--kind", "foot", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "needs --calibration" in err
    import importlib.util

    if importlib.util.find_spec("pyrealsense2") is None:
        calibration = RigCalibration({c.camera_id: CameraCalibration(c.camera_id, c.intrinsics, c.extrinsic)
                                      for c in kiosk_rig("foot", 2)})
        calibration.save(tmp_path / "rig.json")
        code, _, err = _scan(["--source", "realsense", "--calibration", str(tmp_path / "rig.json"), "--kind", "foot",
                              "--out", str(tmp_path / "o")], capsys)
        assert code == 2 and "pyrealsense2 is not installed" in err
    else:
        pytest.skip("pyrealsense2 is installed; no RealSense hardware is assumed in tests")


@pytest.mark.slow
def test_feet_off_the_edge_of_view_are_refused_naming_cameras_and_feet() -> None:
    from scanning.errors import ScanningError
    from scanning.pipeline import scan

    scene = foot_pair_scene(make_foot(7))
    scene.apply_translation([0.27, 0.0, 0.0])
    with pytest.raises(ScanningError, match=r"scanned (left|right) foot could not be measured") as caught:
        scan(SyntheticRig(scene, kiosk_rig("foot", 4), seed=1), "foot")
    assert "is cut off at the edge of view" in str(caught.value)
    assert "camera cam" in str(caught.value)


def _recording(tmp_path: Path, scene, cameras=None) -> Path:
    cameras = cameras or kiosk_rig("foot", 4)
    frames = list(SyntheticRig(scene, cameras, seed=3).frames())
    calibration = RigCalibration({c.camera_id: CameraCalibration(c.camera_id, c.intrinsics, c.extrinsic)
                                  for c in cameras})
    return write_recording(frames, tmp_path / "recording", calibration)


@pytest.mark.slow
def test_recorded_bad_input_is_refused_naming_camera_and_problem_and_writes_nothing(tmp_path: Path, capsys) -> None:
    import cv2

    out = tmp_path / "out"
    empty = _recording(tmp_path / "empty", None)
    code, _, err = _scan(["--source", "recorded", "--path", str(empty), "--kind", "foot", "--out", str(out)], capsys)
    assert code == 2 and "nothing on the platform" in err and "cam0" in err

    feet = _recording(tmp_path / "feet", foot_pair_scene(make_foot(4)))
    dead = feet / "depth" / "cam2_0000.png"
    cv2.imwrite(str(dead), np.zeros(cv2.imread(str(dead), cv2.IMREAD_UNCHANGED).shape, np.uint16))
    code, _, err = _scan(["--source", "recorded", "--path", str(feet), "--kind", "foot", "--out", str(out)], capsys)
    assert code == 2 and "cam2" in err and "all zero" in err

    cv2.imwrite(str(dead), np.ones((240, 320), np.uint16))  # half the size the calibration says
    code, _, err = _scan(["--source", "recorded", "--path", str(feet), "--kind", "foot", "--out", str(out)], capsys)
    assert code == 2 and "cam2" in err and "640x480" in err

    (feet / "calibration.json").unlink()
    code, _, err = _scan(["--source", "recorded", "--path", str(feet), "--kind", "foot", "--out", str(out)], capsys)
    assert code == 2 and "calibration file not found" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


@pytest.mark.slow
def test_one_foot_scan_is_measured_and_flagged(tmp_path: Path, capsys) -> None:
    pair = foot_pair_scene(make_foot(5)).split(only_watertight=False)
    right = min(pair, key=lambda mesh: mesh.centroid[1])
    folder = _recording(tmp_path, right)
    code, report, _ = _scan(["--source", "recorded", "--path", str(folder), "--kind", "foot",
                             "--out", str(tmp_path / "out"), "--json"], capsys)
    assert code == 0
    assert list(report["measurements_mm"]) == ["right"]
    assert [flag["code"] for flag in report["quality"]["flags"]] == ["one_foot"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "foot_right.glb", "foot_right.ply", "measurements.json", "quality.json"]


@pytest.mark.slow
def test_progress_bar_on_a_terminal_without_json(foot_file: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(["scan", "--source", "synthetic", "--mesh", str(foot_file), "--units", "mm", "--kind", "foot",
                 "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "reconstruct" in captured.err and "100% done" in captured.err and "[" + "#" * 30 + "]" in captured.err
    assert captured.out.startswith(f"foot scan -> {tmp_path / 'out'}") and "ball_girth" in captured.out
