"""Face pay set up from the phone: consent first, a selfie through the quality gate, only the embedding sent.

Needs the face photos in ``../shared/data/faces`` (skipped without them). A picture with no face
is refused with a hint; a real selfie enrolls, My data shows the template and deletes it.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cloud.client import SyncClient
from omnifit.shared import SHARED_DATA
from tests.mobile.conftest import PASSWORD, Cloud, failed_step, play, sign_up_steps, translate

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]
SELFIE = SHARED_DATA / "faces" / "obama.jpg"

SCRIPT = """
wait catalog 40
tap {{Me}}
wait settings
tap {{Sign in}}
wait sign_in
{sign_up}
wait settings 20
tap {{I agree}}
tap {{Selfie picture}}
type {no_face}
tap {{Set up face pay}}
expect {{No face found in that picture. Take a selfie with your whole face in view.}} 60
screenshot {lang}-selfie-refused
tap {{Selfie picture}}
key select_all
type {selfie}
tap {{Set up face pay}}
expect "{{Face pay is on with {card}. At a kiosk checkout, type {digits} when asked.|card=Visa ending 4242|digits=...8000}}" 90
screenshot {lang}-face-pay-on
tap {{My data}}
wait my_data
expect {{Withdraw consent and delete my face data}} 20
"""


@pytest.mark.skipif(not SELFIE.is_file(), reason=f"no face photos in {SELFIE.parent}")
def test_face_pay_from_a_selfie(cloud: Cloud, tmp_path: Path, artefacts: Path) -> None:
    from PIL import Image

    lang = "zh_CN"
    no_face = tmp_path / "wall.png"
    Image.new("RGB", (640, 480), (200, 190, 170)).save(no_face)
    script = translate(SCRIPT.replace("{sign_up}", sign_up_steps("face@example.com")).replace("{lang}", lang)
                       .replace("{no_face}", str(no_face)).replace("{selfie}", str(SELFIE)), lang)
    code, report = play(cloud, script, tmp_path / "app", artefacts, lang=lang)
    assert code == 0, failed_step(report)

    async def enrolled() -> bool:
        async with SyncClient(cloud.target) as phone:
            await phone.sign_in("face@example.com", PASSWORD)
            return (await phone.get_face_enrollment()).enrolled

    assert asyncio.run(enrolled())
