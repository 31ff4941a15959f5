"""The shoe and garment assets the mirror draws: one per catalog product, built on the
product's own last, small, and current with their generators."""
from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from assets.catalog import load_seed
from assets.garments import GARMENTS_DIR, write_product_garment
from assets.shoes import SHOES_DIR, build_product_shoe, colourway, reference_size, shoe_model_path
from assets.shoes.generator import build_shoe, write_glb
from assets.shoes.styles import style_for
from tests.scanning.test_export import validate_gltf
from tryon.ar import load_garment, load_shoe_model
from tryon.fit.lasts import shoe_last

SEED = load_seed()
SHOES = [p for p in SEED.products if p.category == "shoes"]
GARMENTS = [p for p in SEED.products if p.category in ("tops", "bottoms")]


@pytest.mark.parametrize("product", SHOES, ids=lambda p: p.product_id)
def test_every_catalog_shoe_has_a_small_model_on_its_last(product):
    path = SHOES_DIR / f"{product.product_id}.glb"
    assert product.model_uri == f"assets/shoes/{path.name}"
    assert path.stat().st_size <= 300_000
    model = load_shoe_model(path)
    last = shoe_last(product, reference_size(product))
    # outer length: the last plus the sole's overhang at heel and toe (6 mm each)
    assert model.length_m * 1000 == pytest.approx(last.length_mm + 12.0, abs=3.0)
    assert model.width_m * 1000 == pytest.approx(last.ball_width_mm * 1.05, rel=0.06)
    assert any(p.texture is not None for p in model.parts)


def test_committed_shoe_model_is_what_the_generator_makes(tmp_path):
    product = SHOES[0]
    fresh = write_glb(build_product_shoe(product), tmp_path / "fresh.glb")
    assert fresh.read_bytes() == (SHOES_DIR / f"{product.product_id}.glb").read_bytes()


def _points(last, product):
    return build_shoe(last, style_for(product.name, product.description), colourway(product)).vertices


def test_shoe_follows_the_last_dimensions():
    product = next(p for p in SHOES if p.product_id == "ka-swift-m")
    last = shoe_last(product, "42")
    base = _points(last, product)
    longer = _points(shoe_last(product, "45"), product)
    assert np.ptp(longer[:, 0]) - np.ptp(base[:, 0]) == pytest.approx(3 * 20.0 / 3.0 / 1000.0, abs=1e-3)
    sprung = _points(replace(last, toe_spring_mm=last.toe_spring_mm + 10.0), product)
    toe = base[:, 0] > 0.97 * base[:, 0].max()
    assert sprung[toe, 1].min() - base[toe, 1].min() > 0.005
    heeled = _points(replace(last, heel_height_mm=70.0), product)
    heel = base[:, 0] < 0.05 * base[:, 0].max()
    assert heeled[heel, 1].max() - base[heel, 1].max() > 0.03


def test_other_colours_and_sizes_are_generated_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIFIT_CACHE", str(tmp_path))
    product = next(p for p in SHOES if len(p.colours) > 1)
    path = shoe_model_path(product, product.colours[1].code, product.size_labels[0])
    assert path.parent == tmp_path / "shoes" and path.is_file()
    assert shoe_model_path(product) == SHOES_DIR / f"{product.product_id}.glb"


@pytest.mark.parametrize("product", GARMENTS, ids=lambda p: p.product_id)
def test_every_catalog_garment_has_an_image_with_anchors(product):
    png = GARMENTS_DIR / f"{product.product_id}.png"
    assert product.model_uri == f"assets/garments/{png.name}"
    image = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
    assert image.shape[2] == 4 and png.stat().st_size <= 300_000
    coverage = (image[..., 3] > 127).mean()
    assert 0.15 < coverage < 0.9
    sidecar = json.loads(png.with_suffix(".json").read_text())
    height, width = image.shape[:2]
    for x, y in sidecar["anchors"].values():
        assert 0 <= x < width and 0 <= y < height
    assert load_garment(png).category == product.category


def test_committed_garment_is_what_the_generator_makes(tmp_path):
    product = GARMENTS[0]
    fresh = write_product_garment(product, tmp_path / "fresh.png")
    committed = GARMENTS_DIR / f"{product.product_id}.png"
    np.testing.assert_array_equal(cv2.imread(str(fresh), cv2.IMREAD_UNCHANGED), cv2.imread(str(committed), cv2.IMREAD_UNCHANGED))
    assert json.loads(fresh.with_suffix(".json").read_text()) == json.loads(committed.with_suffix(".json").read_text())


def test_committed_shoe_models_pass_the_khronos_validator():
    reports = validate_gltf(*(SHOES_DIR / f"{p.product_id}.glb" for p in SHOES))
    assert [(r["path"], r["errors"], r["warnings"]) for r in reports if r["errors"] or r["warnings"]] == []
