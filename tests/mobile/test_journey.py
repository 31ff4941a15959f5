"""A whole shopper session, played by script in the real app against a real server, in both languages.

The test acts as the store's kiosk meanwhile (a ``SyncClient`` with a device token): it
builds a cart with a foot scan, shows a pairing QR (saved as a PNG the app reads), and
changes the cart while the app shows it. Every screen is checked for its text with
``expect`` and saved as a screenshot artefact.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cloud.client import Cart, FaceConsent, SyncClient
from tests.mobile.conftest import PASSWORD, PHONE, STORE, Cloud, failed_step, start_app, translate

pytestmark = pytest.mark.slow

FEET = {  # a right-sized adult's scan, mm
    "left_foot": {"length": 266.0, "width": 101.0, "ball_girth": 247.0, "instep_girth": 252.0, "instep_height": 66.0,
                  "arch_height": 17.0, "heel_width": 66.0, "toe_height": 22.0},
    "right_foot": {"length": 268.5, "width": 102.0, "ball_girth": 249.0, "instep_girth": 254.0, "instep_height": 67.0,
                   "arch_height": 17.5, "heel_width": 66.5, "toe_height": 22.5},
}
KIOSK_SKU = "mv-aubert-m-BRN-42"  # the shoe the shopper chose at the kiosk
LIVE_SKU = "mv-colline-m-TAN-42"  # what the kiosk adds while the phone shows the cart
APP_PRODUCT = "Basalt Mid"  # what the shopper adds on the phone

JOURNEY = """
wait catalog 40
idle 30
expect {{Shoes}}
expect Swift Runner 20
screenshot {lang}-01-catalog
tap {{Tops}}
idle
expect Oxford Shirt
tap {{All brands}}
tap Kestrel Athletics
idle
expect Dryline Run Tee
expect "{{{count} products|count={tops_by_kestrel}}}"
screenshot {lang}-02-catalog-filtered
tap Kestrel Athletics
tap {{All brands}}
tap {{All}}
tap {{In stock at my store}}
idle
expect "{{{count} products|count={in_stock_here}}}"
tap {{Me}}
wait settings
tap {{Sign in}}
wait sign_in
tap {{E-mail}}
type {email}
tap {{Password}}
type not my password
key enter
expect {{Wrong e-mail or password.}}
screenshot {lang}-03-sign_in-refused
tap {{Create an account}}
wait sign_up
tap {{E-mail}}
type {email}
tap {{Password (8 characters or more)}}
type {password}
tap {{Mobile number}}
type {phone}
screenshot {lang}-04-sign_up
tap {{Create my account}}
wait settings 20
expect {email}
tap {{New PIN (4 to 8 digits)}}
type {pin}
tap {{Account password}}
type {password}
tap {{Set PIN}}
expect {{Your payment PIN is set.}}
screenshot {lang}-05-settings
tap {{Cart}}
wait cart
expect {{Your cart is empty}}
tap {{Continue from a kiosk}}
wait handoff
tap {{Picture of the QR code}}
type {no_qr}
tap {{Read the QR code}}
expect {{No QR code found in that picture. Hold the phone closer to the kiosk's screen.}}
screenshot {lang}-06-handoff-no-qr
tap {{Picture of the QR code}}
key select_all
type {qr}
screenshot {lang}-07-handoff
tap {{Read the QR code}}
wait cart 20
expect Aubert Oxford
tap {{My fit}}
wait my_fit
expect {{Left foot}}
expect "266.0 mm"
screenshot {lang}-08-my_fit
tap {{Shop}}
wait catalog
tap {{Search shoes and clothes}}
type Basalt
key enter
idle
expect Basalt Mid
tap Basalt Mid
wait product
idle 30
expect "{{We recommend size {size}|size={recommended}}}" 30
screenshot {lang}-09-product
tap {{Add to cart}}
idle
tap {{Cart}}
wait cart
expect Basalt Mid
expect Colline Derby 30
screenshot {lang}-10-cart-live
tap {{Check out}}
wait checkout
tap Visa •••• 9995
tap {{Pay {amount}|amount={total}}}
expect {{Your bank asks for your payment PIN.}} 30
tap {{PIN}}
type {pin}
tap {{Pay {amount}|amount={total}}}
expect {{Your card was declined ({reason}). Choose another card.|reason=insufficient_funds}} 30
screenshot {lang}-11-checkout-declined
tap Visa •••• 4242
tap {{Pay {amount}|amount={total}}}
wait receipt 40
expect {{Thank you!}} 20
expect Colline Derby
screenshot {lang}-12-receipt
tap {{My orders}}
wait orders
expect "{{Order {order}|order=ord_}}" 20
screenshot {lang}-13-orders
tap {{Me}}
wait settings
tap {{My data}}
wait my_data
expect {{Withdraw consent and delete my face data}} 20
screenshot {lang}-14-my_data
tap {{Withdraw consent and delete my face data}}
tap {{Yes, delete my face data}}
expect {{Your face data is deleted and face pay is off.}} 20
tap {{Delete my fit profile}}
tap {{Yes, delete my fit profile}}
expect {{Your fit profile is deleted.}} 20
expect {{No fit profile is stored.}}
screenshot {lang}-15-my_data-deleted
tap {{Me}}
wait settings
tap {other_language}
expect {other_me}
screenshot {lang}-16-language-switched
"""


async def _kiosk_cart(kiosk: SyncClient) -> tuple[Cart, bytes]:
    cart = await kiosk.create_cart(STORE)
    await kiosk.put_fit_profile(cart_id=cart.cart_id, **FEET)
    cart = await kiosk.add_line(cart.cart_id, KIOSK_SKU)
    code = await kiosk.create_pairing_code(cart.cart_id)
    return cart, code.qr_png


async def _play_the_kiosk(cloud: Cloud, kiosk: SyncClient, cart_id: str, email: str) -> dict[str, float]:
    """Follow the cart; once the phone has claimed it and added its shoe, add one from the kiosk; enroll a face."""
    figures: dict[str, float] = {}
    claimed = app_added = False
    async with SyncClient(cloud.target) as phone_two:
        async for event in kiosk.watch(cart_id):
            cart = event.cart
            if not claimed and cart.owner_shopper_id:
                claimed = True
                # The shopper's second device enrolls face pay, so My data has a template to delete.
                await phone_two.sign_in(email, PASSWORD)
                await phone_two.enroll_face([0.01 * (i % 17) for i in range(128)], payment_token="tok_visa_approve",
                                            consent=FaceConsent("face pay", retention_days=365))
            if claimed and not app_added and any(line.product_id == "tf-basalt-m" for line in cart.lines):
                app_added = True
                figures["app_change_seen_at_kiosk_s"] = time.monotonic()
                await kiosk.add_line(cart_id, LIVE_SKU)
                return figures
    return figures


def _recommended_size() -> str:
    from cloud.client import FitProfile
    from mobile.fit import recommend

    advice = recommend("tf-basalt-m", "shoes", FitProfile("", left_foot=FEET["left_foot"], right_foot=FEET["right_foot"]))
    assert advice is not None
    return advice.size_label


async def _counts(cloud: Cloud) -> dict[str, int]:
    async with SyncClient(cloud.target) as browser:
        stores = await browser.list_stores()
        first = stores[0].store_id  # the app starts on the cloud's first store
        tops = await browser.list_products(category="tops", brand="Kestrel Athletics", page_size=100)
        here = await browser.list_products(store_id=first, in_stock_only=True, page_size=100)
    return {"tops_by_kestrel": len(tops.products), "in_stock_here": len(here.products)}


def _total(lang: str, product_ids: list[str]) -> str:
    from assets.catalog import load_seed
    from omnifit.i18n import Catalog
    from payments.money import Money

    seed = {p.product_id: p for p in load_seed().products}
    minor = sum(seed[product_id].price_minor for product_id in product_ids)
    return Catalog.load("mobile", "mobile", lang).money(Money(minor, "CNY"))


def _write_no_qr_picture(path: Path) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(3)
    Image.fromarray((rng.random((240, 320, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_whole_shopper_session(cloud: Cloud, tmp_path: Path, artefacts: Path, lang: str) -> None:
    async def session() -> tuple[int, dict, dict[str, float]]:
        async with SyncClient(cloud.target, token=cloud.device_token) as kiosk:
            cart, qr_png = await _kiosk_cart(kiosk)
            qr = tmp_path / "kiosk-qr.png"
            qr.write_bytes(qr_png)
            email = f"shopper-{lang}@example.com"
            other = "zh_CN" if lang == "en" else "en"
            values = {
                "lang": lang, "email": email, "password": PASSWORD, "pin": "4821", "phone": PHONE, "qr": str(qr),
                "no_qr": str(_write_no_qr_picture(tmp_path / "no-qr.png")), "recommended": _recommended_size(),
                "total": _total(lang, ["mv-aubert-m", "tf-basalt-m", "mv-colline-m"]),
                "other_language": "English" if lang == "zh_CN" else "中文",
                "other_me": translate("{{My data}}", other), **(await _counts(cloud)),
            }
            script = translate(_fill(JOURNEY, values), lang)
            run = start_app(cloud, script, tmp_path / "app", artefacts, lang=lang)
            kiosk_side = asyncio.ensure_future(_play_the_kiosk(cloud, kiosk, cart.cart_id, email))
            code, report = await asyncio.to_thread(run.finish)
            figures = await kiosk_side if kiosk_side.done() else {}
            kiosk_side.cancel()
            return code, report, figures

    code, report, figures = asyncio.run(session())
    assert code == 0, failed_step(report)
    assert "app_change_seen_at_kiosk_s" in figures, "the app's add never reached the kiosk's watch"
    shots = {Path(p).name for p in report["screenshots"]}
    assert {f"{lang}-{n:02d}" for n in range(1, 17)} <= {name[: len(lang) + 3] for name in shots}
    for screen in ("catalog", "settings", "sign_in", "sign_up", "cart", "handoff", "my_fit", "product", "checkout",
                   "receipt", "orders", "my_data"):
        assert any(name.endswith(f"-{screen}.png") for name in shots), f"no screenshot of {screen}"


def _fill(template: str, values: dict[str, object]) -> str:
    """``{name}`` fields of the script filled in; ``{{…}}`` (catalog messages) left for :func:`translate`."""
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", str(value))
    return out
