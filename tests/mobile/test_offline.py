"""The cloud dies mid-session: the app says so, keeps the change in its outbox, and sends it exactly once.

Also the handoff's refusals: a code typed twice (already used) and a code nobody issued.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cloud.client import SyncClient
from tests.mobile.conftest import STORE, Cloud, failed_step, sign_up_steps, start_app, translate

pytestmark = pytest.mark.slow
SKU = "ka-swift-m-BLK-42"
DOWN_S = 8.0  # how long the cloud stays dead

SCRIPT = """
wait catalog 40
tap {{Cart}}
wait sign_in
{sign_up}
wait cart 20
tap {{Continue from a kiosk}}
wait handoff
tap {{8-character code}}
type ZZZZZZZZ
tap {{Continue with this code}}
expect {{That code is not known. Check it on the kiosk's screen.}}
tap {{8-character code}}
key select_all
type {code}
tap {{Continue with this code}}
wait cart 20
expect Swift Runner
sleep 2
tap +
expect {{Offline: your changes are kept on this phone}} 30
expect "{{{count} waiting|count=1}}" 10
screenshot {lang}-offline-waiting
expect "{two}" 60
expect "{{Subtotal}}"
screenshot {lang}-back-online
tap {{Continue from a kiosk}}
wait handoff
tap {{8-character code}}
key select_all
type {code}
tap {{Continue with this code}}
expect {{This code was already used. Ask the kiosk for a new one.}} 20
screenshot {lang}-handoff-code-used
"""


def _money(lang: str, minor: int) -> str:
    from omnifit.i18n import Catalog
    from payments.money import Money

    return Catalog.load("mobile", "mobile", lang).money(Money(minor, "CNY"))


def test_a_change_made_while_the_cloud_is_down_arrives_once(cloud: Cloud, tmp_path: Path, artefacts: Path) -> None:
    lang = "en"

    async def session() -> tuple[int, dict, int]:
        async with SyncClient(cloud.target, token=cloud.device_token) as kiosk:
            cart = await kiosk.create_cart(STORE)
            cart = await kiosk.add_line(cart.cart_id, SKU)
            code = await kiosk.create_pairing_code(cart.cart_id)
            script = translate(SCRIPT.replace("{sign_up}", sign_up_steps("offline@example.com"))
                               .replace("{code}", code.code).replace("{lang}", lang)
                               .replace("{two}", _money(lang, 2 * cart.subtotal.minor)), lang)
            run = start_app(cloud, script, tmp_path / "app", artefacts, lang=lang)
            async for event in kiosk.watch(cart.cart_id):
                if event.cart.owner_shopper_id:
                    break
            cloud.server.kill()  # no goodbye, as in a crash
            await asyncio.sleep(DOWN_S)
            cloud.restart()
            code_, report = await asyncio.to_thread(run.finish)
        async with SyncClient(cloud.target, token=cloud.device_token) as kiosk:
            final = await kiosk.get_cart(cart.cart_id)
        return code_, report, final.quantity_of(SKU)

    code, report, quantity = asyncio.run(session())
    assert code == 0, failed_step(report)
    assert quantity == 2  # the queued +1 went out exactly once
