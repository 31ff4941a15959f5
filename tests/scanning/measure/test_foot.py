"""Foot measurements: known values on generated feet, invariance to position and heading,
scaling, the real Aetrex scans as they come, and clear errors for meshes that are not feet."""
from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from scanning.errors import MeshError, ShapeKindError
from scanning.measure import canonicalize_foot, measure_foot
from scanning.types import FOOT_MEASUREMENT_NAMES
from tests.conftest import shared_path
from tests.scanning.measure.conftest import moved

AETREX = ("foot_aetrex_scan_left_us10p5.stl", "foot_aetrex_size10p5_mean_minus_2sd.stl")


def test_generated_feet_measure_to_their_construction_values(generated_feet: list[trimesh.Trimesh]) -> None:
    for foot in generated_feet:
        truth = foot.metadata["omnifit_truth"]
        got = measure_foot(foot).to_mm_dict()
        assert got["length"] == pytest.approx(truth["length"], abs=1.0)
        assert got["width"] == pytest.approx(truth["ball_points_distance"], abs=1.5)
        assert got["instep_height"] == pytest.approx(truth["instep_height"], abs=1.0)
        # the medial line runs inside the edge, where the carved arch is a little lower than its crown
        assert 0.7 * truth["arch_raise"] <= got["arch_height"] <= truth["arch_raise"] + 0.5


def test_foot_girths_and_heights_are_consistent(generated_feet: list[trimesh.Trimesh]) -> None:
    for foot in generated_feet:
        got = measure_foot(foot).to_mm_dict()
        assert got["ball_girth"] > 2.0 * got["width"]
        assert got["instep_girth"] > 2.0 * got["instep_height"]
        assert got["heel_width"] < got["width"]
        assert 10.0 < got["toe_height"] < got["instep_height"]


@pytest.mark.parametrize("up", ["z", "y", "x"])
def test_measurements_do_not_depend_on_position_or_heading(
    generated_feet: list[trimesh.Trimesh], rng: np.random.Generator, up: str
) -> None:
    foot = generated_feet[1]
    reference = measure_foot(foot).to_mm_dict()
    got = measure_foot(moved(foot, rng, up=up), up=up).to_mm_dict()
    for name in FOOT_MEASUREMENT_NAMES:
        assert got[name] == pytest.approx(reference[name], abs=1.0), name


def test_scaled_foot_measures_scaled(generated_feet: list[trimesh.Trimesh], rng: np.random.Generator) -> None:
    foot = generated_feet[0]
    reference = measure_foot(foot).to_mm_dict()
    got = measure_foot(moved(foot, rng, scale=1.04)).to_mm_dict()
    for name in FOOT_MEASUREMENT_NAMES:
        assert got[name] == pytest.approx(1.04 * reference[name], abs=1.0 + 0.01 * reference[name]), name


def test_a_foot_said_to_be_canonical_measures_the_same(generated_feet: list[trimesh.Trimesh], rng: np.random.Generator) -> None:
    """The scan's parts come canonical and are not canonicalised again; a mesh wrongly said to be
    canonical (heel and sole off the origin) is canonicalised all the same."""
    foot = generated_feet[1]
    reference = measure_foot(foot).to_mm_dict()
    canonical, _ = canonicalize_foot(moved(foot, rng))
    assert measure_foot(canonical, canonical=True).to_mm_dict() == pytest.approx(measure_foot(canonical).to_mm_dict(), abs=1e-6)
    got = measure_foot(moved(foot, rng), canonical=True).to_mm_dict()
    for name in FOOT_MEASUREMENT_NAMES:
        assert got[name] == pytest.approx(reference[name], abs=1.0), name


def test_units_scale_the_file_to_metres(generated_feet: list[trimesh.Trimesh]) -> None:
    foot = generated_feet[2]
    in_mm = trimesh.Trimesh(foot.vertices * 1000.0, foot.faces, process=False)
    assert measure_foot(in_mm, units="mm").to_mm_dict() == pytest.approx(measure_foot(foot).to_mm_dict(), abs=1e-6)


def test_canonical_frame_puts_heel_at_origin_and_transform_reproduces_it(
    generated_feet: list[trimesh.Trimesh], rng: np.random.Generator
) -> None:
    placed = moved(generated_feet[0], rng, up="y")
    canonical, transform = canonicalize_foot(placed, up="y")
    assert canonical.bounds[0, 0] == pytest.approx(0.0, abs=1e-9)
    assert canonical.bounds[0, 2] == pytest.approx(0.0, abs=1e-9)
    assert canonical.bounds[1, 2] > 0.09  # the ankle stands up: z is up again
    np.testing.assert_allclose(trimesh.transform_points(placed.vertices, transform), canonical.vertices, atol=1e-9)
    np.testing.assert_allclose(canonical.extents, generated_feet[0].extents, atol=0.002)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", AETREX)
