"""The procedural bodies are closed, stand on the floor facing +y, and carry their true girths."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.population.body import draw_body_parameters, ellipse_perimeter


def test_bodies_are_single_closed_outward_surfaces(bodies: list[trimesh.Trimesh]) -> None:
    for body in bodies:
        assert body.is_watertight and body.is_winding_consistent
        assert body.volume > 0
        assert len(body.split(only_watertight=False)) == 1


def test_bodies_stand_on_the_floor_at_their_drawn_height(bodies: list[trimesh.Trimesh]) -> None:
    for body in bodies:
        truth = body.metadata["omnifit_truth"]
        assert body.bounds[0, 2] == pytest.approx(0.0, abs=1e-9)
        assert body.bounds[1, 2] * 1000 == pytest.approx(truth["height"], abs=1.0)


def test_feet_point_forward_and_arms_hang_clear_of_the_chest(bodies: list[trimesh.Trimesh]) -> None:
    for body in bodies:
        truth = body.metadata["omnifit_truth"]
        height = truth["height"] / 1000.0
        feet = body.vertices[body.vertices[:, 2] < 0.02 * height]
        assert feet[:, 1].max() > 2.0 * -feet[:, 1].min()  # toes reach much further forward than heels back
        chest = body.section(plane_origin=[0, 0, truth["chest_level"] / 1000.0], plane_normal=[0, 0, 1])
        planar, _to_3d = chest.to_2D()
        assert len(planar.polygons_closed) == 3  # torso and two arms


def test_torso_sections_at_the_landmark_levels_have_the_recorded_girths(bodies: list[trimesh.Trimesh]) -> None:
    for body in bodies:
        truth = body.metadata["omnifit_truth"]
        for name in ("chest", "waist", "hip"):
            section = body.section(plane_origin=[0, 0, truth[f"{name}_level"] / 1000.0], plane_normal=[0, 0, 1])
            planar, _to_3d = section.to_2D()
            torso = max(planar.polygons_full, key=lambda polygon: polygon.area)
            assert torso.convex_hull.length * 1000 == pytest.approx(truth[f"{name}_girth"], abs=4.0)


def test_drawn_bodies_span_adult_heights_and_builds() -> None:
    params = [draw_body_parameters(seed) for seed in range(200)]
    heights = np.array([p.height for p in params])
    assert heights.min() < 1.55 and heights.max() > 1.90
    assert min(p.weight for p in params) < 0.92 and max(p.weight for p in params) > 1.18


def test_ellipse_perimeter_matches_known_values() -> None:
    assert ellipse_perimeter(1.0, 1.0) == pytest.approx(2 * np.pi)
    assert ellipse_perimeter(1.0, 0.5) == pytest.approx(4.844224110273838, rel=1e-9)
