"""TSDF fusion: the coarse first pass keeps only the blocks the surface runs through, and
the surface it then extracts is the one fusing every block gives."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scanning.population import make_foot
from scanning.reconstruct import SCAN_SETTINGS, _find_footprints
from scanning.reconstruct.cleanup import keep_large_components
from scanning.reconstruct.fusion import FusionSettings, Slab, block_keys, fuse_solid, surface_blocks
from scanning.sources.synthetic import SyntheticRig, foot_pair_scene, kiosk_rig


@pytest.fixture(scope="module")
def foot_scene():
    settings = SCAN_SETTINGS["foot"]
    frames = list(SyntheticRig(foot_pair_scene(make_foot(11)), kiosk_rig("foot", 4), seed=5).frames())
    floor, boxes = _find_footprints(frames, settings, 0)
    slab = Slab(floor.normal, floor.offset, settings.cut_height_m, settings.top_cut_m)
    return frames, block_keys(boxes, settings.fusion), settings.fusion, slab


def test_coarse_pass_gives_the_surface_of_fusing_every_block(foot_scene) -> None:
    frames, keys, fusion, slab = foot_scene
    assert fusion.coarse_factor > 1  # the kiosk's foot scans take the coarse pass
    kept, unviewed = surface_blocks(frames, keys, fusion, slab)
    assert len(kept) < 0.6 * len(keys)  # most blocks are empty air or inside the feet
    assert not unviewed.any()  # every block of a foot scan is in some camera's view
    coarse = keep_large_components(fuse_solid(frames, keys, fusion, slab), min_share=0.25, max_count=2)
    every = keep_large_components(fuse_solid(frames, keys, dataclasses.replace(fusion, coarse_factor=1), slab),
                                  min_share=0.25, max_count=2)
    # the feet are the same surface; only voxel-sized specks of sensor noise (dropped later) may differ
    assert len(coarse) == len(every) == 2
    for mine, theirs in zip(coarse, every):
        assert mine.is_watertight and len(mine.faces) == len(theirs.faces)
        assert mine.volume == pytest.approx(theirs.volume, rel=1e-9)
        np.testing.assert_allclose(np.sort(mine.vertices, axis=0), np.sort(theirs.vertices, axis=0), atol=1e-9)


def test_without_the_margin_the_band_loses_surface(foot_scene) -> None:
    """The margin is what keeps the fine surface inside the band: with only the blocks the
    coarse surface crosses, parts of the fine surface fall outside and the feet open up."""
    frames, keys, fusion, slab = foot_scene
    no_margin = dataclasses.replace(fusion, coarse_margin_voxels=0)
    narrow, _ = surface_blocks(frames, keys, no_margin, slab)
    wide, _ = surface_blocks(frames, keys, fusion, slab)
    assert {tuple(k) for k in narrow} < {tuple(k) for k in wide}
    feet = keep_large_components(fuse_solid(frames, keys, no_margin, slab), min_share=0.25, max_count=2)
    assert not all(foot.is_watertight for foot in feet)


@pytest.mark.slow
def test_body_coarse_pass_gives_the_surface_of_fusing_every_block() -> None:
    from scanning.measure import canonicalize_body
    from scanning.population import make_body
    from scanning.sources.synthetic import body_scene

    settings = SCAN_SETTINGS["body"]
    body, _ = canonicalize_body(make_body(0))
    frames = list(SyntheticRig(body_scene(body), kiosk_rig("body"), kind="body", seed=1).frames())
    floor, boxes = _find_footprints(frames, settings, 0)
    slab = Slab(floor.normal, floor.offset, settings.cut_height_m, np.inf)
    keys = block_keys(boxes, settings.fusion)
    assert settings.fusion.coarse_factor > 1
    kept, _ = surface_blocks(frames, keys, settings.fusion, slab)
    assert len(kept) < 0.3 * len(keys)
    coarse = keep_large_components(fuse_solid(frames, keys, settings.fusion, slab), min_share=0.25, max_count=1)[0]
    every = keep_large_components(fuse_solid(frames, keys, dataclasses.replace(settings.fusion, coarse_factor=1),
                                             slab), min_share=0.25, max_count=1)[0]
    assert coarse.is_watertight and len(coarse.faces) == len(every.faces)
    assert coarse.volume == pytest.approx(every.volume, rel=1e-9)


def test_coarse_factor_must_divide_the_block_resolution() -> None:
    with pytest.raises(ValueError, match="coarse_factor 3"):
        FusionSettings(voxel_m=0.002, trunc_voxels=3.0, block_resolution=8, volume_min=(0, 0, 0),
                       volume_max=(1, 1, 1), coarse_factor=3)
    with pytest.raises(ValueError, match="coarse_factor 0"):
        FusionSettings(voxel_m=0.002, trunc_voxels=3.0, block_resolution=8, volume_min=(0, 0, 0),
                       volume_max=(1, 1, 1), coarse_factor=0)


def test_the_fused_mesh_comes_in_one_order_whatever_order_marching_cubes_used() -> None:
    import trimesh

    from scanning.reconstruct.fusion import _in_canonical_order

    sphere = trimesh.creation.icosphere(subdivisions=3)
    rng = np.random.default_rng(0)
    shuffle = rng.permutation(len(sphere.vertices))
    inverse = np.empty_like(shuffle)
    inverse[shuffle] = np.arange(len(shuffle))
    shuffled_faces = inverse[sphere.faces][rng.permutation(len(sphere.faces))]
    first = _in_canonical_order(np.asarray(sphere.vertices), np.asarray(sphere.faces))
    second = _in_canonical_order(np.asarray(sphere.vertices)[shuffle], shuffled_faces)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    ordered = trimesh.Trimesh(*first, process=False)
    assert ordered.is_watertight and ordered.volume == pytest.approx(sphere.volume)  # same surface, same winding