def test_real_aetrex_feet_as_they_come(name: str, rng: np.random.Generator) -> None:
    mesh = trimesh.load(shared_path("acceptance", "meshes", name), force="mesh")
    got = measure_foot(mesh, units="mm").to_mm_dict()
    extents = mesh.extents  # x medial-lateral, y heel to toe, z up (the README's axes)
    assert got["length"] == pytest.approx(extents[1], abs=3.0)
    assert 0.85 * extents[0] <= got["width"] <= extents[0] + 1.0
    assert 200.0 < got["ball_girth"] < 300.0 and 200.0 < got["instep_girth"] < 300.0
    assert got["instep_height"] < extents[2] and 0.0 <= got["arch_height"] < 30.0
    again = measure_foot(moved(mesh, rng, up="y", scale=1.0), up="y", units="mm").to_mm_dict()
    for key in FOOT_MEASUREMENT_NAMES:
        assert again[key] == pytest.approx(got[key], abs=1.0), key


def test_empty_mesh_is_refused() -> None:
    with pytest.raises(MeshError, match="empty"):
        measure_foot(trimesh.Trimesh())


def test_open_mesh_is_refused(generated_feet: list[trimesh.Trimesh]) -> None:
    foot = generated_feet[0]
    holed = trimesh.Trimesh(foot.vertices, foot.faces[10:], process=False)
    with pytest.raises(MeshError, match="not watertight"):
        measure_foot(holed)


def test_body_sized_shape_is_not_a_foot(generated_body: trimesh.Trimesh) -> None:
    with pytest.raises(ShapeKindError, match="not a foot"):
        measure_foot(generated_body)


def test_wrong_units_are_caught_as_a_size_error(generated_feet: list[trimesh.Trimesh]) -> None:
    with pytest.raises(ShapeKindError, match="mm long"):
        measure_foot(generated_feet[0], units="mm")


@pytest.mark.parametrize(("option", "value"), [("up", "w"), ("units", "inch")])
def test_bad_options_are_refused(generated_feet: list[trimesh.Trimesh], option: str, value: str) -> None:
    with pytest.raises(MeshError, match=option):
        measure_foot(generated_feet[0], **{option: value})


def test_measurements_serialise_to_the_report_keys(generated_feet: list[trimesh.Trimesh]) -> None:
    values = measure_foot(generated_feet[0]).to_mm_dict()
    assert tuple(values) == FOOT_MEASUREMENT_NAMES
    assert json.loads(json.dumps(values)) == values


def test_a_foot_on_its_side_is_caught_by_its_missing_sole(generated_feet: list[trimesh.Trimesh]) -> None:
    with pytest.raises(ShapeKindError, match="check --up"):
        measure_foot(generated_feet[0], up="y")


def test_a_mirrored_foot_measures_the_same(generated_feet: list[trimesh.Trimesh]) -> None:
    """The medial side is found from the shape, so a left foot reads like its right twin."""
    foot = generated_feet[0]
    mirrored = trimesh.Trimesh(foot.vertices * np.array([1.0, -1.0, 1.0]), foot.faces[:, ::-1], process=False)
    got, reference = measure_foot(mirrored).to_mm_dict(), measure_foot(foot).to_mm_dict()
    for name in FOOT_MEASUREMENT_NAMES:
        assert got[name] == pytest.approx(reference[name], abs=0.05), name


def test_ball_points_hold_still_when_the_surface_is_noisy(generated_feet: list[trimesh.Trimesh]) -> None:
    """Scan-like noise (0.3 mm along the normals) must not move the ball line: the width and
    ball girth of three noise draws agree within half a millimetre (single widest vertices as
    ball points spread 0.5-0.9 mm in width and 1.8-3.6 mm in ball girth on these feet)."""
    for foot in (generated_feet[0], generated_feet[2]):
        draws = []
        for seed in range(3):
            noise = np.random.default_rng(seed).normal(0.0, 0.0003, len(foot.vertices))
            noisy = trimesh.Trimesh(foot.vertices + foot.vertex_normals * noise[:, None], foot.faces, process=False)
            draws.append(measure_foot(noisy).to_mm_dict())
        for name in ("width", "ball_girth"):
            values = [draw[name] for draw in draws]
            assert np.ptp(values) < 0.5, (name, values)
