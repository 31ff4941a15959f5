"""The kiosk app headless against a real cloud process: events in, screens and the cloud's state out."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cloud.client import SyncClient
from kiosk.app.config import KioskConfig
from omnifit.shared import REPO_ROOT
from tests.kiosk.conftest import STAFF_ID, STORE, kiosk_config


def _cloud_cart(cloud, cart_id: str):
    async def fetch():
        async with SyncClient(cloud.target, token=cloud.device_token) as client:
            return await client.get_cart(cart_id), await client.get_fit_profile(cart_id=cart_id)

    return asyncio.run(fetch())


def _add_first_shoe(app, size_index: int = 3) -> str:
    """Browse → first shoe → a size → add; returns the SKU added."""
    app.tap("Browse shoes")
    app.wait_idle(30)
    assert app.screen.name == "products" and app.screen.page.products
    app.tap(app.screen.page.products[0].name)
    app.wait_idle(30)
    variant = app.screen.variants()[size_index]
    app.tap(variant.size_label)
    app.tap("Add to cart")
    app.wait_for("cart", 30)
    app.wait_idle(30)
    return variant.sku


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(targets=("nowhere",)), "host:port"),
        (dict(camera="kinect"), "unknown camera source"),
        (dict(camera="recorded"), "camera_path"),
        (dict(camera="realsense"), "calibration"),
        (dict(size=(1024, 768)), "too small"),
        (dict(size=(1080, 1000)), "portrait"),
        (dict(lang="fr"), "language"),
        (dict(dpi=10), "dpi"),
        (dict(mirror_camera="webcam"), "camera:N"),
        (dict(mirror_camera="video:/nowhere.mp4"), "not a file"),
        (dict(staff_idle_s=0), "idle timeouts"),
    ],
)
def test_config_refuses_bad_settings_saying_what_is_wrong(settings, message):
    with pytest.raises(ValueError, match=message):
        KioskConfig(**{"targets": ("127.0.0.1:1",), **settings})


def test_shopper_adds_a_shoe_and_the_pairing_qr_on_screen_scans(kiosk, cloud, tmp_path: Path):
    sku = _add_first_shoe(kiosk)
    cart = kiosk.session.cart
    assert [line.sku for line in cart.lines] == [sku]
    stored, _ = _cloud_cart(cloud, cart.cart_id)
    assert [line.sku for line in stored.lines] == [sku] and stored.store_id == STORE
    kiosk.tap("Continue on my phone")
    kiosk.wait_idle(30)
    shot = kiosk.screenshot(tmp_path / "pair.png")
    screen = cv2.imread(str(shot), cv2.IMREAD_GRAYSCALE)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(screen)
    assert decoded == kiosk.session.pairing.qr_payload
    assert kiosk.session.pairing.code in decoded


def test_the_cart_screen_shows_what_the_phone_changes_live(kiosk, cloud):
    _add_first_shoe(kiosk)
    kiosk.tap("Continue on my phone")
    kiosk.wait_idle(30)
    payload = kiosk.session.pairing.qr_payload
    line = kiosk.session.cart.lines[0]

    async def phone_changes_quantity():
        async with SyncClient(cloud.target) as phone:
            await phone.register("live@example.com", "correct horse 1", "+8613800138000")
            cart, _ = await phone.claim_pairing_code(payload)
            await phone.update_line(cart.cart_id, line.line_id, 2)

    asyncio.run(phone_changes_quantity())
    kiosk.wait_for("cart", 10)  # the claim took the kiosk from the code to the cart
    kiosk.wait_for(lambda: kiosk.session.cart.lines[0].quantity == 2, 10)
    assert kiosk.session.cart.owner_shopper_id  # claimed: card pay is open to it now
    assert kiosk.session.cart.subtotal == line.unit_price * 2


def test_removing_a_line_reaches_the_cloud(kiosk, cloud):
    _add_first_shoe(kiosk)
    kiosk.tap("Remove")
    kiosk.wait_idle(30)
    assert kiosk.session.cart.lines == ()
    stored, _ = _cloud_cart(cloud, kiosk.session.cart.cart_id)
    assert stored.lines == ()
    assert not kiosk.find_button("Pay").enabled  # nothing to pay for


@pytest.mark.slow
def test_foot_scan_gives_a_size_and_keeps_the_scan_with_the_cart(kiosk, cloud):
    kiosk.tap("Scan my feet")
    kiosk.wait_for("feet", 180)
    feet = kiosk.session.feet
    assert 220 <= feet.right.length_mm <= 300 and 220 <= feet.left.length_mm <= 300
    kiosk.tap("Choose shoes")
    kiosk.wait_idle(30)
    kiosk.tap(kiosk.screen.page.products[0].name)
    kiosk.wait_idle(60)
    recommendation = kiosk.screen.recommendation
    assert recommendation is not None and 0.0 <= recommendation.confidence <= 1.0
    chosen = next(v for v in kiosk.screen.product.variants if v.sku == kiosk.screen.chosen)
    assert chosen.size_label == recommendation.size_label  # the recommended size is preselected
    kiosk.tap("Add to cart")
    kiosk.wait_for("cart", 30)
    kiosk.wait_idle(30)
    stored, profile = _cloud_cart(cloud, kiosk.session.cart.cart_id)
    assert stored.lines[0].size_label == recommendation.size_label
    assert profile.right_foot["length"] == pytest.approx(feet.right.length_mm, abs=0.01)


def test_cloud_down_keeps_the_catalog_and_queues_cart_changes_until_it_is_back(kiosk, cloud):
    from cloud.testing import ServerProcess

    _add_first_shoe(kiosk)
    cart_id = kiosk.session.cart.cart_id
    port = cloud.server.port
    cloud.server.kill()
    kiosk.tap("Keep shopping")
    kiosk.wait_idle(60)
    assert kiosk.screen.page is not None and kiosk.screen.page.products  # the saved catalog
    kiosk.tap(kiosk.screen.page.products[0].name)
    kiosk.wait_idle(60)
    assert kiosk.online is False  # the stock look-up found no replica
    kiosk.tap(kiosk.screen.variants()[5].size_label)
    kiosk.tap("Add to cart")
    kiosk.wait_for("cart", 60)
    assert kiosk.pending_mutations() == 1
    assert not kiosk.find_button("Pay").enabled  # never pay for a cart the cloud has not seen
    cloud.server = ServerProcess(cloud.db_url, port=port).start()
    kiosk.wait_for(lambda: kiosk.pending_mutations() == 0, 60)
    stored, _ = _cloud_cart(cloud, cart_id)
    assert len(stored.lines) == 2


def test_admin_mode_signs_out_after_idle_and_drops_the_staff_client(cloud, tmp_path: Path):
    from kiosk.app.admin import AdminHomeScreen
    from kiosk.app.app import KioskApp

    app = KioskApp(kiosk_config(cloud, tmp_path, staff_idle_s=0.5))
    try:
        app.sign_in_staff(STAFF_ID, cloud.staff_session(), adopt_token=True)
        app.go(AdminHomeScreen(app))
        assert app.worker.staff is not None
        app.wait_for("attract", 10)
        assert app.staff is None and app.worker.staff is None
        assert "inactivity" in app.notice.text
    finally:
        app.close()


def test_staff_sign_in_screen_refuses_a_wrong_password_and_admits_the_right_one(kiosk):
    kiosk.tap("Staff")
    kiosk.type_text(STAFF_ID)
    kiosk.press_key(9, "\t")
    kiosk.type_text("wrong password")
    kiosk.press_key(13, "\r")
    kiosk.wait_idle(30)
    assert kiosk.screen.name == "staff_sign_in" and "refused" in kiosk.notice.text
    kiosk.tap("Next")
    for _ in range(len(STAFF_ID) + 1):
        kiosk.tap("Del")
    kiosk.type_text(STAFF_ID)
    kiosk.tap("Next")
    kiosk.type_text("correct horse 1")
    kiosk.tap("Done")
    kiosk.wait_for("admin_home", 30)
    assert kiosk.staff.staff_id == STAFF_ID


def _admin_home(kiosk, cloud) -> None:
    """A staff member signed in (their session from the cloud's account service) and on the admin home."""
    from kiosk.app.admin import AdminHomeScreen

    kiosk.sign_in_staff(STAFF_ID, cloud.staff_session(), adopt_token=True)
    kiosk.go(AdminHomeScreen(kiosk))


def test_admin_outbox_lists_nothing_waiting_on_a_healthy_kiosk(kiosk, cloud):
    _admin_home(kiosk, cloud)
    kiosk.tap("Sync outbox")
    assert kiosk.screen.name == "admin_outbox" and not kiosk.find_button("Send now").enabled
    kiosk.tap("Sign out")
    assert kiosk.screen.name == "attract" and kiosk.staff is None


def test_script_mode_runs_headless_and_saves_screenshots(cloud, tmp_path: Path):
    script = tmp_path / "qa.txt"
    script.write_text("wait attract 30\nidle 30\ntap Browse shoes\nidle 30\nscreenshot shoes\n")
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "kiosk", "--target", cloud.target, "--store", STORE,
         "--device-token", cloud.device_token, "--data-dir", str(tmp_path / "kiosk"), "--script", str(script),
         "--screenshot", str(tmp_path / "shots"), "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["ok"] and [step["screen"] for step in report["steps"]][-1] == "products"
    image = cv2.imread(str(tmp_path / "shots" / "shoes.png"))
    assert image.shape == (800, 1280, 3) and float(np.std(image)) > 10  # something was drawn
    assert (tmp_path / "shots" / "000-attract.png").exists()  # every screen shown is saved too


def test_script_mode_stops_at_a_missing_button_and_refuses_unknown_steps(cloud, tmp_path: Path):
    base = [sys.executable, "-m", "omnifit.cli", "kiosk", "--target", cloud.target, "--store", STORE,
            "--data-dir", str(tmp_path / "kiosk"), "--json", "--script"]
    bad = tmp_path / "bad.txt"
    bad.write_text("wait attract\nfrobnicate now\n")
    done = subprocess.run(base + [str(bad)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "unknown step 'frobnicate'" in done.stderr
    missing = tmp_path / "missing.txt"
    missing.write_text("wait attract 30\ntap Buy a unicorn\ntap Browse shoes\n")
    started = time.monotonic()
    done = subprocess.run(base + [str(missing)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and time.monotonic() - started < 120
    report = json.loads(done.stdout)
    assert not report["ok"] and len(report["steps"]) == 2 and "no button 'Buy a unicorn'" in report["steps"][1]["error"]


PIN = "2468"


def _pay_by_card(app, card_label: str) -> None:
    """Pay by card; above the step-up limit the PIN pad comes up and takes the shopper's PIN."""
    app.tap("Pay")
    app.wait_idle(30)
    app.tap("Pay by card")
    app.tap(card_label)
    app.wait_idle(60)
    assert app.screen.pin_pad is not None  # 1,099 CNY is above the step-up limit
    for digit in PIN:
        app.tap(digit)
    app.tap("OK")
    app.wait_idle(60)


def _claim_on_a_phone(cloud, payload: str) -> str:
    """A shopper registers in the app and scans the kiosk's code; returns their shopper id."""

    async def claim():
        async with SyncClient(cloud.target) as phone:
            session = await phone.register(f"shopper-{time.time_ns()}@example.com", "correct horse 1", "+8613800138000")
            await phone.claim_pairing_code(payload)
            await phone.set_payment_pin(PIN, password="correct horse 1")
            return session.subject_id

    return asyncio.run(claim())


def test_card_checkout_prints_a_receipt_whose_qr_scans_and_staff_refund_part_of_it(kiosk, cloud, tmp_path: Path):
    _add_first_shoe(kiosk)
    total = kiosk.session.cart.subtotal
    kiosk.tap("Pay")
    kiosk.wait_idle(30)
    assert not kiosk.find_button("Pay by card").enabled  # an anonymous cart: link it to an account first
    kiosk.tap("Link my phone")
    kiosk.wait_idle(30)
    shopper_id = _claim_on_a_phone(cloud, kiosk.session.pairing.qr_payload)
    kiosk.wait_for("cart", 10)  # the claim arrives live and the kiosk shows the shopper's cart
    assert kiosk.session.cart.owner_shopper_id == shopper_id and "Linked" in kiosk.notice.text
    _pay_by_card(kiosk, "Declined card")
    assert kiosk.screen.name == "paying" and "declined" in kiosk.notice.text.lower()
    kiosk.tap("Other way to pay")
    kiosk.tap("Back to cart")
    _pay_by_card(kiosk, "Visa")
    kiosk.wait_for("receipt", 60)
    kiosk.wait_idle(60)
    receipt = kiosk.screen.receipt
    assert receipt.total == total and kiosk.screen.intent.status.value == "captured"
    assert (tmp_path / "kiosk" / "receipts" / f"{receipt.receipt_id}.png").exists()  # for the printer
    shot = cv2.imread(str(kiosk.screenshot(tmp_path / "receipt.png")), cv2.IMREAD_GRAYSCALE)
    assert cv2.QRCodeDetector().detectAndDecode(shot)[0] == receipt.url
    assert kiosk.screen.intent.payment_method == "Visa ending 4242"  # the card the shopper held, as they know it
    assert _shows_text(kiosk, tmp_path / "shots" / "receipt.png", "with Visa ending 4242")
    assert not _shows_text(kiosk, tmp_path / "shots" / "receipt.png", "with token")
    intent_id = kiosk.screen.intent.intent_id
    kiosk.tap("Done")
    assert kiosk.screen.name == "attract" and kiosk.session.cart is None

    _admin_home(kiosk, cloud)
    kiosk.tap("Payments and refunds")
    kiosk.wait_idle(30)
    assert [i.intent_id for i in kiosk.screen.intents][0] == intent_id  # the cloud lists it, newest first
    kiosk.tap("Refund")
    kiosk.type_text("100.5")
    kiosk.press_key(13, "\r")
    assert kiosk.screen.pending.minor == 10050
    kiosk.tap(f"Refund {kiosk.screen.pending}")
    kiosk.wait_idle(60)
    intent = kiosk.screen.intent
    assert intent.status.value == "partially_refunded" and intent.refunded.minor == 10050
    kiosk.type_text(str(total.amount))  # more than is left
    kiosk.press_key(13, "\r")
    assert kiosk.screen.pending is None and "At most" in kiosk.notice.text

    kiosk.tap("Admin home")  # a payment found by its id (as on a receipt) shows the same state
    kiosk.tap("Payments and refunds")
    kiosk.tap("Find a payment")
    kiosk.type_text("pi_nope")
    kiosk.tap("Done")
    kiosk.wait_idle(30)
    assert kiosk.screen.name == "admin_find_payment" and kiosk.notice.level == "error"
    for _ in "pi_nope":
        kiosk.tap("Del")
    kiosk.type_text(intent_id)
    kiosk.tap("Done")
    kiosk.wait_for("admin_refund", 30)
    assert kiosk.screen.intent.refunded.minor == 10050


def _enroll_in_the_app(cloud, photo: Path) -> str:
    """A shopper registers in the app, sets a PIN and enrolls their face from their own photo."""
    from cloud.client import FaceConsent
    from payments.face.capture import capture_face, compute_embedding, load_image

    async def enroll() -> str:
        async with SyncClient(cloud.target) as phone:
            session = await phone.register("face-payer@example.com", "correct horse 1", "+8613800138000")
            await phone.set_payment_pin(PIN, password="correct horse 1")
            embedding = compute_embedding(capture_face(load_image(photo)))
            await phone.enroll_face(embedding, consent=FaceConsent("face pay at Omnifit checkouts", 365),
                                    payment_token="tok_visa_approve")
            return session.subject_id

    return asyncio.run(enroll())


def _enrollment(cloud, shopper_id: str):
    async def look_up():
        async with SyncClient(cloud.target, token=cloud.staff_session().token) as staff:
            return await staff.get_face_enrollment(shopper_id=shopper_id)

    return asyncio.run(look_up())


def test_staff_delete_a_shoppers_face_data_on_request(kiosk, cloud):
    from tests.conftest import shared_path

    shopper_id = _enroll_in_the_app(cloud, shared_path("data", "faces", "obama-480p.jpg"))
    assert _enrollment(cloud, shopper_id).enrolled
    _admin_home(kiosk, cloud)
    kiosk.tap("Delete face data")
    kiosk.type_text("face-payer@example.com")  # staff find the shopper by the email they give, not an internal id
    kiosk.tap("Done")
    kiosk.wait_idle(30)
    assert kiosk.screen.confirming == shopper_id  # nothing is deleted without a second tap
    assert kiosk.shows("Delete every face template of face-payer@example.com?")
    kiosk.tap("Delete")
    kiosk.wait_idle(30)
    assert "Face data of face-payer@example.com deleted" in kiosk.screen.result
    assert not _enrollment(cloud, shopper_id).enrolled
    kiosk.type_text(shopper_id)  # a repeated request (here by the id from the app) finds nothing left and says so
    kiosk.tap("Done")
    kiosk.wait_idle(30)
    kiosk.tap("Delete")
    kiosk.wait_idle(30)
    assert "had no face data" in kiosk.screen.result


@pytest.mark.slow
def test_face_pay_identifies_the_enrolled_shopper_and_takes_the_payment(cloud, tmp_path: Path):
    from kiosk.app.app import KioskApp
    from tests.conftest import shared_path

    photo = shared_path("data", "faces", "obama-480p.jpg")
    shopper_id = _enroll_in_the_app(cloud, photo)
    app = KioskApp(kiosk_config(cloud, tmp_path, face_photo=photo))
    try:
        app.wait_idle(30)
        _add_first_shoe(app)
        app.tap("Pay")
        app.wait_idle(30)
        app.tap("Pay with my face")
        for digits in ("1234", "8000"):  # nobody enrolled has a phone ending 1234: a miss names nobody
            if app.screen.name == "pay_face" and app.screen.failed:
                app.tap("Try again")
            for digit in digits:
                app.tap(digit)
            app.tap("OK")
            app.wait_for(lambda: app.screen.name != "pay_face" or app.screen.failed, 240)
            if digits == "1234":
                assert app.screen.name == "pay_face" and "could not match" in app.screen.failed
        assert app.screen.name == "paying", app.screen.failed
        app.wait_idle(60)
        assert app.screen.pin_pad is not None  # above the step-up limit
        for digit in PIN:
            app.tap(digit)
        app.tap("OK")
        app.wait_for("receipt", 60)
        assert app.screen.intent.shopper_id == shopper_id and app.screen.intent.status.value == "captured"
        assert app.screen.intent.payment_method == "Face pay (Visa ending 4242)"  # the enrolled card
        assert _shows_text(app, tmp_path / "shots" / "receipt.png", "with Face pay (Visa ending 4242)")
    finally:
        app.close()


def _shows_text(app, path: Path, text: str, size: int | None = None) -> bool:
    """Whether the QA screenshot of ``app`` at ``path`` shows ``text`` as the kiosk draws it (light on the background)."""
    import pygame

    from kiosk.app import ui

    rendered = ui.Fonts.get(size or ui.BODY_PX).render(text, True, ui.TEXT)
    sample = pygame.Surface(rendered.get_size())
    sample.fill(ui.BACKGROUND)
    sample.blit(rendered, (0, 0))
    template = cv2.cvtColor(np.ascontiguousarray(pygame.surfarray.array3d(sample).swapaxes(0, 1)), cv2.COLOR_RGB2GRAY)
    shot = cv2.imread(str(app.screenshot(path)), cv2.IMREAD_GRAYSCALE)
    return float(cv2.matchTemplate(shot, template, cv2.TM_CCOEFF_NORMED).max()) > 0.97


def test_a_scan_that_cannot_run_says_why_and_offers_another_try(cloud, tmp_path: Path):
    from kiosk.app.app import KioskApp
    from scanning.calibration.rig import CameraCalibration, RigCalibration
    from scanning.pipeline import synthetic_source
    from scanning.population import make_foot
    from scanning.sources.recorded import write_recording

    recording = tmp_path / "no-recording"
    app = KioskApp(kiosk_config(cloud, tmp_path, camera="recorded", camera_path=recording))
    try:
        app.tap("Scan my feet")
        app.wait_idle(60)
        assert app.screen.name == "scan" and "no-recording" in app.screen.failed
        assert app.notice is None  # said once, on the screen itself, not again in a banner
        assert _shows_text(app, tmp_path / "shots" / "failed.png", "The scan did not work:")
        assert app.find_button("Try again").enabled
        # The cameras' recording turns up (a cable plugged back in): the next try scans.
        rig = synthetic_source(make_foot(seed=7), "foot", seed=7)
        write_recording(list(rig.frames()), recording, RigCalibration(
            {c.camera_id: CameraCalibration(c.camera_id, c.intrinsics, c.extrinsic) for c in rig.cameras}))
        app.tap("Try again")
        app.wait_for("feet", 180)
        assert app.session.feet is not None and app.session.feet.right is not None
        assert not _shows_text(app, tmp_path / "shots" / "scanned.png", "The scan did not work:")
    finally:
        app.close()


def test_an_idle_shopper_session_is_dropped(cloud, tmp_path: Path):
    from kiosk.app.app import KioskApp

    app = KioskApp(kiosk_config(cloud, tmp_path, shopper_idle_s=2.0))
    try:
        app.wait_idle(30)
        _add_first_shoe(app)
        assert app.session.cart is not None
        app.wait_for("attract", 10)
        assert app.session.cart is None and app.session.feet is None
    finally:
        app.close()


def test_a_screen_that_fails_sends_the_kiosk_back_to_the_start_instead_of_crashing(kiosk):
    from kiosk.app.screen import Screen

    class Broken(Screen):
        name = "broken"

        def draw_body(self, surface):
            raise RuntimeError("a bug in a screen")

    kiosk.go(Broken(kiosk))
    kiosk.step([])
    assert kiosk.screen.name == "attract" and kiosk.notice.level == "error"
    assert "please start again" in kiosk.notice.text


@pytest.mark.slow
def test_a_linked_shopper_enrolls_for_face_pay_at_the_kiosk_with_consent(cloud, tmp_path: Path):
    from kiosk.app.app import KioskApp
    from tests.conftest import shared_path

    app = KioskApp(kiosk_config(cloud, tmp_path, face_photo=shared_path("data", "faces", "obama-480p.jpg")))
    try:
        app.wait_idle(30)
        _add_first_shoe(app)
        app.tap("Continue on my phone")
        app.wait_idle(30)
        shopper_id = _claim_on_a_phone(cloud, app.session.pairing.qr_payload)
        app.wait_for(lambda: app.screen.name == "cart" and app.session.cart.owner_shopper_id == shopper_id, 10)
        app.tap("Pay")
        app.wait_idle(30)
        app.tap("Set up face pay")
        assert app.find_button("I agree")  # nothing is captured before the shopper agrees
        app.tap("I agree")
        app.tap("Visa")
        app.wait_for(lambda: app.screen.step == "done" or (not app.screen.busy and app.screen.result), 240)
        assert app.screen.step == "done", app.screen.result
        assert "...8000" in app.screen.result
        status = _enrollment(cloud, shopper_id)
        assert status.enrolled and status.enrollment.channel == "kiosk"
        assert status.enrollment.payment_method == "Visa ending 4242"  # the card as its network names it
    finally:
        app.close()


@pytest.mark.slow
def test_a_work_process_that_dies_mid_scan_costs_one_scan_not_the_kiosk(kiosk):
    import os
    import signal

    kiosk.tap("Scan my feet")
    kiosk.wait_for(lambda: kiosk.screen.fraction > 0, 120)  # the scan is running in the work process
    for pid in list(kiosk.worker._process._processes):  # a native crash, as a segfault would end it
        os.kill(pid, signal.SIGKILL)
    kiosk.wait_idle(60)
    assert kiosk.screen.name == "scan" and "stopped unexpectedly" in kiosk.screen.failed
    kiosk.tap("Try again")
    kiosk.wait_for("feet", 180)  # a new work process took the next scan
    assert kiosk.session.feet is not None


def test_a_change_the_cloud_refuses_on_replay_is_listed_for_staff_with_the_reason(kiosk, cloud):
    from cloud.testing import ServerProcess

    _add_first_shoe(kiosk)
    cart_id = kiosk.session.cart.cart_id
    port = cloud.server.port
    cloud.server.kill()
    # A SKU withdrawn from the catalog while the kiosk was offline: queued now, refused on replay.
    kiosk.worker.call(lambda client: client.add_line(cart_id, "ka-withdrawn-sku"))
    kiosk.wait_for(lambda: kiosk.pending_mutations() == 1, 30)
    cloud.server = ServerProcess(cloud.db_url, port=port).start()
    kiosk.wait_for(lambda: kiosk.pending_mutations() == 0, 60)
    _admin_home(kiosk, cloud)
    kiosk.tap("Sync outbox")
    (entry, reason), = kiosk.worker.device.dead_letters()
    assert entry.cart_id == cart_id and "ka-withdrawn-sku" in reason
    kiosk.step([])  # drawn with the refused change listed (a drawing error would have sent the kiosk home)
    assert kiosk.screen.name == "admin_outbox"


MIRROR_VIDEO = "tfjs_woman_squats_10s.mp4"


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_mirror_shows_the_shoe_from_the_size_screen_switches_colour_and_adds_it_to_the_cart(cloud, tmp_path: Path):
    from kiosk.app.app import KioskApp
    from omnifit.shared import SHARED_DATA

    video = SHARED_DATA / "people" / MIRROR_VIDEO
    if not video.is_file():
        pytest.skip(f"{video} is not there")
    app = KioskApp(kiosk_config(cloud, tmp_path, mirror_camera=f"video:{video}"))
    try:
        app.wait_idle(30)
        app.tap("Browse shoes")
        app.wait_idle(30)
        product = app.screen.page.products[0]
        app.tap(product.name)
        app.wait_idle(30)
        chosen = app.screen.variants()[3]
        app.tap(chosen.size_label)
        app.tap("Try it on")
        mirror = app.screen
        assert mirror.name == "mirror" and mirror.sku == chosen.sku
        app.wait_for(lambda: mirror.received >= 3, 120)  # pictures from the work process reach the screen
        assert mirror.frame is not None and mirror.problem is None
        # What the mirror cannot do reaches the screen as messages the kiosk's catalog translates, and the
        # real shoe model's licence line is shown with it.
        from kiosk.app.mirror import NOTICE_MESSAGES
        assert set(mirror.notices) <= set(NOTICE_MESSAGES)
        from tryon.ar.catalog import REAL_SHOE_CREDIT, shoe_asset_for_sku
        drawn_real = shoe_asset_for_sku(chosen.sku)[1] is not None
        assert mirror.credit == (REAL_SHOE_CREDIT if drawn_real else "")
        app.tap("Change colour")
        assert mirror.sku != chosen.sku and mirror.variant.size_label == chosen.size_label
        assert mirror.variant.colour != chosen.colour
        shown = mirror.received
        app.wait_for(lambda: mirror.received > shown + 2, 120)  # the mirror came back with the new colour
        app.tap("Add to cart")
        app.wait_for("cart", 30)
        stored, _ = _cloud_cart(cloud, app.session.cart.cart_id)
        assert [line.sku for line in stored.lines] == [mirror.sku]
    finally:
        app.close()


def test_staff_see_low_stock_raise_a_request_and_mark_it_received(kiosk, cloud):
    _admin_home(kiosk, cloud)
    kiosk.tap("Stock and replenishment")
    kiosk.wait_idle(30)
    screen = kiosk.screen
    assert screen.name == "admin_stock" and screen.low  # the seed has SKUs below their safety stock
    item = next(i for i in screen.low if not i.open_request_id)
    kiosk.tap("Raise")  # on the first low SKU without a request
    kiosk.wait_idle(30)
    assert f"Request for {item.sku} raised" in kiosk.notice.text
    raised = screen.requests[0]  # newest first
    assert raised.sku == item.sku and raised.raised_by == STAFF_ID and kiosk.shows(raised.sku)
    assert next(i for i in screen.low if i.sku == item.sku).open_request_id == raised.request_id
    kiosk.tap("Received")
    kiosk.wait_idle(30)
    assert "stock is up by" in kiosk.notice.text

    async def level():
        async with SyncClient(cloud.target, token=cloud.device_token) as client:
            return await client.stock(STORE, [raised.sku])
    assert asyncio.run(level())[raised.sku] == item.on_hand + raised.quantity
    assert raised.request_id not in {r.request_id for r in screen.requests}


def test_the_health_screen_shows_the_cloud_round_trip_outbox_and_work_process(kiosk, cloud):
    _admin_home(kiosk, cloud)
    kiosk.tap("Kiosk health")
    kiosk.wait_idle(30)
    figures = {what: (value, healthy) for what, value, healthy in kiosk.screen.figures()}
    assert figures["Cloud round trip"][0].endswith(" ms") and figures["Cloud round trip"][1]
    assert figures["Outbox"] == ("0 change(s) waiting to sync", True)
    assert figures["Work process"][0] in ("not started", "ready", "working")
    assert kiosk.shows("Cloud round trip")


def test_staff_refund_a_payment_another_kiosk_of_the_store_took(kiosk, cloud):
    from cloud.admin import issue_device_token

    other_kiosk = issue_device_token(cloud.db_url, STORE)

    async def pay_elsewhere() -> str:
        async with SyncClient(cloud.target, token=other_kiosk) as client:
            page = await client.list_products(category="shoes", store_id=STORE, page_size=20)
            cheapest = min(page.products, key=lambda product: product.price.minor)  # under the PIN limit
            cart = await client.create_cart(STORE)
            cart = await client.add_line(cart.cart_id, cheapest.variants[0].sku)
            intent = await client.create_payment_intent(cart.cart_id, cart.subtotal, payment_token="tok_visa_approve",
                                                        idempotency_key="elsewhere-create")
            await client.confirm_payment_intent(intent.intent_id, None, False, idempotency_key="elsewhere-confirm")
            return (await client.capture_payment_intent(intent.intent_id, idempotency_key="elsewhere-capture")).intent_id

    intent_id = asyncio.run(pay_elsewhere())
    _admin_home(kiosk, cloud)
    kiosk.tap("Payments and refunds")
    kiosk.wait_idle(30)
    assert [i.intent_id for i in kiosk.screen.intents] == [intent_id]  # not in this kiosk's journal, still listed
    assert kiosk.shows("another kiosk or the app")
    kiosk.tap("Refund")
    amount = kiosk.screen.remaining
    kiosk.tap(f"Refund all {amount}")
    kiosk.tap(f"Refund {amount}")
    kiosk.wait_idle(60)
    assert kiosk.screen.intent.status.value == "refunded" and kiosk.screen.intent.refunded == amount
