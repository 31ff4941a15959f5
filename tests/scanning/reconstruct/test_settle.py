"""Settling a fused solid cut above the platform back onto the floor: the few millimetres the
cut removed continue the wall above them (a foot's sole edge rounds inward), they are not
extruded straight down; and the platform plane itself."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.errors import ReconstructionError
from scanning.reconstruct.segment import settle_on_floor

CUT_M = 0.002
VOXEL_M = 0.002
SLOPE = 0.5  # the wall runs 0.5 mm outward per mm of height
FLOOR_RADIUS_M = 0.030


def _cut_frustum() -> trimesh.Trimesh:
    """A closed frustum, radius 30 mm at the floor widening upward, as fusion returns it: cut flat at CUT_M."""
    heights = np.linspace(CUT_M, 0.05, 49)
    profile = np.array([[0.0, CUT_M], *[[FLOOR_RADIUS_M + SLOPE * z, z] for z in heights], [0.0, 0.05]])
    return trimesh.creation.revolve(profile, sections=128)


def _radius_at(mesh: trimesh.Trimesh, height: float) -> float:
    section = mesh.section(plane_origin=[0.0, 0.0, height], plane_normal=[0.0, 0.0, 1.0])
    return float(np.median(np.linalg.norm(section.vertices[:, :2], axis=1)))


def test_extrapolated_walls_reach_the_floor_where_the_wall_would() -> None:
    frustum = _cut_frustum()
    settled = settle_on_floor(frustum, CUT_M, VOXEL_M, extrapolate_walls=True)
    assert settled.bounds[0, 2] == pytest.approx(0.0, abs=1e-9)
    for height in (0.0005, 0.001, 0.003, 0.005):
        assert _radius_at(settled, height) == pytest.approx(FLOOR_RADIUS_M + SLOPE * height, abs=1e-4), height
    assert settled.is_watertight and settled.is_winding_consistent


def test_stretched_walls_stand_vertical_below_the_cut() -> None:
    """Without extrapolation the rim at the cut height is put on the floor: 1 mm too wide here."""
    settled = settle_on_floor(_cut_frustum(), CUT_M, VOXEL_M)
    assert _radius_at(settled, 0.0005) == pytest.approx(FLOOR_RADIUS_M + SLOPE * CUT_M, abs=2e-4)


def test_walls_above_the_band_do_not_move() -> None:
    frustum = _cut_frustum()
    settled = settle_on_floor(frustum, CUT_M, VOXEL_M, extrapolate_walls=True)
    high = frustum.vertices[:, 2] >= CUT_M + 2 * VOXEL_M
    np.testing.assert_allclose(settled.vertices[high], frustum.vertices[high])


def test_the_cut_face_follows_its_rim_without_folding() -> None:
    frustum = _cut_frustum()
    settled = settle_on_floor(frustum, CUT_M, VOXEL_M, extrapolate_walls=True)
    bottom = settled.faces[np.all(settled.vertices[settled.faces][:, :, 2] < 1e-9, axis=1)]
    assert len(bottom) > 0
    normals = trimesh.Trimesh(settled.vertices, bottom, process=False).face_normals
    assert np.all(normals[:, 2] < 0.0)  # every face of the floor face still faces down


def test_a_wall_that_flares_toward_the_floor_is_extruded_straight_down() -> None:
    """Below a wall that faces up (narrowing upward) the sole is not pushed out beyond the rim."""
    heights = np.linspace(CUT_M, 0.05, 49)
    profile = np.array([[0.0, CUT_M], *[[0.04 - SLOPE * z, z] for z in heights], [0.0, 0.05]])
    settled = settle_on_floor(trimesh.creation.revolve(profile, sections=128), CUT_M, VOXEL_M, extrapolate_walls=True)
    assert settled.bounds[1, 0] <= 0.04 - SLOPE * CUT_M + 1e-9
    assert _radius_at(settled, 0.0005) == pytest.approx(0.04 - SLOPE * CUT_M, abs=2e-4)


def test_floor_fit_is_repeatable_and_averages_the_noise() -> None:
    """A tilted, noisy platform with clutter just above it (soles, a dropped receipt): the
    plane comes back within 0.02° and 0.1 mm, the same plane bit for bit on every call."""
    from scanning.reconstruct.segment import fit_floor

    rng = np.random.default_rng(3)
    plate = np.column_stack([rng.uniform(-0.4, 0.4, 40000), rng.uniform(-0.4, 0.4, 40000),
                             rng.normal(0.0, 0.0004, 40000)])
    tilt = np.radians(0.3)
    turn = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(tilt), -np.sin(tilt)], [0.0, np.sin(tilt), np.cos(tilt)]])
    plate = plate @ turn.T + [0.0, 0.0, 0.001]
    clutter = np.column_stack([rng.uniform(-0.2, 0.2, 15000), rng.uniform(-0.2, 0.2, 15000),
                               rng.uniform(0.003, 0.015, 15000)])
    points = np.vstack([plate, clutter])
    floor = fit_floor(points, seed=5)
    assert floor.tilt_deg == pytest.approx(0.3, abs=0.02)
    assert floor.height_mm == pytest.approx(1.0, abs=0.1)
    again = fit_floor(points, seed=5)
    assert np.array_equal(again.normal, floor.normal) and again.offset == floor.offset
    with pytest.raises(ReconstructionError, match="no camera sees the platform"):
        fit_floor(clutter[:50] + [0.0, 0.0, 0.05])


@pytest.mark.parametrize("points", [
    np.column_stack([np.linspace(-0.2, 0.2, 500), np.zeros(500), np.zeros(500)]),  # one line across the plate
    np.tile([[0.1, 0.1, 0.0]], (200, 1)),  # one point, many times
], ids=["collinear", "coincident"])
def test_floor_fit_refuses_points_that_do_not_span_a_plane(points: np.ndarray) -> None:
    """Platform points along one line (a camera that sees only a strip of the plate) fix no
    tilt across it: a clear error, not numpy's 'argmax of an empty sequence'."""
    from scanning.reconstruct.segment import fit_floor

    with pytest.raises(ReconstructionError, match="do not span"):
        fit_floor(points)


def test_floor_fit_refuses_a_line_with_a_few_points_off_it() -> None:
    """A strip of plate plus a few clutter points: every plane through the strip holds the
    same inliers, so the plane the fit returns would tilt at random about the strip."""
    from scanning.reconstruct.segment import fit_floor

    rng = np.random.default_rng(0)
    line = np.column_stack([rng.uniform(-0.2, 0.2, 2000), rng.normal(0.0, 0.0002, 2000), np.zeros(2000)])
    clutter = np.column_stack([rng.uniform(-0.2, 0.2, 20), rng.uniform(-0.2, 0.2, 20), rng.uniform(0.003, 0.01, 20)])
    with pytest.raises(ReconstructionError, match="do not span"):
        fit_floor(np.vstack([line, clutter]))
