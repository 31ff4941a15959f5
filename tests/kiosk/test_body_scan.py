"""Scan my body → the body's measurements → a top sized on them → the mirror → the cart, as a scripted
session against a real cloud, in both languages (``expect`` waits for the words on screen).

Screenshots go to ``out/screenshots/body-<lang>-<W>x<H>/`` (git-ignored) for people to look at.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.app.script import run_script
from omnifit.shared import REPO_ROOT, SHARED_DATA
from tests.kiosk.conftest import kiosk_config

ARTEFACTS = REPO_ROOT / "out" / "screenshots"
MIRROR_VIDEO = SHARED_DATA / "people" / "tfjs_woman_squats_10s.mp4"
TOP = "Everyday Crew Tee"

WORDS = {
    "zh_CN": {"body": "胸围", "cm": "厘米", "tops": "选择上装", "fits": "{size} 码适合您",
              "closest": "{size} 码是最接近", "sure": "推荐把握", "mirror": "换颜色", "cart": "您的购物车"},
    "en": {"body": "Chest", "cm": " cm", "tops": "Choose a top", "fits": "Size {size} fits you",
           "closest": "Size {size} is the closest", "sure": "How sure we are", "mirror": "Change colour",
           "cart": "Your cart"},
}


def _to_size(w: dict[str, str]) -> str:
    """Attract → body scan → measurements → tops → the size screen of one top, once its advice is in."""
    return f"""
wait attract 30
idle 30
tap Scan my body
wait body 300
expect {w["body"]} 10
expect {w["cm"]} 10
screenshot body
tap Choose tops
idle 60
expect {w["tops"]} 10
screenshot tops
tap {TOP}
idle 120
expect {w["sure"]} 10
"""


def _to_cart(w: dict[str, str], size: str, closest: bool, mirror: bool) -> str:
    """The advice names the recommended size ("fits you", or "the closest" when even it misfits a zone);
    it goes to the cart (through the mirror when there is a camera)."""
    add = f"""
tap Try it on
wait mirror 10
expect {w["mirror"]} 10
screenshot mirror
tap Add to cart
""" if mirror else """
tap Add to cart
"""
    return f"""
expect {w["closest" if closest else "fits"].format(size=size)} 10
screenshot fit
{add}
wait cart 30
idle 30
expect {w["cart"]} 10
expect {TOP} 10
screenshot cart
"""


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("size", [(1280, 800), (1080, 1920)], ids=["landscape", "portrait"])
def test_body_scan_sizes_a_top_and_it_goes_into_the_cart(cloud, tmp_path: Path, lang: str, size):
    from kiosk.app.app import KioskApp
    from kiosk.app.shopper import CLOSEST_ONLY

    mirror = MIRROR_VIDEO.is_file()
    shots = tmp_path / "shots"
    app = KioskApp(kiosk_config(cloud, tmp_path, lang=lang, size=size,
                                mirror_camera=f"video:{MIRROR_VIDEO}" if mirror else ""))
    try:
        first = run_script(app, _to_size(WORDS[lang]), shots)
        assert first.ok, first.steps[-1]
        advice = app.screen.recommendation  # tryon.fit's, on the scanned body
        assert advice is not None and advice.category == "tops" and 0.0 <= advice.confidence <= 1.0
        assert {zone.zone.value for zone in advice.fit.zones} >= {"chest", "waist"}
        second = run_script(app, _to_cart(WORDS[lang], advice.size_label, advice.confidence < CLOSEST_ONLY, mirror), shots)
        assert second.ok, second.steps[-1]
        body = app.session.body
        assert body is not None and 1400 < body.height_mm < 2100  # a generated adult, not a placeholder
        assert [line.quantity for line in app.session.cart.lines] == [1]
    finally:
        app.close()
    folder = ARTEFACTS / f"body-{lang}-{size[0]}x{size[1]}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(shots, folder)
