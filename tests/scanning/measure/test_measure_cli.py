"""``omnifit measure`` end to end in a subprocess: formats, the JSON report, bad files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from scanning.measure import measure_foot
from scanning.mesh_utils import load_mesh
from scanning.types import BODY_MEASUREMENT_NAMES, FOOT_MEASUREMENT_NAMES
from tests.conftest import REPO_ROOT, shared_path


def _omnifit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnifit.cli", *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def foot_files(generated_feet: list[trimesh.Trimesh], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One generated foot as PLY (metres), STL (millimetres) and GLB (a scene with a node transform)."""
    folder = tmp_path_factory.mktemp("feet")
    foot = generated_feet[0]
    files = {"ply": folder / "foot.ply", "stl": folder / "foot_mm.stl", "glb": folder / "foot_scene.glb"}
    foot.export(files["ply"])
    trimesh.Trimesh(foot.vertices * 1000.0, foot.faces).export(files["stl"])
    node = trimesh.transformations.rotation_matrix(1.1, [0, 0, 1])
    node[:3, 3] = [0.4, -0.3, 0.2]
    scene = trimesh.Scene()
    scene.add_geometry(foot, transform=node)
    scene.export(files["glb"])
    return files


@pytest.mark.parametrize(("fmt", "units"), [("ply", "m"), ("stl", "mm"), ("glb", "m")])
def test_measure_prints_one_json_report(foot_files: dict[str, Path], generated_feet: list[trimesh.Trimesh], fmt: str, units: str) -> None:
    result = _omnifit("measure", foot_files[fmt], "--kind", "foot", "--units", units, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "foot"
    assert tuple(report["measurements_mm"]) == FOOT_MEASUREMENT_NAMES
    assert report["timing_s"] > 0
    assert report["mesh"]["watertight"] is True and report["mesh"]["faces"] == len(generated_feet[0].faces)
    expected = measure_foot(generated_feet[0]).to_mm_dict()
    for name, value in report["measurements_mm"].items():
        assert value == pytest.approx(expected[name], abs=1.0), name


def test_measure_prints_a_table_without_json(foot_files: dict[str, Path]) -> None:
    result = _omnifit("measure", foot_files["ply"], "--kind", "foot")
    assert result.returncode == 0, result.stderr
    assert "ball girth" in result.stdout and " mm" in result.stdout


@pytest.mark.shared_data
def test_measure_a_real_body_file_with_y_up() -> None:
    path = shared_path("acceptance", "meshes", "body_makehuman_base.obj")
    result = _omnifit("measure", path, "--kind", "body", "--up", "y", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert tuple(report["measurements_mm"]) == BODY_MEASUREMENT_NAMES
    assert report["measurements_mm"]["height"] == pytest.approx(1665.9, abs=2.0)


def _bad_files(folder: Path, foot: trimesh.Trimesh) -> dict[str, Path]:
    corrupt = folder / "corrupt.stl"
    corrupt.write_bytes(b"solid x\n facet normal 0 0 1\n  outer loop\n   vertex 1 2\n" + bytes(range(256)))
    empty = folder / "empty.ply"
    empty.write_bytes(b"")
    text = folder / "notes.txt"
    text.write_text("not a mesh")
    holed = folder / "holed.ply"
    trimesh.Trimesh(foot.vertices, foot.faces[50:]).export(holed)
    return {"missing": folder / "absent.ply", "corrupt": corrupt, "empty": empty, "suffix": text, "holed": holed}


@pytest.mark.parametrize(
    ("case", "message"),
    [("missing", "not found"), ("corrupt", "corrupt.stl"), ("empty", "empty.ply"), ("suffix", "unsupported"), ("holed", "not watertight")],
)
def test_bad_files_exit_2_with_a_clear_message(tmp_path: Path, generated_feet: list[trimesh.Trimesh], case: str, message: str) -> None:
    path = _bad_files(tmp_path, generated_feet[0])[case]
    result = _omnifit("measure", path, "--kind", "foot", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("omnifit measure: error:") and message in result.stderr


def test_a_body_measured_as_a_foot_exits_2(tmp_path: Path, generated_body: trimesh.Trimesh) -> None:
    path = tmp_path / "body.ply"
    generated_body.export(path)
    result = _omnifit("measure", path, "--kind", "foot")
    assert result.returncode == 2
    assert "not a foot" in result.stderr


def test_wrong_units_exit_2(foot_files: dict[str, Path]) -> None:
    result = _omnifit("measure", foot_files["stl"], "--kind", "foot", "--units", "m")
    assert result.returncode == 2
    assert "check --units" in result.stderr


def test_a_glb_scene_is_flattened_with_its_node_transforms(foot_files: dict[str, Path], generated_feet: list[trimesh.Trimesh]) -> None:
    loaded = load_mesh(foot_files["glb"])
    node = trimesh.transformations.rotation_matrix(1.1, [0, 0, 1])
    node[:3, 3] = [0.4, -0.3, 0.2]
    expected = trimesh.transform_points(generated_feet[0].vertices, node)
    np.testing.assert_allclose(loaded.bounds, trimesh.Trimesh(expected, generated_feet[0].faces).bounds, atol=1e-5)
