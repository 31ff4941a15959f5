"""The fast slicer agrees with trimesh's own plane sections."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.measure.sections import Slicer, convex_perimeter, line_crossings


@pytest.mark.parametrize("normal", [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.3, -0.5, 0.8)])
def test_section_matches_trimesh_on_a_torus(normal: tuple[float, float, float]) -> None:
    torus = trimesh.creation.torus(major_radius=0.3, minor_radius=0.1, major_sections=96, minor_sections=48)
    origin = np.array([0.05, 0.02, 0.01])
    ours = Slicer(torus).section(origin, np.array(normal))
    theirs = torus.section(plane_origin=origin, plane_normal=normal)
    planar, _to_3d = theirs.to_2D()
    assert ours.loops == len(planar.polygons_closed)
    expected = sum(polygon.convex_hull.length for polygon in planar.polygons_full) if ours.loops == 1 else None
    if expected is not None:
        assert convex_perimeter(ours.points, np.array(normal)) == pytest.approx(expected, rel=1e-6)
    distances = (ours.points - origin) @ (np.array(normal) / np.linalg.norm(normal))
    assert np.abs(distances).max() < 1e-12


def test_convex_perimeter_of_a_sphere_section_is_its_circumference() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.1)
    section = Slicer(sphere).horizontal(0.06)
    radius = np.sqrt(0.1**2 - 0.06**2)
    assert convex_perimeter(section.points, np.array([0.0, 0.0, 1.0])) == pytest.approx(2 * np.pi * radius, rel=2e-3)


def test_line_crossings_read_a_box_outline() -> None:
    box = trimesh.creation.box(extents=(0.2, 0.1, 0.05))
    section = Slicer(box).section(np.zeros(3), np.array([1.0, 0.0, 0.0]))
    crossings = line_crossings(section, np.array([0.0, 1.0, 0.0]), 0.01)
    assert sorted(np.round(crossings[:, 2], 6)) == [-0.025, 0.025]


def test_a_plane_that_misses_the_mesh_gives_an_empty_section() -> None:
    box = trimesh.creation.box(extents=(0.2, 0.1, 0.05))
    section = Slicer(box).horizontal(1.0)
    assert section.is_empty() and section.loops == 0


def test_repeated_sections_through_the_axis_index_match_a_full_scan() -> None:
    torus = trimesh.creation.torus(major_radius=0.3, minor_radius=0.1, major_sections=64, minor_sections=32)
    indexed = Slicer(torus)
    for height in np.linspace(-0.095, 0.095, 12):
        got = indexed.horizontal(height)
        expected = Slicer(torus).horizontal(height)  # a fresh slicer scans every face
        np.testing.assert_allclose(np.sort(got.points, axis=0), np.sort(expected.points, axis=0), atol=1e-12)
        assert got.loops == expected.loops == 2


def _cylinder(radius: float, noise: float, rng: np.random.Generator) -> trimesh.Trimesh:
    cylinder = trimesh.creation.cylinder(radius=radius, height=0.4, sections=256)
    cylinder = cylinder.subdivide().subdivide()
    side = np.abs(cylinder.vertices[:, 2]) < 0.199
    radial = cylinder.vertices[:, :2] / np.linalg.norm(cylinder.vertices[:, :2], axis=1, keepdims=True).clip(1e-9)
    cylinder.vertices[side, :2] += radial[side] * rng.normal(0.0, noise, size=(int(side.sum()), 1))
    return cylinder


def test_smoothing_keeps_a_clean_loop_and_takes_the_tape_off_noise_spikes(rng: np.random.Generator) -> None:
    up = np.array([0.0, 0.0, 1.0])
    truth = 2 * np.pi * 0.13
    clean = Slicer(_cylinder(0.13, 0.0, rng)).horizontal(0.01)
    assert convex_perimeter(clean.smoothed(0.005).points, up) == pytest.approx(truth, abs=0.001)
    noisy = Slicer(_cylinder(0.13, 0.002, rng)).horizontal(0.01)
    raw_error = convex_perimeter(noisy.points, up) - truth
    smoothed_error = convex_perimeter(noisy.smoothed(0.005).points, up) - truth
    assert raw_error > 0.004  # the hull rides on the outermost spikes
    assert abs(smoothed_error) < 0.5 * raw_error
