"""What makes the drawn shoe believable: the real PBR model and its maps, the frame's light,
the old shoe taken out, the sole on the floor, and the catalog's sneakers on the real model."""
from __future__ import annotations

import functools

import cv2
import moderngl
import numpy as np
import pytest

from scanning.sources.frame import Intrinsics
from tests.conftest import shared_path
from tryon.ar import BodyTracker, ShoeTryOn, load_shoe_model
from tryon.ar import landmarks as lm
from tryon.ar.catalog import asset_for_sku, shoe_asset_for_sku
from tryon.ar.lighting import SceneLight, estimate_light
from tryon.ar.removal import old_shoe_masks
from tryon.ar.render import ShoeInstance

REAL = ("data", "shoes", "MaterialsVariantsShoe", "glTF", "MaterialsVariantsShoe.gltf")
CAMERA = Intrinsics.from_fov(320, 240, 60.0)


@functools.cache
def _photo(name: str):
    image = cv2.imread(str(shared_path("data", "people", name)))
    with BodyTracker(static_image_mode=True) as tracker:
        return image, tracker.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 0.0)


def _front_view(model) -> ShoeInstance:
    pose = np.eye(4)
    pose[:3, :3] = [[1, 0, 0], [0, -1, 0], [0, 0, -1]]  # long axis to the right, Y up, seen from its side
    pose[:3, 3] = [-model.length_m / 2, 0.05, 0.6]
    return ShoeInstance(model, pose)


@pytest.mark.shared_data
def test_real_shoe_has_its_normal_and_orm_maps_and_they_shade_it(renderer):
    model = load_shoe_model(shared_path(*REAL))
    part = model.parts[0]
    assert part.normal_map is not None and part.orm is not None and part.occlusion_in_orm
    with_maps = renderer.render([_front_view(model)], CAMERA).rgba
    flat_model = type(model)(model.name, tuple(type(p)(p.positions, p.normals, p.uvs, p.colors, p.indices, p.texture)
                                               for p in model.parts), model.length_m, model.width_m, model.height_m)
    flat = renderer.render([_front_view(flat_model)], CAMERA).rgba
    seen = (with_maps[..., 3] > 0) & (flat[..., 3] > 0)
    assert seen.sum() > 2000
    difference = np.abs(with_maps[..., :3].astype(int) - flat[..., :3].astype(int)).max(axis=2)[seen]
    assert np.median(difference) >= 3  # the bumps and the occlusion change most pixels


@pytest.mark.shared_data
def test_a_dim_room_gives_a_darker_shoe_and_a_warm_light_a_warmer_one(renderer):
    model = load_shoe_model(shared_path(*REAL))
    bright, dim = np.full((120, 160, 3), 200, np.uint8), np.full((120, 160, 3), 40, np.uint8)
    warm = bright.copy()
    warm[..., 0] = 90  # BGR: little blue
    layers = {name: renderer.render([_front_view(model)], CAMERA, light=estimate_light(frame)).rgba
              for name, frame in (("bright", bright), ("dim", dim), ("warm", warm))}
    seen = layers["bright"][..., 3] > 0
    assert layers["dim"][seen, :3].mean() < 0.7 * layers["bright"][seen, :3].mean()
    red_over_blue = {n: layers[n][seen, 0].mean() / max(layers[n][seen, 2].mean(), 1) for n in ("bright", "warm")}
    assert red_over_blue["warm"] > 1.1 * red_over_blue["bright"]
    assert np.allclose(SceneLight().ambient, (SceneLight().sky + SceneLight().ground) / 2)


@pytest.mark.shared_data
def test_the_renderer_draws_when_another_gl_context_is_current(renderer):
    model = load_shoe_model(shared_path(*REAL))
    other = moderngl.create_context(standalone=True, backend="egl")  # now current on this thread
    try:
        layer = renderer.render([_front_view(model)], CAMERA)
    finally:
        other.release()
    assert layer is not None and (layer.rgba[..., 3] > 0).sum() > 2000


