"""Armpits on scans: the slit a scan closes under a hanging arm is neither the armpit nor a fold.

A scan cannot see into the narrow slit between a hanging arm and the torso just below the
armpit, and fusion counts unseen space as solid: the arm then seems to join the torso lower,
by a web thinner than the arm, and that web widened the torso's edge like a T-pose's armpit
fold. The armpit (and the chest window and shoulder points hung on it) read 10-30 mm low.
"""
from __future__ import annotations

import numpy as np
import pytest
import shapely
import trimesh

from scanning.measure import body as body_module
from scanning.measure import canonicalize_body, measure_body
from scanning.measure.sections import Slicer
from scanning.pipeline import load_subject, scan, synthetic_source
from scanning.population import make_body
from tests.conftest import shared_path

STATURE = 1.7


def _prism(web_depth_m: float) -> trimesh.Trimesh:
    """A 40 mm tall prism whose cross-section is a torso ellipse (300 x 200 mm), an arm disc
    (80 mm) beside it at x = 0.21 m, and a web ``web_depth_m`` deep (y) joining the two."""
    torso = shapely.affinity.scale(shapely.Point(0.0, 0.0).buffer(1.0, quad_segs=64), 0.15, 0.10)
    arm = shapely.Point(0.21, 0.0).buffer(0.04, quad_segs=32)
    shape = torso.union(arm)
    if web_depth_m > 0:
        shape = shape.union(shapely.box(0.10, -web_depth_m / 2, 0.20, web_depth_m / 2))
    return trimesh.creation.extrude_polygon(shape, 0.04)


def test_a_thin_web_does_not_join_the_arm_to_the_torso() -> None:
    radius_m = body_module.BRIDGE_RADIUS * STATURE
    thin = Slicer(_prism(web_depth_m=radius_m))  # half the opening's width: a scan's closed slit
    assert body_module._torso_edge(thin, 0.02, 1.0) == pytest.approx(0.25, abs=1e-3)  # the plain loop: arm and all
    assert body_module._opened_torso_edge(thin, 0.02, 1.0, STATURE) == pytest.approx(0.15, abs=2e-3)
    # a join as deep as most of the arm is a join: the edge is the arm's outer side
    deep = Slicer(_prism(web_depth_m=0.07))
    assert body_module._opened_torso_edge(deep, 0.02, 1.0, STATURE) == pytest.approx(0.25, abs=2e-3)
    # nothing to cut: the torso's own rounded side is kept to the millimetre
    alone = Slicer(trimesh.creation.extrude_polygon(
        shapely.affinity.scale(shapely.Point(0.0, 0.0).buffer(1.0, quad_segs=64), 0.15, 0.10), 0.04))
    assert body_module._opened_torso_edge(alone, 0.02, -1.0, STATURE) == pytest.approx(0.15, abs=1e-3)


def test_hanging_arms_are_told_from_raised_ones() -> None:
    body, _ = canonicalize_body(make_body(4))
    slicer = Slicer(body)
    stature = float(body.vertices[:, 2].max())
    right, left = body_module._find_axillae(slicer, stature)
    below = body_module.FOLD_MAX_DEPTH * stature
    assert body_module._arm_hangs_beside(slicer, right.height - below, 1.0, stature)
    assert body_module._arm_hangs_beside(slicer, left.height - below, -1.0, stature)
    # the arms cut away beside the torso: nothing hangs there any more
    armless = body.slice_plane([right.edge_x + 0.005, 0.0, 0.0], [-1.0, 0.0, 0.0], cap=True)
    armless = armless.slice_plane([-left.edge_x - 0.005, 0.0, 0.0], [1.0, 0.0, 0.0], cap=True)
    torso_only = Slicer(armless)
    assert not body_module._arm_hangs_beside(torso_only, right.height - below, 1.0, stature)
    assert not body_module._arm_hangs_beside(torso_only, left.height - below, -1.0, stature)


@pytest.mark.shared_data
def test_t_posed_arms_still_get_their_fold() -> None:
    mesh = load_subject(shared_path("acceptance", "meshes", "body_smpl_female_template.obj"), "body", up="y")
    slicer = Slicer(mesh)
    stature = float(mesh.vertices[:, 2].max())
    right, left = body_module._find_axillae(slicer, stature)
    for axilla, side in ((right, 1.0), (left, -1.0)):
        assert not body_module._arm_hangs_beside(slicer, axilla.height - body_module.FOLD_MAX_DEPTH * stature,
                                                 side, stature)
        assert axilla.height < 0.75 * stature  # the bottom of the fold, not where the raised arm leaves
    assert 0.18 * stature < measure_body(mesh).shoulder_width_mm / 1000 < 0.24 * stature


def _scanned(subject: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    return scan(synthetic_source(subject, "body", seed=seed), "body", seed=0).reconstruction.parts["body"]


@pytest.mark.slow
def test_scanned_armpits_sit_where_the_clean_bodys_do() -> None:
    """Seed 17 closed the right arm's slit 30 mm up (armpit 1323 mm against 1353 mm)."""
    subject, _ = canonicalize_body(make_body(0))
    scanned = _scanned(subject, seed=17)
    clean = [a.height for a in body_module._find_axillae(Slicer(subject), float(subject.vertices[:, 2].max()))]
    got = [a.height for a in body_module._find_axillae(Slicer(scanned), float(scanned.vertices[:, 2].max()))]
    assert np.abs(np.subtract(got, clean)).max() < 0.010
    assert measure_body(scanned, canonical=True).chest_girth_mm == pytest.approx(
        measure_body(subject).chest_girth_mm, abs=5.0)


@pytest.mark.slow
@pytest.mark.shared_data
def test_scanned_makehuman_chest_keeps_its_bust() -> None:
    """The MakeHuman woman's bust lies 35 mm under her armpits: with the armpits read 25-30 mm
    low the chest window missed it (chest 26-46 mm short over three noise seeds)."""
    path = shared_path("acceptance", "meshes", "body_makehuman_female_young.obj")
    subject = load_subject(path, "body", up="y")
    clean = measure_body(subject)
    for seed in (17, 19):
        scanned = measure_body(_scanned(subject, seed), canonical=True)
        assert scanned.chest_girth_mm == pytest.approx(clean.chest_girth_mm, abs=15.0), seed
        assert scanned.shoulder_width_mm == pytest.approx(clean.shoulder_width_mm, abs=20.0), seed
