"""The kiosk's guided rig calibration in admin mode, driven through the synthetic rig against a real cloud."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from omnifit.shared import REPO_ROOT
from tests.kiosk.conftest import STAFF_ID, STAFF_PASSWORD, STORE


def _open_calibration(kiosk, cloud) -> None:
    from kiosk.app.admin import AdminHomeScreen

    kiosk.sign_in_staff(STAFF_ID, cloud.staff_session(), adopt_token=True)
    kiosk.go(AdminHomeScreen(kiosk))
    kiosk.tap("Rig and cameras")
    assert kiosk.screen.calibration is None and "Not calibrated yet" in kiosk.screen.problem
    kiosk.tap("Calibrate now")
    kiosk.wait_idle(120)
    assert kiosk.screen.name == "admin_calibrate" and kiosk.screen.steps, kiosk.notice


@pytest.mark.slow
def test_a_failed_capture_is_retaken_and_the_calibration_saved_only_when_every_camera_passes(kiosk, cloud,
                                                                                              tmp_path: Path):
    from scanning.calibration import RigCalibration
    from scanning.calibration.procedure import read_captures
    from scanning.sources.synthetic import kiosk_rig

    sessions = tmp_path / "kiosk" / "calibration-captures"
    for day in range(1, 7):  # earlier calibrations' captures: the oldest beyond the last five go
        (sessions / f"2026010{day}-120000").mkdir(parents=True)
        (sessions / f"2026010{day}-120000" / "rig.json").write_text("{}")
        os.utime(sessions / f"2026010{day}-120000" / "rig.json", (day * 86400, day * 86400))
    _open_calibration(kiosk, cloud)
    screen, saved_at = kiosk.screen, tmp_path / "kiosk" / "rig-calibration.json"
    assert sorted(p.name for p in sessions.iterdir()) == [f"2026010{day}-120000" for day in range(3, 7)] + [
        screen.folder.name]
    # the foot rig stands on glass: its plantar camera is calibrated from the double-sided board's back print
    assert [step.name for step in screen.steps] == ["centre"] and screen.steps[0].required[-1] == "plantar"
    assert "Lay the double-sided board flat in the middle of the glass" in screen.steps[0].instruction
    board_where_asked = screen.steps[0]
    below_the_floor = board_where_asked.board_pose.copy()
    below_the_floor[2, 3] -= 1.0  # staff took the picture before laying the board down
    screen.steps[0] = replace(board_where_asked, board_pose=below_the_floor)
    kiosk.tap("Capture")
    kiosk.wait_idle(120)
    check = screen.checks["centre"]
    assert not check.ok and set(check.corners.values()) == {0}
    assert "Retake centre: camera cam0: found 0 ChArUco corners" in kiosk.notice.text
    assert not kiosk.find_button("Calibrate").enabled and not saved_at.exists()

    screen.steps[0] = board_where_asked
    kiosk.tap("Retake")
    kiosk.wait_idle(120)
    assert screen.checks["centre"].ok and kiosk.find_button("Calibrate").enabled

    screen.limit_px = 0.05  # stricter than any camera gets: the solve must not be saved
    kiosk.tap("Calibrate")
    kiosk.wait_idle(120)
    outcome, saved = screen.outcome
    assert not saved and outcome.over_limit and not saved_at.exists()
    assert kiosk.notice.text.startswith("Not saved: camera ")

    screen.limit_px = 1.0
    kiosk.tap("Calibrate")
    kiosk.wait_idle(120)
    outcome, saved = screen.outcome
    assert saved and "saved" in kiosk.notice.text
    calibration = RigCalibration.load(saved_at)
    for camera in kiosk_rig("foot", plantar=True):
        found = calibration.cameras[camera.camera_id]
        assert found.reprojection_error_px < 1.0
        assert np.linalg.norm(found.extrinsic[:3, 3] - camera.extrinsic[:3, 3]) < 0.001
    rig, steps, captures = read_captures(screen.folder)  # the captures stay, in omnifit calibrate's layout
    assert rig.kind == "foot" and rig.plantar == ("plantar",) and len(captures["centre"]) == 5
    kiosk.tap("Rig status")
    assert kiosk.screen.name == "admin_rig" and len(kiosk.screen.calibration.cameras) == 5


@pytest.mark.slow
def test_staff_walk_the_body_rig_through_its_13_captures_in_a_scripted_session(cloud, tmp_path: Path):
    from scanning.calibration import RigCalibration

    script = ["wait attract 30", "tap Staff", f"type {STAFF_ID}", "key tab", f"type {STAFF_PASSWORD}",
              "key return", "wait admin_home 30", "tap Rig and cameras", "tap Calibrate now", "idle 120",
              "screenshot calibrate-start"]
    script += ["tap Capture", "idle 120"] * 13
    script += ["screenshot calibrate-captured", "tap Calibrate", "idle 120", "screenshot calibrate-saved",
               "tap Rig status"]
    (tmp_path / "qa.txt").write_text("\n".join(script) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "kiosk", "--target", cloud.target, "--store", STORE,
         "--device-token", cloud.device_token, "--data-dir", str(tmp_path / "kiosk"), "--rig", "body",
         "--script", str(tmp_path / "qa.txt"), "--screenshot", str(tmp_path / "shots"), "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["ok"] and report["steps"][-1]["screen"] == "admin_rig"
    calibration = RigCalibration.load(tmp_path / "kiosk" / "rig-calibration.json")
    assert sorted(calibration.cameras) == [f"cam{i}" for i in range(6)]
    assert max(c.reprojection_error_px for c in calibration.cameras.values()) < 1.0
    folders = sorted(p.name for p in next((tmp_path / "kiosk" / "calibration-captures").iterdir()).iterdir())
    assert len([name for name in folders if name != "rig.json"]) == 13
    assert (tmp_path / "shots" / "calibrate-saved.png").exists()
