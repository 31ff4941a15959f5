"""Every shopper screen in both languages and both orientations, as scripted sessions against a real cloud.

Each run plays the shopper journey with the kiosk's script steps (``kiosk.app.script``: taps,
waits and ``expect`` of the words the screen must show in that language), saves a
screenshot of every screen into the test's folder and copies them to ``out/screenshots/``
(git-ignored) for people to look at, and checks on every screen that no button is smaller
than a 9 mm touch target at the kiosk's DPI.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.app.script import run_script
from omnifit.shared import REPO_ROOT, SHARED_DATA
from tests.kiosk.conftest import kiosk_config
from tests.kiosk.test_app import _claim_on_a_phone

ARTEFACTS = REPO_ROOT / "out" / "screenshots"
MIRROR_VIDEO = SHARED_DATA / "people" / "tfjs_woman_squats_10s.mp4"

# What each screen must say, per language: the script waits for it before the screenshot.
WORDS = {
    "attract": {"zh_CN": "找到最合脚的尺码", "en": "Find your perfect fit"},
    "feet": {"zh_CN": "足弓", "en": "arch"},
    "products": {"zh_CN": "选择鞋款", "en": "Choose a shoe"},
    "fit": {"zh_CN": "码适合您", "en": "fits you"},
    "details": {"zh_CN": "余量", "en": "mm room"},
    "mirror": {"zh_CN": "换颜色", "en": "Change colour"},
    "mirror_frame": {"zh_CN": "每秒", "en": "pictures a second"},  # drawn once a picture is on screen
    "cart": {"zh_CN": "合计 ¥", "en": "Total CN¥"},
    "pair": {"zh_CN": "或输入", "en": "Or type"},
    "checkout": {"zh_CN": "刷卡支付", "en": "Pay by card"},
    "pay_card": {"zh_CN": "请将银行卡靠近读卡器", "en": "Hold your card to the reader"},
    "receipt": {"zh_CN": "扫码获取电子收据", "en": "Scan for your e-receipt"},
}


def _part_one(lang: str, mirror: bool) -> str:
    """Attract → scan → feet → shoes → size advice (and its details) → mirror → cart → pairing code."""
    w = {screen: words[lang] for screen, words in WORDS.items()}
    mirror_steps = f"""
tap Try it on
wait mirror 10
expect {w["mirror"]} 10
expect {w["mirror_frame"]} 180
sleep 2
screenshot mirror
tap Back
wait fit 30
idle 60
""" if mirror else ""
    return f"""
wait attract 30
idle 30
expect {w["attract"]} 10
screenshot attract
tap Scan my feet
wait feet 300
expect {w["feet"]} 10
screenshot feet
tap Choose shoes
idle 60
sleep 3
expect {w["products"]} 10
screenshot products
tap Swift Runner
idle 60
expect {w["fit"]} 10
screenshot fit
tap Details
expect {w["details"]} 5
screenshot fit-details
tap Hide details
{mirror_steps}
tap Add to cart
wait cart 30
idle 30
sleep 2
expect {w["cart"]} 10
screenshot cart
tap Continue on my phone
idle 30
expect {w["pair"]} 10
screenshot pair
"""


def _part_two(lang: str) -> str:
    """The phone has claimed the cart: pay by card (the development kiosk's test card) → receipt."""
    w = {screen: words[lang] for screen, words in WORDS.items()}
    return f"""
wait cart 30
tap Pay
idle 30
expect {w["checkout"]} 10
screenshot checkout
tap Pay by card
expect {w["pay_card"]} 10
screenshot pay_card
tap Visa
wait receipt 60
idle 60
expect {w["receipt"]} 10
screenshot receipt
"""


def _small_buttons(app, seen: dict[str, list[str]]) -> None:
    """Record the buttons of the screen showing that are smaller than the kiosk's touch target."""
    limit = app.config.min_target_px
    buttons = app.screen.buttons() + [key for widget in app.screen.widgets() for key in widget.buttons]
    seen[app.screen.name] = [f"{b.label!r} {b.rect.size}" for b in buttons if min(b.rect.size) < limit]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"])
def test_every_shopper_screen_in_both_languages_and_orientations(cloud, tmp_path: Path, lang: str, size):
    from kiosk.app.app import KioskApp

    mirror = MIRROR_VIDEO.is_file()
    shots = tmp_path / "shots"
    app = KioskApp(kiosk_config(cloud, tmp_path, lang=lang, size=size, dpi=102.0, warm_up=True,
                                mirror_camera=f"video:{MIRROR_VIDEO}" if mirror else ""))
    small: dict[str, list[str]] = {}
    original_step = app.step

    def step(events=None) -> None:
        original_step(events)
        _small_buttons(app, small)

    app.step = step  # every frame of the session is checked, whatever screen it shows
    try:
        first = run_script(app, _part_one(lang, mirror), shots)
        assert first.ok, first.steps[-1]
        _claim_on_a_phone(cloud, app.session.pairing.qr_payload)
        second = run_script(app, _part_two(lang), shots)
        assert second.ok, second.steps[-1]
    finally:
        app.close()
    assert {screen: labels for screen, labels in small.items() if labels} == {}
    named = sorted(path.stem for path in shots.glob("*.png") if not path.stem[0].isdigit())
    expected = {"attract", "feet", "products", "fit", "fit-details", "cart", "pair", "checkout", "pay_card", "receipt"}
    assert expected | ({"mirror"} if mirror else set()) == set(named)
    folder = ARTEFACTS / f"{lang}-{size[0]}x{size[1]}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(shots, folder)
