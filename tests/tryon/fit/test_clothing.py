"""Clothing recommendations: hand-worked bodies against the charts, ordering, and bad bodies."""
from __future__ import annotations

import dataclasses

import pytest

from tests.tryon.fit.conftest import make_body
from tryon.fit.clothing import recommend_garment_size
from tryon.fit.errors import FitError, MeasurementError
from tryon.fit.results import FitVerdict, FitZone

# product, body (chest, waist, hip, height, inseam), expected size, why (from generate.py's charts).
CASES = [
    ("hp-crew-m", (975, 845, 980, 1760, 800), "M", "men's M: chest 940-1000, waist 800-860, hip 940-990, height 1730-1800"),
    ("hp-crew-m", (1010, 880, 1000, 1800, 800), "L", "men's L: chest 1000-1060, waist 860-920, hip 990-1040"),
    ("qy-rib-w", (860, 660, 930, 1640, 760), "S", "women's S: chest 820-870, waist 640-690, hip 900-950"),
    ("hp-hoodie-u", (975, 845, 980, 1760, 800), "M", "unisex uses the men's chart; ease changes the garment, not the range"),
    ("fl-straight-m", (975, 845, 980, 1760, 800), "W33L32",
     "W33 covers 32.5-33.5 in = 825.5-850.9 mm; L32 = 812.8 mm leaves 12.8 mm over the 800 mm leg "
     "(target 10); L30 would be 38 mm short, L34 64 mm long"),
    ("fl-highrise-w", (880, 700, 960, 1650, 760), "W28L30",
     "women's W28 covers 27.5-28.5 in = 698.5-723.9 mm; L30 = 762 mm for a 760 mm leg"),
    ("ka-stride-m", (975, 845, 980, 1760, 800), "M", "letter bottoms: M waist 800-860, M inseam 800 mm"),
]


@pytest.mark.parametrize(("product_id", "figures", "size", "why"), CASES, ids=[c[0] + "-" + c[2] for c in CASES])
def test_hand_worked_bodies(products, product_id: str, figures: tuple, size: str, why: str) -> None:
    chest, waist, hip, height, inseam = figures
    rec = recommend_garment_size(products[product_id], make_body(chest, waist, hip, height=height, inseam=inseam))
    assert rec.size_label == size, f"{why}; got: {rec.explanation}"
    assert rec.fit.fits_well and rec.confidence > 0.3


def test_zones_per_category_and_ease_in_millimetres(products) -> None:
    body = make_body(975, 845, 980, height=1760, inseam=800)
    top = recommend_garment_size(products["hp-crew-m"], body)
    assert [z.zone for z in top.fit.zones] == [FitZone.CHEST, FitZone.WAIST, FitZone.HIP, FitZone.LENGTH]
    chest = top.fit.zone(FitZone.CHEST)
    # M chest range 940-1000: the garment is 970 + 100 mm ease = 1070 mm, 95 mm over a 975 mm chest.
    assert (chest.item_mm, chest.ease_mm, chest.target_ease_mm) == (1070.0, 95.0, 100.0)
    jeans = recommend_garment_size(products["fl-straight-m"], body)
    assert [z.zone for z in jeans.fit.zones] == [FitZone.WAIST, FitZone.HIP, FitZone.INSEAM]
    skirt = recommend_garment_size(products["qy-pleat-w"], make_body(880, 700, 960, height=1650))
    assert [z.zone for z in skirt.fit.zones] == [FitZone.WAIST, FitZone.HIP]


def test_short_and_long_legs(products) -> None:
    jeans = products["fl-straight-m"]
    rec = recommend_garment_size(jeans, make_body(975, 845, 980, inseam=790))
    assert rec.size_fit("W33L30").zone(FitZone.INSEAM).verdict is FitVerdict.SHORT
    assert rec.size_fit("W33L34").zone(FitZone.INSEAM).verdict is FitVerdict.LONG
    with pytest.raises(FitError, match="has no size 'W33L36'"):
        rec.size_fit("W33L36")


def test_bigger_bodies_never_get_smaller_sizes(products) -> None:
    for product_id in ("hp-crew-m", "qy-blouse-w", "ka-windshell-u"):
        product = products[product_id]
        order = product.size_labels
        picks = [
            order.index(recommend_garment_size(product, make_body(chest, chest - 130, chest + 5)).size_label)
            for chest in range(800, 1200, 10)
        ]
        assert picks == sorted(picks), product_id
        assert picks[-1] - picks[0] >= 4, product_id


def test_nothing_fits_says_so(products) -> None:
    rec = recommend_garment_size(products["hp-crew-m"], make_body(1250, 1100, 1200, height=1900))
    assert rec.size_label == "XXL" and rec.confidence < 0.05
    assert rec.fit.zone(FitZone.CHEST).verdict is FitVerdict.TIGHT
    assert "tighter than designed at the waist" in rec.explanation


def test_bad_bodies_and_products_are_refused(products) -> None:
    body = make_body(975, 845, 980)
    with pytest.raises(MeasurementError, match="body waist_girth = -5 mm is outside"):
        recommend_garment_size(products["hp-crew-m"], dataclasses.replace(body, waist_girth_mm=-5.0))
    with pytest.raises(MeasurementError, match="body height: expected a finite number"):
        recommend_garment_size(products["hp-crew-m"], dataclasses.replace(body, height_mm=float("inf")))
    with pytest.raises(FitError, match="has no clothing size chart"):
        recommend_garment_size(products["ka-swift-m"], body)
