"""Loading shoe models: a real third-party glTF, broken textures, junk files, and huge meshes."""
from __future__ import annotations

import time

import numpy as np
import pytest
import trimesh
from pygltflib import GLTF2, BufferFormat

from scanning.sources.frame import Intrinsics
from tests.conftest import shared_path
from tests.tryon.ar.conftest import SHOE_GLB
from tryon.ar import ModelLoadError, load_shoe_model, model_variants
from tryon.ar.render import ShoeInstance


def _draws(renderer, model) -> int:
    """Pixels covered when ``model`` stands 0.8 m in front of the camera, seen from the side."""
    pose = np.eye(4)
    pose[:3, :3] = np.diag([1.0, -1.0, -1.0])
    pose[:3, 3] = [-model.length_m / 2, 0.05, 0.8]
    layer = renderer.render([ShoeInstance(model, pose)], Intrinsics.from_fov(640, 480))
    return int((layer.rgba[..., 3] > 0).sum())


@pytest.mark.shared_data
def test_real_gltf_shoe_loads_textured_in_the_model_frame(renderer):
    path = shared_path("data", "shoes", "MaterialsVariantsShoe", "glTF", "MaterialsVariantsShoe.gltf")
    model = load_shoe_model(path)
    points = np.concatenate([p.positions for p in model.parts])
    assert model.triangles == 22_700
    assert 0.28 < model.length_m < 0.32 and 0.14 < model.height_m < 0.16
    np.testing.assert_allclose(points.min(axis=0)[:2], [0.0, 0.0], atol=1e-6)
    assert abs(points[:, 2].min() + points[:, 2].max()) < 1e-6
    assert any(p.texture is not None and p.texture.shape[:2] == (1024, 1024) for p in model.parts)
    # The collar is over the heel (X near 0), not over the toe.
    top = points[points[:, 1] > 0.9 * points[:, 1].max()]
    assert top[:, 0].mean() < model.length_m / 2
    assert _draws(renderer, model) > 5000


def _corrupt_texture(path):
    gltf = GLTF2().load(str(SHOE_GLB))
    view = gltf.bufferViews[gltf.images[0].bufferView]
    blob = bytearray(gltf.binary_blob())
    blob[view.byteOffset:view.byteOffset + view.byteLength] = bytes(view.byteLength)
    gltf.set_binary_blob(bytes(blob))
    gltf.save(str(path / "corrupt.glb"))
    return path / "corrupt.glb"


def _missing_texture(path):
    gltf = GLTF2().load(str(SHOE_GLB))
    gltf.convert_buffers(BufferFormat.DATAURI)
    gltf.images[0].bufferView, gltf.images[0].uri = None, "not-there.png"
    gltf.save(str(path / "missing.gltf"))
    return path / "missing.gltf"


def _dangling_texture(path):
    gltf = GLTF2().load(str(SHOE_GLB))
    gltf.images[0].bufferView = 99
    gltf.save(str(path / "dangling.glb"))
    return path / "dangling.glb"


@pytest.mark.parametrize("make", [_corrupt_texture, _missing_texture, _dangling_texture])
def test_broken_textures_fall_back_to_base_colour(tmp_path, renderer, make):
    model = load_shoe_model(make(tmp_path))
    assert model.triangles == load_shoe_model(SHOE_GLB).triangles
    assert all(p.texture is None for p in model.parts)
    assert _draws(renderer, model) > 5000


def test_junk_and_missing_files_are_refused(tmp_path):
    junk = tmp_path / "junk.glb"
    junk.write_bytes(b"glTF" + bytes(range(200)))
    with pytest.raises(ModelLoadError, match="junk.glb"):
        load_shoe_model(junk)
    with pytest.raises(ModelLoadError, match="not found"):
        load_shoe_model(tmp_path / "nope.glb")


@pytest.mark.slow
def test_huge_mesh_is_decimated_in_bounded_time(tmp_path, renderer):
    side = 1001  # 2 x 1000 x 1000 = 2M triangles: a wavy slab shoe-sized
    u, v = np.meshgrid(np.linspace(0, 0.3, side), np.linspace(-0.05, 0.05, side), indexing="ij")
    vertices = np.stack([u, 0.02 + 0.01 * np.sin(60 * u) * np.cos(60 * v), v], axis=-1).reshape(-1, 3)
    r, c = np.meshgrid(np.arange(side - 1), np.arange(side - 1), indexing="ij")
    a = (r * side + c).ravel()
    faces = np.concatenate([np.stack([a, a + side, a + 1], 1), np.stack([a + 1, a + side, a + side + 1], 1)])
    path = tmp_path / "huge.glb"
    path.write_bytes(trimesh.Trimesh(vertices, faces, process=False).export(file_type="glb"))
    started = time.perf_counter()
    model = load_shoe_model(path, max_triangles=40_000)
    elapsed = time.perf_counter() - started
    assert len(faces) == 2_000_000
    assert model.triangles <= 40_000 * 1.05
    assert elapsed < 60.0
    assert 0.29 < model.length_m < 0.31
    assert _draws(renderer, model) > 1000


@pytest.mark.shared_data
def test_material_variants_switch_the_texture():
    path = shared_path("data", "shoes", "MaterialsVariantsShoe", "glTF", "MaterialsVariantsShoe.gltf")
    assert model_variants(path) == ("midnight", "beach", "street")
    means = {name: load_shoe_model(path, variant=name).parts[0].texture.reshape(-1, 4)[:, :3].mean(axis=0)
             for name in ("midnight", "beach", "street")}
    assert np.abs(means["beach"] - means["midnight"]).max() > 10
    assert np.abs(means["street"] - means["beach"]).max() > 10
    with pytest.raises(ModelLoadError, match="no material variant 'disco'"):
        load_shoe_model(path, variant="disco")
