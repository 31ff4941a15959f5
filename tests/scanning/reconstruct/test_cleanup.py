"""Clean-up of the fused solid: the fast Taubin smoothing and component split agree with
trimesh's own, and the watertightness check with ``Trimesh.is_watertight``."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.mesh_utils import is_closed
from scanning.reconstruct.cleanup import TAUBIN_LAMBDA, TAUBIN_NU, keep_large_components, smooth


def _noisy_sphere(rng: np.random.Generator, centre: tuple[float, float, float], radius: float) -> trimesh.Trimesh:
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=radius)
    vertices = sphere.vertices + np.array(centre) + rng.normal(0.0, 0.02 * radius, size=sphere.vertices.shape)
    return trimesh.Trimesh(vertices, sphere.faces, process=False)


def test_smooth_is_trimesh_taubin_filter(rng: np.random.Generator) -> None:
    noisy = _noisy_sphere(rng, (0.0, 0.0, 0.0), 0.05)
    before = noisy.vertices.copy()
    expected = noisy.copy()
    trimesh.smoothing.filter_taubin(expected, lamb=TAUBIN_LAMBDA, nu=TAUBIN_NU, iterations=20)
    smoothed = smooth(noisy, iterations=20)
    np.testing.assert_allclose(smoothed.vertices, expected.vertices, rtol=0.0, atol=1e-15)
    np.testing.assert_array_equal(smoothed.faces, noisy.faces)
    np.testing.assert_array_equal(noisy.vertices, before)  # the input is left alone


def test_large_components_are_kept_largest_first_with_their_own_vertices(rng: np.random.Generator) -> None:
    small = _noisy_sphere(rng, (0.3, 0.0, 0.0), 0.04)
    large = _noisy_sphere(rng, (0.0, 0.0, 0.0), 0.05)
    speck = _noisy_sphere(rng, (0.0, 0.3, 0.0), 0.005)
    scene = trimesh.util.concatenate([small, speck, large])
    pieces = keep_large_components(scene, min_share=0.25, max_count=3)
    assert len(pieces) == 2  # the speck holds 1 % of the largest area
    for piece, source in zip(pieces, (large, small)):
        np.testing.assert_array_equal(piece.vertices, source.vertices)
        np.testing.assert_array_equal(piece.faces, source.faces)
    assert keep_large_components(scene, min_share=0.25, max_count=1)[0].area == pytest.approx(large.area)
    assert keep_large_components(trimesh.Trimesh(), min_share=0.25, max_count=2) == []


def test_is_closed_agrees_with_trimesh() -> None:
    box = trimesh.creation.box()
    assert is_closed(box) and box.is_watertight
    open_box = trimesh.Trimesh(box.vertices, box.faces[2:], process=False)
    assert not is_closed(open_box) and not open_box.is_watertight
    doubled = trimesh.Trimesh(box.vertices, np.vstack([box.faces, box.faces[:2]]), process=False)  # an edge shared by 3 faces
    assert not is_closed(doubled) and not doubled.is_watertight
    assert not is_closed(trimesh.Trimesh()) and not trimesh.Trimesh().is_watertight
