"""Shoes land on the tracked feet of real people, and only there."""
from __future__ import annotations

import numpy as np
import pytest

from scanning.sources.frame import Intrinsics
from tests.tryon.ar.conftest import changed_pixels
from tryon.ar import ShoeTryOn
from tryon.ar.composite import composite_patch
from tryon.ar.landmarks import FOOT
from tryon.ar.pose import estimate_foot_poses

pytestmark = pytest.mark.shared_data

PHOTOS = ["yogait_standing_front.jpg", "yogait_t_pose.jpg", "mpsamples_woman_sitting.jpg", "yogait_side_bend.jpg"]


def _try_on(observe, name, shoe_model, renderer):
    image, observation = observe(name)
    camera = Intrinsics.from_fov(image.shape[1], image.shape[0])
    layer = ShoeTryOn(shoe_model, renderer).render(observation, camera)
    out = image.copy()
    if layer is not None:
        composite_patch(out, layer.rgba, layer.x0, layer.y0)
    return image, out, observation


@pytest.mark.parametrize("name", PHOTOS)
def test_overlay_covers_each_foot_and_stays_near_the_feet(observe, shoe_model, renderer, name):
    image, out, observation = _try_on(observe, name, shoe_model, renderer)
    changed = changed_pixels(image, out)
    assert len(changed) > 200
    feet = [observation.pixels[list(FOOT[side])] for side in observation.feet]
    foot_size = max(np.linalg.norm(f[2] - f[1]) for f in feet) + max(np.linalg.norm(f[0] - f[1]) for f in feet)
    landmarks = np.vstack(feet)
    # Every changed pixel is within about a foot of some foot landmark ...
    nearest = np.min(np.linalg.norm(changed[:, None, :] - landmarks[None], axis=2), axis=1)
    assert np.percentile(nearest, 99) < 1.5 * foot_size
    # ... and each heel and toe has overlay within a few pixels.
    for foot in feet:
        for point in foot[1:]:
            assert np.min(np.linalg.norm(changed - point, axis=1)) < 0.1 * foot_size + 3


def test_shoe_heel_and_toe_sit_on_their_pixels(observe):
    image, observation = observe("yogait_standing_front.jpg")
    camera = Intrinsics.from_fov(image.shape[1], image.shape[0])
    for foot in estimate_foot_poses(observation.pixels, observation.world, observation.visibility, camera, observation.feet):
        ankle, heel, toe = FOOT[foot.side]
        projected = camera.project(np.array([foot.heel, foot.toe]))
        np.testing.assert_allclose(projected, observation.pixels[[heel, toe]], atol=0.5)
        assert 0.18 * 0.8 <= foot.length_m <= 0.32 * 1.2
        # "up" points from the heel towards the ankle, and the frame is orthonormal
        assert foot.rotation[:, 1] @ (foot.ankle - foot.heel) > 0
        np.testing.assert_allclose(foot.rotation.T @ foot.rotation, np.eye(3), atol=1e-9)


def test_no_feet_no_overlay(observe, shoe_model, renderer):
    image, out, observation = _try_on(observe, "mpsamples_business_woman_upper.png", shoe_model, renderer)
    assert observation.tracking and observation.feet == ()
    assert len(changed_pixels(image, out)) == 0


def test_leg_occluder_hides_the_back_of_the_shoe(observe, shoe_model, renderer):
    image, observation = observe("yogait_standing_front.jpg")
    camera = Intrinsics.from_fov(image.shape[1], image.shape[0])
    tryon = ShoeTryOn(shoe_model, renderer)
    instances, occluders = tryon.scene(observation, camera)
    hidden = renderer.render(instances, camera, occluders)
    full = renderer.render(instances, camera, [])
    assert (hidden.x0, hidden.y0) == (full.x0, full.y0)
    assert (hidden.rgba[..., 3] > 0).sum() < (full.rgba[..., 3] > 0).sum()
