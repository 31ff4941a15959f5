"""The procedural feet are closed, realistic in size and shape, and repeat from their seed."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.population import make_foot
from scanning.population.foot import draw_foot_parameters


def test_feet_are_single_closed_outward_surfaces(feet: list[trimesh.Trimesh]) -> None:
    for foot in feet:
        assert foot.is_watertight and foot.is_winding_consistent
        assert foot.volume > 0
        assert len(foot.split(only_watertight=False)) == 1


def test_feet_sit_in_the_canonical_frame_at_their_drawn_size(feet: list[trimesh.Trimesh]) -> None:
    for foot in feet:
        truth = foot.metadata["omnifit_truth"]
        (x0, _y0, z0), (x1, _y1, z1) = foot.bounds * 1000.0
        assert abs(x0) < 0.5 and abs(z0) < 1e-6  # heel at the origin, sole on the floor
        assert x1 == pytest.approx(truth["length"], abs=0.5)
        assert z1 == pytest.approx(truth["cut_height"], abs=0.5)
        assert 220.0 <= truth["length"] <= 300.0
        assert 100.0 <= truth["cut_height"] <= 120.0


def test_drawn_proportions_span_adult_ranges() -> None:
    params = [draw_foot_parameters(seed) for seed in range(200)]
    lengths = np.array([p.length for p in params]) * 1000
    ratios = np.array([p.ball_width / p.length for p in params])
    arches = np.array([p.arch_raise for p in params]) * 1000
    assert lengths.min() < 230 and lengths.max() > 290
    assert ratios.min() < 0.36 and ratios.max() > 0.42  # narrow to wide
    assert arches.min() < 5 and arches.max() > 17  # flat to high arch


def _sole_height(foot: trimesh.Trimesh, x: float, y: float) -> float:
    """Height of the first surface an upward ray from below the floor meets at (x, y)."""
    hits, _rays, _faces = foot.ray.intersects_location([[x, y, -0.01]], [[0.0, 0.0, 1.0]])
    return float(hits[:, 2].min())


def test_under_surface_is_raised_on_the_medial_side_only(feet: list[trimesh.Trimesh]) -> None:
    for foot in feet:
        truth = foot.metadata["omnifit_truth"]
        medial = 1.0 if truth["side"] == "right" else -1.0
        x = 0.43 * truth["length"] / 1000.0
        y_edge = 0.15 * truth["ball_width"] / 1000.0
        medial_height = _sole_height(foot, x, medial * y_edge)
        lateral_height = _sole_height(foot, x, -medial * y_edge)
        assert lateral_height < 0.0005  # the lateral border rests on the floor
        assert medial_height > lateral_height + 0.5 * truth["arch_raise"] / 1000.0


def test_toes_are_separate_at_their_tips(feet: list[trimesh.Trimesh]) -> None:
    for foot in feet:
        length = foot.bounds[1, 0]
        section = foot.section(plane_origin=[0.94 * length, 0.0, 0.0], plane_normal=[1.0, 0.0, 0.0])
        planar, _to_3d = section.to_2D()
        assert len(planar.polygons_closed) >= 2


def test_the_heel_is_narrower_than_the_ball_and_the_ankle_rises_over_the_heel(feet: list[trimesh.Trimesh]) -> None:
    for foot in feet:
        length = foot.bounds[1, 0]
        vertices = foot.vertices
        heel = vertices[np.abs(vertices[:, 0] - 0.17 * length) < 0.003]
        ball = vertices[np.abs(vertices[:, 0] - 0.68 * length) < 0.003]
        assert np.ptp(heel[heel[:, 2] < 0.03, 1]) < 0.85 * np.ptp(ball[:, 1])
        top = vertices[vertices[:, 2] > 0.09]
        assert top[:, 0].max() < 0.45 * length


def test_same_seed_same_foot_and_left_mirrors_right() -> None:
    right = make_foot(3)
    again = make_foot(3)
    left = make_foot(3, side="left")
    np.testing.assert_array_equal(right.vertices, again.vertices)
    mirrored = right.bounds * np.array([1.0, -1.0, 1.0])
    np.testing.assert_allclose(np.sort(left.bounds[:, 1]), np.sort(mirrored[:, 1]), atol=1e-3)
    assert left.volume == pytest.approx(right.volume, rel=1e-3)


def test_unknown_side_is_refused() -> None:
    with pytest.raises(ValueError, match="side"):
        make_foot(1, side="middle")
