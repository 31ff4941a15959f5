"""The face-pay screens in both languages, as scripted sessions against a real cloud.

The shopper types four phone digits, the work process captures the synthetic face camera's
shopper and the cloud finds no account with those digits, so the screen says so and offers the
card; a linked shopper opens *Set up face pay* and reads the consent before anything is captured.
Every step waits (``expect``) for the words in the language on screen; the screenshots go to
``out/screenshots/facepay-<lang>/`` (git-ignored) for people to look at.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.app.script import run_script
from omnifit.shared import REPO_ROOT
from tests.kiosk.conftest import kiosk_config
from tests.kiosk.test_app import _add_first_shoe, _claim_on_a_phone

ARTEFACTS = REPO_ROOT / "out" / "screenshots"

WORDS = {
    "zh_CN": {"digits": "请输入手机号后4位", "no_match": "未能将您的面部", "card": "请将银行卡靠近读卡器",
              "consent": "绝不保存照片", "enroll_card": "要扣款的银行卡"},
    "en": {"digits": "Type the last 4 digits of your phone number", "no_match": "could not match your face",
           "card": "Hold your card to the reader", "consent": "never a photo", "enroll_card": "should charge"},
}


def _face_pay(w: dict[str, str]) -> str:
    """Checkout → face pay → four digits → a face the cloud cannot match → the card instead."""
    return f"""
tap Pay
idle 30
tap Pay with my face
wait pay_face 10
expect {w["digits"]} 10
screenshot pay_face
tap 1
tap 2
tap 3
tap 4
tap OK
expect {w["no_match"]} 240
screenshot pay_face-no-match
tap Pay by card instead
wait pay_card 10
expect {w["card"]} 10
tap Back
wait checkout 10
idle 30
tap Link my phone
wait pair 10
idle 30
"""


def _enroll(w: dict[str, str]) -> str:
    """The phone claimed the cart: Set up face pay → the consent → the card to charge."""
    return f"""
wait cart 30
tap Pay
idle 30
tap Set up face pay
wait face_enroll 10
expect {w["consent"]} 10
screenshot face_enroll-consent
tap I agree
expect {w["enroll_card"]} 10
screenshot face_enroll-card
tap Back
wait checkout 10
"""


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_face_pay_screens_speak_the_shoppers_language(cloud, tmp_path: Path, lang: str):
    from kiosk.app.app import KioskApp
    from tests.conftest import shared_path

    photo = shared_path("data", "faces", "obama-480p.jpg")
    shots = tmp_path / "shots"
    app = KioskApp(kiosk_config(cloud, tmp_path, lang=lang, face_photo=photo))
    try:
        app.wait_idle(30)
        _add_first_shoe(app)
        first = run_script(app, _face_pay(WORDS[lang]), shots)
        assert first.ok, first.steps[-1]
        assert app.screen.name == "pair"
        _claim_on_a_phone(cloud, app.session.pairing.qr_payload)
        second = run_script(app, _enroll(WORDS[lang]), shots)
        assert second.ok, second.steps[-1]
    finally:
        app.close()
    named = {path.stem for path in shots.glob("*.png") if not path.stem[0].isdigit()}
    assert named == {"pay_face", "pay_face-no-match", "face_enroll-consent", "face_enroll-card"}
    folder = ARTEFACTS / f"facepay-{lang}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(shots, folder)
