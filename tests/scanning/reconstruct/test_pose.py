"""The body scan's pose check: generated bodies rendered through the noisy body rig, posed as
the kiosk asks (A-pose, feet apart) and wrongly (arms down against the torso, feet together),
read before anything is fused."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omnifit.cli import main
from scanning.errors import PoseError
from scanning.measure import canonicalize_body
from scanning.pipeline import load_subject, synthetic_source
from scanning.population import make_body
from scanning.reconstruct import SCAN_SETTINGS, reconstruct
from scanning.reconstruct.pose import MIN_ARM_GAP_M, MIN_LEG_GAP_M, check_body_pose, check_frames_pose
from scanning.sources.frame import RGBDFrame
from tests.conftest import shared_path

ARMS_DOWN_DEG = 3.0  # the arm hangs against the torso's side
FEET_TOGETHER = 0.02  # half the ankle distance, fraction of stature: the ankles touch


def _frames(seed: int, **pose: float) -> list[RGBDFrame]:
    body, _ = canonicalize_body(make_body(seed, **pose))
    return list(synthetic_source(body, "body", seed=seed).frames())


def _codes(report) -> list[str]:
    return [flag.code for flag in report.flags]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 4])
def test_a_pose_with_feet_apart_passes(seed: int) -> None:
    report = check_frames_pose(_frames(seed), np.eye(4), SCAN_SETTINGS["body"].fusion)
    assert report.flags == []
    assert min(report.arm_gap_mm.values()) > 2 * MIN_ARM_GAP_M * 1000
    assert report.leg_gap_mm > 1.5 * MIN_LEG_GAP_M * 1000
    assert report.arms_raised == {"right": False, "left": False}


@pytest.mark.slow
def test_arms_down_against_the_torso_are_refused_before_fusing() -> None:
    frames = _frames(0, arm_abduction_deg=ARMS_DOWN_DEG)
    with pytest.raises(PoseError) as caught:
        reconstruct(frames, "body")
    flags = caught.value.details["flags"]
    assert [flag["code"] for flag in flags] == ["pose_arms_against_body"]
    assert "hand's width" in flags[0]["message"] and "A-pose" in flags[0]["message"]
    pose = caught.value.details["pose"]
    assert all(gap is None or gap < MIN_ARM_GAP_M * 1000 for gap in pose["arm_gap_mm"].values())
    assert pose["leg_gap_mm"] > MIN_LEG_GAP_M * 1000  # the feet were apart: only the arms are named


@pytest.mark.slow
def test_feet_together_are_refused() -> None:
    report = check_frames_pose(_frames(1, stance=FEET_TOGETHER), np.eye(4), SCAN_SETTINGS["body"].fusion)
    assert _codes(report) == ["pose_feet_together"]
    assert "hip-width apart" in report.flags[0].message and "inseam" in report.flags[0].message


@pytest.mark.slow
def test_arms_down_and_feet_together_name_both() -> None:
    report = check_frames_pose(_frames(2, arm_abduction_deg=ARMS_DOWN_DEG, stance=FEET_TOGETHER), np.eye(4),
                               SCAN_SETTINGS["body"].fusion)
    assert _codes(report) == ["pose_arms_against_body", "pose_feet_together"]


def test_arms_held_out_sideways_are_refused() -> None:
    """A T-pose: points far out at shoulder height (built here as a cloud: a torso column, two
    legs and arms straight out)."""
    rng = np.random.default_rng(0)
    torso = np.column_stack([rng.uniform(-0.15, 0.15, 40000), rng.uniform(-0.1, 0.1, 40000), rng.uniform(0.8, 1.45, 40000)])
    legs = np.column_stack([rng.choice([-0.1, 0.1], 20000) + rng.uniform(-0.05, 0.05, 20000),
                            rng.uniform(-0.05, 0.05, 20000), rng.uniform(0.01, 0.8, 20000)])
    arms = np.column_stack([rng.choice([-1.0, 1.0], 10000) * rng.uniform(0.15, 0.8, 10000),
                            rng.uniform(-0.04, 0.04, 10000), rng.uniform(1.35, 1.42, 10000)])
    head = np.column_stack([rng.uniform(-0.08, 0.08, 5000), rng.uniform(-0.08, 0.08, 5000), rng.uniform(1.45, 1.7, 5000)])
    report = check_body_pose(np.concatenate([torso, legs, arms, head]))
    assert report.arms_raised == {"right": True, "left": True}
    assert _codes(report) == ["pose_arms_raised"]
    # hanging arms, with a few stray flying pixels far out at shoulder height: not raised
    hanging = np.column_stack([rng.choice([-1.0, 1.0], 10000) * rng.uniform(0.25, 0.3, 10000),
                               rng.uniform(-0.04, 0.04, 10000), rng.uniform(0.75, 1.35, 10000)])
    stray = np.column_stack([rng.choice([-1.0, 1.0], 12) * rng.uniform(0.6, 0.7, 12), np.zeros(12),
                             rng.uniform(1.3, 1.4, 12)])
    report = check_body_pose(np.concatenate([torso, legs, hanging, stray, head]))
    assert report.arms_raised == {"right": False, "left": False}
    assert "pose_arms_raised" not in _codes(report)


@pytest.mark.slow
def test_omnifit_scan_refuses_a_wrong_pose_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mesh = tmp_path / "body.ply"
    make_body(1, stance=FEET_TOGETHER).export(mesh)
    out = tmp_path / "out"
    code = main(["scan", "--source", "synthetic", "--kind", "body", "--mesh", str(mesh), "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert "not in the scanning pose" in captured.err and "hip-width apart" in captured.err
    printed = json.loads(captured.out)
    assert [flag["code"] for flag in printed["quality"]["flags"]] == ["pose_feet_together"]
    assert not out.exists()  # nothing written for a refused scan


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["body_makehuman_base.obj", "body_makehuman_male_young.obj",
                                  "body_makehuman_female_young.obj"])
def test_real_a_posed_bodies_pass(name: str) -> None:
    """The MakeHuman meshes stand in an A-pose with their feet apart: a check that refused them
    would refuse real shoppers (the thresholds come from the kiosk's instruction, not from these)."""
    subject = load_subject(shared_path("acceptance", "meshes", name), "body", up="y")
    frames = list(synthetic_source(subject, "body", seed=5).frames())
    report = check_frames_pose(frames, np.eye(4), SCAN_SETTINGS["body"].fusion)
    assert report.flags == [], [flag.message for flag in report.flags]