def test_sneakers_use_the_real_model_and_boots_keep_theirs():
    real = shared_path(*REAL)
    assert shoe_asset_for_sku("ka-swift-m-BLK-42") == (real, "street")
    assert shoe_asset_for_sku("lc-halo-u-WHT-42")[1] == "beach"
    assert asset_for_sku("ka-swift-m-NVY-42") == ("shoes", real)
    path, variant = shoe_asset_for_sku("tf-summit-m-BRN-42")
    assert variant is None and path.suffix == ".glb"


@pytest.mark.shared_data
def test_old_shoes_are_found_under_the_feet_and_not_up_the_leg():
    image, observation = _photo("yogait_tada1_standing_front.jpg")
    masks = old_shoe_masks(image, observation.mask, observation.pixels, observation.feet)
    assert set(masks) == {lm.Side.LEFT, lm.Side.RIGHT}
    for side, mask in masks.items():
        ankle, heel, toe = (observation.pixels[i] for i in lm.FOOT[side])
        length = np.linalg.norm(toe - heel)
        ys, xs = np.nonzero(mask)
        assert mask.sum() > 0.3 * length ** 2
        assert ys.min() > ankle[1] - 0.5 * length  # not up the trouser leg
        assert abs(np.median(xs) - (heel[0] + toe[0]) / 2) < length


@pytest.mark.shared_data
def test_the_old_shoe_is_gone_and_the_new_sole_is_on_the_floor(renderer):
    image, observation = _photo("yogait_tada1_standing_front.jpg")
    camera = Intrinsics.from_fov(image.shape[1], image.shape[0], 60.0)
    tryon = ShoeTryOn(load_shoe_model(shared_path(*REAL)), renderer)
    background, layer = tryon.render_on(image, observation, camera)
    masks = old_shoe_masks(image, observation.mask, observation.pixels, observation.feet)
    old = masks[lm.Side.LEFT] | masks[lm.Side.RIGHT]
    changed = np.abs(background.astype(int) - image.astype(int)).max(axis=2) > 12
    assert changed[old].mean() > 0.8
    assert layer is not None
    drawn = np.zeros(image.shape[:2], bool)
    alpha = layer.rgba[..., 3] > 200  # the shoe itself, not its soft shadow
    h, w = alpha.shape
    drawn[layer.y0:layer.y0 + h, layer.x0:layer.x0 + w] = alpha[: image.shape[0] - layer.y0, : image.shape[1] - layer.x0]
    old_bottom, new_bottom = np.nonzero(old)[0].max(), np.nonzero(drawn)[0].max()
    assert abs(int(old_bottom) - int(new_bottom)) <= 0.02 * image.shape[0]


@pytest.mark.shared_data
def test_the_shoppers_own_top_is_found_and_covered_by_the_new_one():
    from tryon.ar import build_tryon
    from tryon.ar.garment import own_top_mask

    image, observation = _photo("yogait_tada1_standing_front.jpg")
    top = own_top_mask(image, observation)
    assert top is not None
    # The white T-shirt: bright pixels between the shoulders and the hips; not the dark jeans.
    shoulder_y = observation.pixels[[lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER], 1].mean()
    knee_y = observation.pixels[[lm.LEFT_KNEE, lm.RIGHT_KNEE], 1].mean()
    assert top.sum() > 3000 and image[top].mean() > 150
    assert not top[int(knee_y):].any() and np.nonzero(top)[0].min() > shoulder_y - 60
    camera = Intrinsics.from_fov(image.shape[1], image.shape[0], 60.0)
    tryon = build_tryon(sku="hp-crew-m-BLK-M")
    plain = tryon.render(observation, camera)
    _, covered = tryon.render_on(image, observation, camera)

    def showing(layer) -> float:
        alpha = np.zeros(image.shape[:2], np.uint8)
        h, w = layer.rgba.shape[:2]
        alpha[layer.y0:layer.y0 + h, layer.x0:layer.x0 + w] = layer.rgba[..., 3]
        return float((top & (alpha < 128)).mean() / top.mean())

    assert showing(covered) < 0.02 < showing(plain)
