"""``omnifit scan --kind body``: an A-posed body measures cleanly; a T-posed one (SMPL's template,
arms held out sideways past the body rig's volume) is flagged, naming the measurements not to trust."""
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
    written = json.loads((tmp_path / "out" / "quality.json").read_text())
    assert written["unreliable_measurements"] == {}


@pytest.mark.slow
@pytest.mark.shared_data
def test_t_posed_body_names_arm_length_and_shoulder_width_unreliable(tmp_path: Path, capsys) -> None:
    mesh = shared_path("acceptance", "meshes", "body_smpl_male_template.obj")
    report = _scan_json(mesh, tmp_path / "out", capsys, "--up", "y")
    quality = report["quality"]
    assert "cut_off_at_volume" in [flag["code"] for flag in quality["flags"]]
    unreliable = quality["unreliable_measurements"]["body"]
    assert sorted(unreliable) == ["arm_length", "shoulder_width"]
    assert "T-pose" in unreliable["arm_length"] and "A-pose" in unreliable["arm_length"]
    written = json.loads((tmp_path / "out" / "quality.json").read_text())
    assert written["unreliable_measurements"] == quality["unreliable_measurements"]
    assert main(["scan", "--source", "synthetic", "--kind", "body", "--mesh", str(mesh), "--up", "y",
                 "--out", str(tmp_path / "table")]) == 0
    assert "body arm_length unreliable: the arms reach past the scan volume" in capsys.readouterr().out


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
