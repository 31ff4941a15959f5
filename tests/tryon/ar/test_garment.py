"""Garments land on the torso between shoulders and hips; arms in front stay in front."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from scanning.sources.frame import Intrinsics
from tests.conftest import REPO_ROOT
from tests.tryon.ar.conftest import TOP_PNG, changed_pixels
from tryon.ar import GarmentTryOn, ModelLoadError, load_garment
from tryon.ar.composite import composite_patch
from tryon.ar.garment import part_transform
from tryon.ar.landmarks import LEFT_HIP, LEFT_SHOULDER, LEFT_WRIST, RIGHT_HIP, RIGHT_SHOULDER, RIGHT_WRIST


def _wear(observe, photo: str, garment_png):
    image, observation = observe(photo)
    camera = Intrinsics.from_fov(image.shape[1], image.shape[0])
    layer = GarmentTryOn(load_garment(garment_png)).render(observation, camera)
    out = image.copy()
    if layer is not None:
        composite_patch(out, layer.rgba, layer.x0, layer.y0)
    return image, out, observation


@pytest.mark.shared_data
@pytest.mark.parametrize("photo", ["yogait_standing_front.jpg", "yogait_t_pose.jpg", "mpsamples_business_woman_upper.png"])
def test_top_centroid_lies_in_the_shoulder_hip_quad(observe, photo):
    image, out, observation = _wear(observe, photo, TOP_PNG)
    changed = changed_pixels(image, out)
    quad = observation.pixels[[RIGHT_SHOULDER, LEFT_SHOULDER, LEFT_HIP, RIGHT_HIP]].astype(np.float32)
    assert len(changed) > 0.3 * cv2.contourArea(quad)
    centroid = changed.mean(axis=0)
    assert cv2.pointPolygonTest(quad, (float(centroid[0]), float(centroid[1])), False) > 0


@pytest.mark.shared_data
@pytest.mark.parametrize("photo", ["yogait_standing_front.jpg", "yogait_t_pose.jpg"])
def test_sleeveless_top_stays_mostly_on_the_torso(observe, photo):
    # The garment's outline lies a little outside the shoulder and hip joints, so not all of it.
    image, out, observation = _wear(observe, photo, REPO_ROOT / "assets" / "garments" / "qy-rib-w.png")
    changed = changed_pixels(image, out)
    quad = observation.pixels[[RIGHT_SHOULDER, LEFT_SHOULDER, LEFT_HIP, RIGHT_HIP]].astype(np.float32)
    inside = np.array([cv2.pointPolygonTest(quad, (float(x), float(y)), False) >= 0 for x, y in changed[::20]])
    assert inside.mean() > 0.6


@pytest.mark.shared_data
def test_crossed_arms_stay_in_front_of_a_sleeveless_top(observe):
    # Arms crossed over the chest: the hands and forearms must not be painted over.
    image, out, observation = _wear(observe, "mpsamples_business_woman_upper.png",
                                    REPO_ROOT / "assets" / "garments" / "qy-rib-w.png")
    assert len(changed_pixels(image, out)) > 1000
    for wrist in (LEFT_WRIST, RIGHT_WRIST):
        x, y = np.round(observation.pixels[wrist]).astype(int)
        patch_before, patch_after = image[y - 3:y + 4, x - 3:x + 4], out[y - 3:y + 4, x - 3:x + 4]
        assert np.abs(patch_before.astype(int) - patch_after.astype(int)).max() <= 12


@pytest.mark.shared_data
def test_bottoms_land_between_hips_and_ankles(observe):
    image, out, observation = _wear(observe, "yogait_standing_front.jpg", REPO_ROOT / "assets" / "garments" / "fl-straight-m.png")
    changed = changed_pixels(image, out)
    hips_y = observation.pixels[[LEFT_HIP, RIGHT_HIP], 1].mean()
    assert len(changed) > 2000
    assert np.percentile(changed[:, 1], 5) > hips_y - 0.1 * image.shape[0]
    assert changed[:, 1].mean() > hips_y


def test_similarity_and_homography_hit_their_anchors(rng):
    src2, dst2 = rng.uniform(0, 300, (2, 2)), rng.uniform(0, 300, (2, 2))
    matrix = part_transform(src2, dst2)
    mapped = (matrix @ np.hstack([src2, np.ones((2, 1))]).T).T
    np.testing.assert_allclose(mapped[:, :2] / mapped[:, 2:], dst2, atol=1e-6)
    src4 = np.array([[0, 0], [100, 0], [100, 200], [0, 200]], float)
    dst4 = np.array([[10, 20], [130, 25], [120, 240], [5, 230]], float)
    mapped = (part_transform(src4, dst4) @ np.hstack([src4, np.ones((4, 1))]).T).T
    np.testing.assert_allclose(mapped[:, :2] / mapped[:, 2:], dst4, atol=1e-3)
    assert part_transform(src4, np.zeros((4, 2))) is None


def test_garment_without_sidecar_or_with_bad_parts_is_refused(tmp_path):
    png = tmp_path / "tee.png"
    cv2.imwrite(str(png), np.zeros((20, 20, 4), np.uint8))
    with pytest.raises(ModelLoadError, match="sidecar missing"):
        load_garment(png)
    png.with_suffix(".json").write_text(json.dumps({"anchors": {"neck": [1, 1]}, "parts": [
        {"name": "torso", "polygon": [[0, 0], [5, 0], [5, 5]], "anchors": ["neck", "neck"]}]}))
    with pytest.raises(ModelLoadError, match="anchors"):
        load_garment(png)
    with pytest.raises(ModelLoadError, match="not found"):
        load_garment(tmp_path / "missing.png")


def test_width_pair_scales_across_the_segment_only():
    src, dst = np.array([[0.0, 0.0], [0.0, 100.0]]), np.array([[10.0, 10.0], [10.0, 60.0]])
    matrix = part_transform(src, dst, width_scale=2.0)
    across = matrix[:2, :2] @ np.array([1.0, 0.0])
    along = matrix[:2, :2] @ np.array([0.0, 1.0])
    np.testing.assert_allclose(np.abs(across), [2.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(along, [0.0, 0.5], atol=1e-9)
