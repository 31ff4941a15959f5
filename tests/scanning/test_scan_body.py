"""``omnifit scan --kind body``: an A-posed body measures cleanly; a T-posed one (SMPL's template,
arms held out sideways) is refused before fusing, with the pose to take instead."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnifit.cli import main
from scanning.population import make_body
from scanning.types import BODY_MEASUREMENT_NAMES
from tests.conftest import shared_path


def _scan_json(mesh: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    code = main(["scan", "--source", "synthetic", "--kind", "body", "--mesh", str(mesh), "--out", str(out),
                 "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.mark.slow
def test_a_posed_body_has_no_unreliable_measurements(tmp_path: Path, capsys) -> None:
    mesh = tmp_path / "body.ply"
    make_body(3).export(mesh)
    report = _scan_json(mesh, tmp_path / "out", capsys)
    assert sorted(report["measurements_mm"]["body"]) == sorted(BODY_MEASUREMENT_NAMES)
    assert report["quality"]["unreliable_measurements"] == {}
    assert report["quality"]["flags"] == []
    assert min(report["quality"]["pose"]["arm_gap_mm"].values()) > 40 and report["quality"]["pose"]["leg_gap_mm"] > 60
    written = json.loads((tmp_path / "out" / "quality.json").read_text())
    assert written["unreliable_measurements"] == {}


@pytest.mark.slow
@pytest.mark.shared_data
def test_t_posed_body_is_refused_with_the_a_pose_advice(tmp_path: Path, capsys) -> None:
    """SMPL's template holds its arms out sideways: checked on the depth frames, before fusing,
    the scan is refused (exit 2) with a flag that asks for the A-pose, and nothing is written."""
    mesh = shared_path("acceptance", "meshes", "body_smpl_male_template.obj")
    out = tmp_path / "out"
    code = main(["scan", "--source", "synthetic", "--kind", "body", "--mesh", str(mesh), "--up", "y",
                 "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    flags = json.loads(captured.out)["quality"]["flags"]
    assert [flag["code"] for flag in flags] == ["pose_arms_raised"]
    assert "A-pose" in flags[0]["message"] and "A-pose" in captured.err
    assert not out.exists()


@pytest.mark.shared_data
def test_measure_reads_a_t_posed_mesh_sensibly(capsys) -> None:
    """No scan: the clean T-posed mesh itself measures like the adult it is (arms included)."""
    mesh = shared_path("acceptance", "meshes", "body_smpl_male_template.obj")
    assert main(["measure", str(mesh), "--kind", "body", "--up", "y", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)["measurements_mm"]
    assert 1750 < values["height"] < 1830
    assert 900 < values["chest_girth"] < 1100
    assert 700 < values["inseam"] < 800
    assert 580 < values["arm_length"] < 720  # acromion to wrist, ISO 7250-1 about 0.34-0.38 of stature
    assert 330 < values["shoulder_width"] < 420
