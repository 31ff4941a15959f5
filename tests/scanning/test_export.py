"""PLY and GLB export; every GLB must pass the Khronos glTF validator with zero errors."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import trimesh

from scanning.errors import ExportError
from scanning.export import write_glb, write_ply
from tests.conftest import REPO_ROOT

VALIDATOR_SCRIPT = REPO_ROOT / "tools" / "validate-gltf.js"


def validate_gltf(*paths: Path) -> list[dict]:
    """Run the Khronos validator on files; one report per file. Skips only without node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the glTF validator runs on node")
    assert (REPO_ROOT / "tools" / "node_modules" / "gltf-validator").is_dir(), \
        "gltf-validator is missing: run scripts/install-tools.sh"
    completed = subprocess.run([node, str(VALIDATOR_SCRIPT), *map(str, paths)], capture_output=True, text=True,
                               timeout=120, check=False)
    return [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]


def test_glb_passes_the_khronos_validator(tmp_path: Path) -> None:
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.05)
    path = write_glb(mesh, tmp_path / "foot.glb", name="foot_left")
    [report] = validate_gltf(path)
    assert report["errors"] == 0, report["messages"]
    loaded = trimesh.load(path, force="mesh")
    assert loaded.extents[1] == pytest.approx(0.1, rel=0.01)  # metres, y up


def test_validator_does_catch_a_broken_file(tmp_path: Path) -> None:
    path = write_glb(trimesh.creation.box(), tmp_path / "box.glb")
    data = bytearray(path.read_bytes())
    data[20:40] = b"#" * 20  # corrupt the JSON chunk
    path.write_bytes(bytes(data))
    [report] = validate_gltf(path)
    assert report["errors"] > 0


def test_glb_turns_z_up_into_gltf_y_up(tmp_path: Path) -> None:
    tall = trimesh.creation.box(extents=[0.1, 0.2, 0.5])
    loaded = trimesh.load(write_glb(tall, tmp_path / "tall.glb"), force="mesh")
    np.testing.assert_allclose(loaded.extents, [0.1, 0.5, 0.2], atol=1e-6)


def test_ply_round_trip_and_bad_meshes(tmp_path: Path) -> None:
    mesh = trimesh.creation.box(extents=[0.2, 0.1, 0.05])
    loaded = trimesh.load(write_ply(mesh, tmp_path / "box.ply"))
    np.testing.assert_allclose(loaded.bounds, mesh.bounds)
    with pytest.raises(ExportError, match="non-empty triangle mesh"):
        write_ply(trimesh.Trimesh(), tmp_path / "empty.ply")
    broken = mesh.copy()
    broken.vertices[0, 0] = np.nan
    with pytest.raises(ExportError, match="NaN"):
        write_glb(broken, tmp_path / "nan.glb")
    assert not (tmp_path / "nan.glb").exists()
