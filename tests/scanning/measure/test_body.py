"""Body measurements: known values on a generated body, invariance to position and heading,
MakeHuman's own figures on its meshes, SMPL templates as they come, clear errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from scanning.errors import ShapeKindError
from scanning.measure import canonicalize_body, measure_body
from scanning.mesh_utils import UP_ROTATION
from scanning.types import BODY_MEASUREMENT_NAMES
from tests.conftest import shared_path
from tests.scanning.measure.conftest import moved

MAKEHUMAN = {
    "body_makehuman_base.obj": "mh_base_body",
    "body_makehuman_male_young.obj": "mh_male_young_avg",
    "body_makehuman_female_young.obj": "mh_female_young_avg",
}


def test_generated_body_measures_to_its_construction_values(generated_body: trimesh.Trimesh) -> None:
    truth = generated_body.metadata["omnifit_truth"]
    got = measure_body(generated_body).to_mm_dict()
    assert got["height"] == pytest.approx(truth["height"], abs=1.0)
    for name in ("chest", "waist", "hip"):
        assert got[f"{name}_girth"] == pytest.approx(truth[f"{name}_girth"], abs=3.0), name
    assert got["inseam"] == pytest.approx(truth["crotch_height"], abs=10.0)
    assert 0.17 * truth["height"] < got["shoulder_width"] < 0.26 * truth["height"]
    assert 0.28 * truth["height"] < got["arm_length"] < 0.40 * truth["height"]


@pytest.mark.slow
@pytest.mark.parametrize("up", ["z", "y"])
def test_measurements_do_not_depend_on_position_or_heading(generated_body: trimesh.Trimesh, rng: np.random.Generator, up: str) -> None:
    reference = measure_body(generated_body).to_mm_dict()
    got = measure_body(moved(generated_body, rng, up=up), up=up).to_mm_dict()
    for name in BODY_MEASUREMENT_NAMES:
        assert got[name] == pytest.approx(reference[name], abs=2.0), name


def test_canonical_body_faces_forward(generated_body: trimesh.Trimesh, rng: np.random.Generator) -> None:
    canonical, transform = canonicalize_body(moved(generated_body, rng, up="y"), up="y")
    feet = canonical.vertices[canonical.vertices[:, 2] < 0.03]
    assert feet[:, 1].max() > 2.0 * -feet[:, 1].min()  # toes ahead (+y), heels just behind
    assert np.linalg.det(transform[:3, :3]) == pytest.approx(1.0)  # a rotation, never a mirror


def test_a_body_said_to_be_canonical_measures_the_same(generated_body: trimesh.Trimesh, rng: np.random.Generator) -> None:
    """The scan's body comes canonical and is not canonicalised again; a mesh wrongly said to be
    canonical (feet off z = 0) is canonicalised all the same."""
    canonical, _ = canonicalize_body(moved(generated_body, rng))
    reference = measure_body(canonical).to_mm_dict()
    assert measure_body(canonical, canonical=True).to_mm_dict() == pytest.approx(reference, abs=1e-6)
    got = measure_body(moved(generated_body, rng), canonical=True).to_mm_dict()
    for name in BODY_MEASUREMENT_NAMES:
        assert got[name] == pytest.approx(reference[name], abs=2.0), name


def _load_makehuman(name: str) -> tuple[trimesh.Trimesh, dict[str, float]]:
    mesh = trimesh.load(shared_path("acceptance", "meshes", name), force="mesh")
    figures = json.loads(shared_path("acceptance", "meshes", "makehuman_measurements.json").read_text())
    return mesh, figures[MAKEHUMAN[name]]


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(MAKEHUMAN))
def test_makehuman_bodies_against_makehumans_own_figures(name: str) -> None:
    mesh, figures = _load_makehuman(name)
    got = measure_body(mesh, up="y").to_mm_dict()
    assert got["height"] == pytest.approx(figures["height_bbox_cm"] * 10, abs=2.0)
    # MakeHuman's loops are vertex polylines, not horizontal tape sections (its README):
    # bust and hips agree within a couple of centimetres; its waist loop sits lower than
    # the narrowest level we measure, so ours may only be smaller.
    assert got["chest_girth"] == pytest.approx(figures["bust-circ"] * 10, abs=25.0)
    assert got["hip_girth"] == pytest.approx(figures["hips-circ"] * 10, abs=20.0)
    assert got["waist_girth"] <= figures["waist-circ"] * 10 + 10.0
    arm = (figures["upperarm-length"] + figures["lowerarm-length"]) * 10
    assert got["arm_length"] == pytest.approx(arm, rel=0.3)


@pytest.mark.shared_data
@pytest.mark.slow
def test_makehuman_body_moved_measures_the_same(rng: np.random.Generator) -> None:
    mesh, _figures = _load_makehuman("body_makehuman_male_young.obj")
    reference = measure_body(mesh, up="y").to_mm_dict()
    z_up = trimesh.Trimesh(mesh.vertices @ UP_ROTATION["y"].T, mesh.faces, process=False)
    got = measure_body(moved(z_up, rng, up="x"), up="x").to_mm_dict()
    for name in BODY_MEASUREMENT_NAMES:
        assert got[name] == pytest.approx(reference[name], abs=2.0), name
    scaled = measure_body(moved(z_up, rng, up="y", scale=0.97), up="y").to_mm_dict()
    for name in BODY_MEASUREMENT_NAMES:
        assert scaled[name] == pytest.approx(0.97 * reference[name], abs=2.0 + 0.005 * reference[name]), name


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "height_cm"), [("body_smpl_male_template.obj", 179.11), ("body_smpl_female_template.obj", 165.84)])
def test_smpl_templates_as_they_come(name: str, height_cm: float) -> None:
    mesh = trimesh.load(shared_path("acceptance", "meshes", name), force="mesh")
    got = measure_body(mesh, up="y").to_mm_dict()
    assert got["height"] == pytest.approx(height_cm * 10, abs=2.0)
    assert got["waist_girth"] < got["hip_girth"]
    assert 0.40 * got["height"] < got["inseam"] < 0.50 * got["height"]
    # raised arms: the armpit fold must not be taken for chest or shoulders
    assert 0.18 * got["height"] < got["shoulder_width"] < 0.24 * got["height"]
    assert got["chest_girth"] < 1.0 * got["hip_girth"]
    assert 0.28 * got["height"] < got["arm_length"] < 0.40 * got["height"]


def test_foot_sized_shape_is_not_a_body(generated_body: trimesh.Trimesh) -> None:
    small = trimesh.Trimesh(generated_body.vertices * 0.15, generated_body.faces, process=False)
    with pytest.raises(ShapeKindError, match="not a standing body"):
        measure_body(small)
