"""The store journey that ``omnifit demo`` plays: a kiosk and a phone against a real cloud service.

Along the way the kiosk also scans a body and recommends a garment, and its AR mirror draws
the recommended shoe on a photo of a person (``../shared/data/people``; the bundled
``assets/people/mannequin.png`` when that folder is absent, and the demo says so).

It ends at the checkout: the phone sets a payment PIN and enrolls the shopper's face
(a real photo from ``../shared/data/faces`` when that folder is there), the kiosk
captures the shopper through its synthetic RGB-D camera, checks depth liveness and a
head-turn challenge, identifies them with the phone's last 4 digits and takes the payment (PIN on step-up),
the order and the receipt. Without the photos it pays by card with a sandbox token and
says so. Then a scripted session on the kiosk's own touch-screen app takes screenshots of its
main screens, and the report (:mod:`omnifit.demo_report`) puts it all on one page.

With ``replicas`` > 1 (PostgreSQL only) the journey runs against that many ``omnifit serve``
processes: the kiosk calls the first, the phone the last, and their live changes cross
between them through the database.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloud.client import CartEvent, ChangeKind, ClientError, FaceConsent, FaceMatch, Fulfilment, SyncClient
from cloud.client.types import Cart, PairingCode, Product, QueuedMutation, Variant
from omnifit.demo_report import Advice, Picture, Showcase
from omnifit.errors import ErrorCode
from omnifit.shared import SHARED_DATA

if TYPE_CHECKING:
    from scanning.types import BodyMeasurements, FootMeasurements
    from tryon.fit import Feet, SizeRecommendation

_LOGGER = logging.getLogger(__name__)
SHOPPER_PASSWORD = "correct horse battery"
SHOPPER_PHONE = "+8613800138000"
SHOPPER_PIN = "4821"
CARD_TOKEN = "tok_visa_approve"  # the sandbox network's always-approving card token
ENROLL_PHOTO, KIOSK_PHOTO = "obama.jpg", "obama2.jpg"  # two photos of one person: enrollment and the kiosk's view
CAPTURE_TRIES = 4  # the kiosk asks the shopper to look at the camera again after a refused capture
KIOSK_SESSION_S = 300  # the scripted kiosk session's limit: a scan, size advice and five screens
# The kiosk screenshots the report shows: script name → (title, caption).
KIOSK_SHOTS = {
    "01-attract": ("Welcome", "What a shopper walking up to the kiosk sees."),
    "02-scan": ("Scanning", "Standing on the glass: the scan's progress, stage by stage."),
    "03-feet": ("Your feet", "Length, width, girths, arch and heel of both feet, and the scan's quality."),
    "04-products": ("Choose a shoe", "The store's shoes, with prices."),
    "05-fit": ("Size advice", "The recommended size preselected, how sure we are, and how each zone fits."),
    "06-cart": ("The cart", "What the shopper picked; a paired phone's changes show here at once."),
    "07-pair": ("Continue on my phone", "The pairing QR code that hands the cart to the shopper's phone."),
}


def default_people_dir() -> Path:
    """``$OMNIFIT_SHARED/data/people``, else ``../shared/data/people`` beside the repository."""
    return SHARED_DATA / "people"


def default_faces_dir() -> Path:
    """``$OMNIFIT_SHARED/data/faces``, else ``../shared/data/faces`` beside the repository."""
    return SHARED_DATA / "faces"


@dataclass
class Step:
    name: str
    ms: float = 0.0
    ok: bool = True
    detail: str = ""


@dataclass
class DemoReport:
    db_url: str = ""
    target: str = ""  # the kiosk's server; with replicas, ``targets`` lists every one
    steps: list[Step] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    report: str = ""  # the written report's index.html, when one was asked for

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def to_json_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "db_url": self.db_url, "target": self.target, "targets": self.targets,
                "steps": [asdict(s) for s in self.steps], "figures": self.figures, "report": self.report}

    @property
    def phone_target(self) -> str:
        return self.targets[-1] if self.targets else self.target


class _Journey:
    """Times each step, prints it as it ends, and records failures without hiding them."""

    def __init__(self, report: DemoReport, echo: bool, showcase: Showcase | None = None,
                 people_dir: Path | None = None) -> None:
        self.report = report
        self.echo = echo
        self.showcase = showcase
        self.people_dir = people_dir or default_people_dir()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(name)
        start = time.perf_counter()
        try:
            yield step
        except Exception as exc:
            step.ok = False
            step.detail = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            step.ms = round((time.perf_counter() - start) * 1000, 2)
            self.report.steps.append(step)
            self.say(f"{'ok ' if step.ok else 'FAIL'} {step.ms:8.1f} ms  {step.name}" + (f" — {step.detail}" if step.detail else ""))

    def say(self, text: str) -> None:
        if self.echo:
            print(text, flush=True)


async def run_demo(db_url: str | None = None, store_id: str | None = None, echo: bool = True,
                   faces_dir: Path | None = None, *, report_dir: Path | None = None, replicas: int = 1,
                   people_dir: Path | None = None) -> DemoReport:
    """Run the journey; returns the report (``report.ok`` is False if any step failed).

    ``faces_dir``: the face photos for face pay (default :func:`default_faces_dir`); when
    its photos are missing the checkout is by card. ``report_dir``: write the HTML report
    there (none without it). ``replicas``: how many server processes (more than one needs
    PostgreSQL). ``people_dir``: the photos of people for the AR mirror (default
    :func:`default_people_dir`).
    """
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1; got {replicas}")
    with tempfile.TemporaryDirectory(prefix="omnifit-demo-") as folder:
        report = DemoReport(db_url=db_url or f"sqlite:///{folder}/omnifit.sqlite")
        showcase = Showcase.beside(report_dir) if report_dir is not None else None
        journey = _Journey(report, echo, showcase, people_dir)
        try:
            async with _cloud(journey, report, replicas):
                await _shop(journey, report, store_id, faces_dir or default_faces_dir(), Path(folder))
        except Exception as exc:  # a failed step is already in the report; anything else is added
            _LOGGER.debug("demo stopped", exc_info=exc)
            if not report.steps or report.steps[-1].ok:
                report.steps.append(Step("the journey stopped", ok=False, detail=f"{type(exc).__name__}: {exc}"))
                journey.say(f"FAIL {report.steps[-1].name} — {report.steps[-1].detail}")
        except BaseException:  # Ctrl-C: no half-made report folder left beside the target
            if showcase is not None:
                showcase.discard()
            raise
        if showcase is not None and report_dir is not None:
            _write_report(journey, showcase, report_dir)
    return report


@contextlib.asynccontextmanager
async def _cloud(journey: _Journey, report: DemoReport, replicas: int) -> AsyncIterator[None]:
    """The cloud service for the journey: in this process, or ``replicas`` ``omnifit serve`` processes."""
    if replicas == 1:
        from cloud.server import ServerConfig, start_server

        with journey.step("start the cloud service (gRPC, health, reflection) on the database") as step:
            server = await start_server(ServerConfig(listen="127.0.0.1:0", db_url=report.db_url, reflection=True))
            report.target = f"127.0.0.1:{server.port}"
            report.targets = [report.target]
            step.detail = f"{report.target}, {report.db_url}"
        try:
            yield
        finally:
            await server.stop(0.5)
        return
    from cloud.testing import ServerProcess

    processes: list[ServerProcess] = []
    try:
        with journey.step(f"start {replicas} cloud service processes on the one database") as step:
            if not report.db_url.startswith("postgresql"):
                raise ValueError(f"{replicas} replicas need a PostgreSQL db_url (postgresql+psycopg://...): SQLite tells "
                                 f"no other process about a cart's changes; got {report.db_url}")
            for _ in range(replicas):  # one after the other: the first creates the schema
                processes.append(ServerProcess(report.db_url))
                await asyncio.to_thread(processes[-1].start)
            report.targets = [process.target for process in processes]
            report.target = report.targets[0]
            step.detail = (f"{', '.join(report.targets)} on {report.db_url}; the kiosk calls {report.target}, "
                           f"the phone {report.phone_target}")
        yield
    finally:
        for process in processes:
            process.stop()


def _write_report(journey: _Journey, showcase: Showcase, folder: Path) -> None:
    """Draw the report's pictures (a step of its own) and write the page; the path goes into the report."""
    try:
        with journey.step("report: draw the scans from three sides and the fit map on the foot") as step:
            step.detail = f"{showcase.render()} pictures"
    except Exception as exc:  # the step says why; the page is written without those pictures
        _LOGGER.debug("report pictures failed", exc_info=exc)
    try:
        journey.report.report = str(showcase.write(journey.report, folder).resolve())
    except OSError as exc:
        showcase.discard()
        journey.report.steps.append(Step("write the report", ok=False, detail=f"{folder}: {exc}"))


async def _shop(journey: _Journey, report: DemoReport, store_id: str | None, faces_dir: Path, folder: Path) -> None:
    from cloud.admin import issue_device_token

    async with SyncClient(report.target) as browser:
        with journey.step("browse the catalog") as step:
            shoes = await browser.list_products(category="shoes", page_size=50)
            step.detail = f"{shoes.total_size} shoes; first: {shoes.products[0].brand} {shoes.products[0].name}"
        stores = await browser.list_stores()
    store_id = store_id or stores[0].store_id
    if journey.showcase is not None:
        journey.showcase.store = next((s.name for s in stores if s.store_id == store_id), store_id)
    with journey.step(f"issue a kiosk device token for store {store_id}"):
        token = issue_device_token(report.db_url, store_id)
    async with SyncClient(report.target, token=token) as kiosk, SyncClient(report.phone_target) as phone:
        cart_id = await _kiosk_builds_cart(journey, kiosk, store_id, shoes.products)
        code = await _kiosk_shows_qr(journey, kiosk, cart_id)
        with journey.step("phone: register the shopper and claim the code") as step:
            await phone.register(f"shopper-{int(time.time() * 1000)}@example.com", SHOPPER_PASSWORD, SHOPPER_PHONE)
            cart, profile = await phone.claim_pairing_code(code.qr_payload)
            if not profile.left_foot or not profile.right_foot:
                raise AssertionError("the kiosk's foot scan did not reach the shopper's profile")
            step.detail = (f"cart {cart.cart_id} now belongs to {cart.owner_shopper_id}, v{cart.version}; "
                           f"profile has both feet ({profile.right_foot['length']:.1f} mm)")
        await _live_sync(journey, report, kiosk, phone, cart_id, shoes.products)
        await _checkout(journey, report, kiosk, phone, cart_id, faces_dir)
    if journey.showcase is not None:
        await _kiosk_session(journey, report, store_id, folder / "kiosk")


def _applied(result: Cart | QueuedMutation) -> Cart:
    """The cart a mutation produced; the demo's devices are online, so nothing waits in an outbox."""
    if not isinstance(result, Cart):
        raise AssertionError(f"the change waited in the offline outbox instead of reaching the cloud: {result}")
    return result


async def _kiosk_builds_cart(journey: _Journey, kiosk: SyncClient, store_id: str, products: Sequence[Product]) -> str:
    with journey.step("kiosk: start a cart"):
        cart = await kiosk.create_cart(store_id)
    feet = _scan_feet(journey)
    with journey.step("kiosk: keep the scan with the session (fit profile)") as step:
        profile = await kiosk.put_fit_profile(
            cart_id=cart.cart_id, left_foot=_foot(feet.left).to_mm_dict(), right_foot=_foot(feet.right).to_mm_dict()
        )
        step.detail = f"left length {profile.left_foot['length']:.1f} mm, right {profile.right_foot['length']:.1f} mm"
    with journey.step("kiosk: recommend a size and add it to the cart") as step:
        product = products[0]
        recommendation = _recommend(product.product_id, feet)
        variant = next(v for v in product.variants if v.size_label == recommendation.size_label)
        cart = _applied(await kiosk.add_line(cart.cart_id, variant.sku))
        step.detail = (f"{product.name} size {variant.size_label} (confidence {recommendation.confidence:.2f}, "
                       f"{cart.lines[-1].fulfilment.value}): {recommendation.explanation}")
        if journey.showcase is not None:
            journey.showcase.shoe = _advice(f"{product.brand} {product.name}", recommendation,
                                            f"This size: {cart.lines[-1].fulfilment.value.replace('_', ' ')}.")
    _try_on(journey, variant.sku, f"{product.brand} {product.name}, size {variant.size_label}")
    _body_and_garment(journey, store_id)
    with journey.step("kiosk: add a size this store lacks (endless aisle)") as step:
        missing = await _missing_variant(kiosk, store_id, products)
        cart = _applied(await kiosk.add_line(cart.cart_id, missing.sku))
        line = cart.lines[-1]
        if line.fulfilment is not Fulfilment.SHIP_TO_HOME:
            raise AssertionError(f"expected ship-to-home for {missing.sku}, got {line.fulfilment.value}")
        step.detail = f"{line.name} size {line.size_label}: ship to home in {line.delivery_days[0]}-{line.delivery_days[1]} days"
    return cart.cart_id


def _scan_feet(journey: _Journey) -> Feet:
    """Both feet of a generated shopper through the synthetic kiosk rig (4 noisy depth cameras)."""
    from scanning.pipeline import scan, synthetic_source
    from scanning.population import make_foot
    from tryon.fit import Feet

    with journey.step("kiosk: scan both feet (synthetic rig: 4 depth cameras with sensor noise)") as step:
        result = scan(synthetic_source(make_foot(seed=0), "foot", seed=0), "foot")
        if journey.showcase is not None:
            journey.showcase.feet = result
        left, right = _foot(result.measurements["left"]), _foot(result.measurements["right"])
        watertight = all(result.reconstruction.quality.watertight.values())
        step.detail = (f"length L/R {left.length_mm:.1f}/{right.length_mm:.1f} mm, ball girth "
                       f"{left.ball_girth_mm:.1f}/{right.ball_girth_mm:.1f} mm, fused in "
                       f"{result.timing_s['scan_to_measurements']:.2f} s, watertight {watertight}")
    return Feet(left=left, right=right)


def _foot(measurements: FootMeasurements | BodyMeasurements | None) -> FootMeasurements:
    from scanning.types import FootMeasurements

    if not isinstance(measurements, FootMeasurements):
        raise AssertionError(f"a foot scan measured {type(measurements).__name__}")
    return measurements


def _recommend(product_id: str, feet: Feet) -> SizeRecommendation:
    from assets.catalog import load_seed
    from tryon.fit import recommend_shoe_size

    product = next(p for p in load_seed().products if p.product_id == product_id)
    return recommend_shoe_size(product, feet)


def _advice(product: str, recommendation: SizeRecommendation, extra: str = "") -> Advice:
    return Advice(product, recommendation.size_label, recommendation.confidence, recommendation.explanation,
                  [zone.to_json_dict() for zone in recommendation.fit.zones], extra)


def _person_photo(people_dir: Path) -> tuple[Path, str]:
    """A photo of one whole person with both feet in frame from ``people_dir`` (its ``cases.json``
    says which), else the bundled mannequin picture; and a sentence saying which it is."""
    from assets.people import mannequin_path

    try:
        cases = json.loads((people_dir / "cases.json").read_text())["cases"]
    except (OSError, ValueError, KeyError, TypeError):
        cases = []
    for case in cases:
        if (case.get("kind") == "photo" and case.get("people") == 1 and case.get("whole_body")
                and case.get("feet_in_frame") and (people_dir / case["file"]).is_file()):
            prefix = case["file"].split("_", 1)[0]
            credits = sorted(people_dir.glob(f"CREDITS-{prefix}*"))
            credit = f" (credits: {credits[0].name})" if credits else ""
            return people_dir / case["file"], f"Photo {case['file']} from {people_dir}{credit}."
    return mannequin_path(), (f"No photos of people in {people_dir}: the AR mirror used the bundled picture "
                              f"{mannequin_path().name}, the scanner's synthetic body rendered in a room.")


def _try_on(journey: _Journey, sku: str, what: str) -> None:
    """The AR mirror (MediaPipe landmarks, moderngl shoe render, compositing) over one photo of a person."""
    from tryon.ar import BodyTracker, FrameSource, Mirror, build_tryon
    from tryon.ar.catalog import REAL_SHOE_CREDIT, asset_for_sku, real_shoe_path

    with journey.step("kiosk: the AR mirror draws the recommended shoe on a person") as step:
        photo, note = _person_photo(journey.people_dir)
        if asset_for_sku(sku)[1] == real_shoe_path():  # CC BY 4.0: the drawn model is credited where it is shown
            note += f" Shoe model: {REAL_SHOE_CREDIT}."
        tracker = BodyTracker(static_image_mode=True)
        frames: list[Any] = []
        try:
            stats = Mirror(build_tryon(sku=sku), [tracker]).run(FrameSource(str(photo)), frames.append)
        finally:
            tracker.close()
        if not frames or not frames[0].overlay:
            raise AssertionError(f"the mirror found no feet to draw {sku} on in {photo.name}")
        step.detail = f"{sku} on {photo.name}: {stats.summary()['stages_ms']['render']['p50']:.0f} ms to render"
        bundled = photo.parent != journey.people_dir
        if journey.showcase is not None:
            _show_try_on(journey.showcase, photo, frames[0].image, what, note, bundled)
        if bundled:
            journey.say(f"     {note}")


def _show_try_on(showcase: Showcase, photo: Path, frame: Any, what: str, note: str, bundled: bool) -> None:
    import cv2

    from omnifit.demo_report import changed_region

    if bundled:  # said at the top of the page too: the picture is not of a real person
        showcase.notes.append(note)
    showcase.ar.append(Picture(showcase.save_png("ar-mirror", frame), "The AR mirror", f"{what}, drawn on the person's feet. {note}"))
    close_up = changed_region(cv2.imread(str(photo)), frame)
    if close_up is not None:
        showcase.ar.append(Picture(showcase.save_png("ar-mirror-feet", close_up), "Close up",
                                   "The same picture around the feet: the shoe follows each foot's direction."))


def _body_and_garment(journey: _Journey, store_id: str) -> None:
    from assets.catalog import load_seed
    from scanning.pipeline import scan, synthetic_source
    from scanning.population import make_body
    from scanning.types import BodyMeasurements
    from tryon.fit import recommend_garment_size, stock_levels, suggest_products

    with journey.step("kiosk: scan a body (synthetic booth: depth cameras around the shopper)") as step:
        result = scan(synthetic_source(make_body(seed=0), "body", seed=0), "body")
        body = result.measurements["body"]
        if not isinstance(body, BodyMeasurements):
            raise AssertionError(f"a body scan measured {type(body).__name__}")
        step.detail = (f"height {body.height_mm:.0f} mm, chest {body.chest_girth_mm:.0f}, waist {body.waist_girth_mm:.0f}, "
                       f"hips {body.hip_girth_mm:.0f} mm, fused in {result.timing_s['scan_to_measurements']:.2f} s")
    with journey.step("kiosk: recommend the garment that fits the body best, and its size") as step:
        seed = load_seed()
        fitting = suggest_products(seed.products, body, store_id=store_id, stock=stock_levels(seed.stock), limit=1)
        if fitting:
            product, recommendation = fitting[0].product, fitting[0].recommendation
            where = fitting[0].availability.availability.value.replace("_", " ")
        else:  # nothing fits well in every zone: the closest top, said so
            product, recommendation = max(((p, recommend_garment_size(p, body)) for p in seed.products if p.category == "tops"),
                                          key=lambda pair: pair[1].confidence)
            where = "no garment fits well in every zone; the closest"
        step.detail = (f"{product.name} size {recommendation.size_label} ({where}, confidence "
                       f"{recommendation.confidence:.2f}): {recommendation.explanation}")
    if journey.showcase is not None:
        journey.showcase.body = result
        journey.showcase.garment = _advice(f"{product.brand} {product.name}", recommendation, f"This size: {where}.")


async def _missing_variant(kiosk: SyncClient, store_id: str, products: Sequence[Product]) -> Variant:
    for product in products:
        levels = await kiosk.stock(store_id, [v.sku for v in product.variants])
        for variant in product.variants:
            if levels.get(variant.sku, 0) == 0:
                return variant
    raise AssertionError(f"store {store_id} holds every size of every shoe; no endless-aisle case to show")


def _terminal_qr(payload: str) -> str:
    """``payload`` as a QR code drawn in text for the terminal."""
    import qrcode

    qr = qrcode.QRCode(border=1)
    qr.add_data(payload)
    text = io.StringIO()
    qr.print_ascii(out=text, invert=True)
    return text.getvalue()


async def _kiosk_shows_qr(journey: _Journey, kiosk: SyncClient, cart_id: str) -> PairingCode:
    import cv2
    import numpy as np

    with journey.step("kiosk: show the pairing QR code") as step:
        code = await kiosk.create_pairing_code(cart_id)
        image = cv2.imdecode(np.frombuffer(code.qr_png, np.uint8), cv2.IMREAD_GRAYSCALE)
        decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
        if decoded != code.qr_payload:
            raise AssertionError(f"the QR image decodes to {decoded!r}, not {code.qr_payload!r}")
        step.detail = f"code {code.code}, valid {max(0, code.expires_at_ms // 1000 - int(time.time()))} s"
    if journey.showcase is not None:
        journey.showcase.qr = Picture(journey.showcase.save_png("pairing-qr", code.qr_png), "Pairing QR code",
                                      f"The shopper scans it with the phone to take the cart along (code {code.code}).", "small")
    if journey.echo:
        journey.say(_terminal_qr(code.qr_payload) + f"   scan me: {code.qr_payload}")
    return code


async def _live_sync(journey: _Journey, report: DemoReport, kiosk: SyncClient, phone: SyncClient, cart_id: str,
                     products: Sequence[Product]) -> None:
    """Both devices watch the cart; each change made on one must reach the other."""
    phone_events: asyncio.Queue[tuple[float, CartEvent]] = asyncio.Queue()
    kiosk_events: asyncio.Queue[tuple[float, CartEvent]] = asyncio.Queue()
    watchers = [asyncio.create_task(_pump(phone, cart_id, phone_events)), asyncio.create_task(_pump(kiosk, cart_id, kiosk_events))]
    try:
        for queue in (phone_events, kiosk_events):
            await asyncio.wait_for(queue.get(), 5)  # the snapshot each watch starts with
        with journey.step("kiosk adds a line; the phone sees it live") as step:
            sent = time.perf_counter()
            cart = _applied(await kiosk.add_line(cart_id, products[1].variants[len(products[1].variants) // 2].sku))
            arrived, event = await _until_version(phone_events, cart.version)
            report.figures["kiosk_to_phone_ms"] = round((arrived - sent) * 1000, 2)
            step.detail = f"{event.kind.value} v{event.cart.version} on the phone after {report.figures['kiosk_to_phone_ms']} ms"
        with journey.step("phone doubles a quantity; the kiosk sees it live") as step:
            line = cart.lines[0]
            sent = time.perf_counter()
            cart = _applied(await phone.update_line(cart_id, line.line_id, 2, expected_version=cart.version))
            arrived, event = await _until_version(kiosk_events, cart.version)
            report.figures["phone_to_kiosk_ms"] = round((arrived - sent) * 1000, 2)
            if event.kind is not ChangeKind.LINE_UPDATED:
                raise AssertionError(f"expected line_updated, got {event.kind.value}")
            step.detail = f"subtotal {cart.subtotal} after {report.figures['phone_to_kiosk_ms']} ms"
        with journey.step("a retried request with the same idempotency key changes nothing") as step:
            again = _applied(await phone.update_line(cart_id, line.line_id, 2, idempotency_key="demo-retry-1"))
            replay = _applied(await phone.update_line(cart_id, line.line_id, 2, idempotency_key="demo-retry-1"))
            if replay.version != again.version:
                raise AssertionError(f"replay moved the cart from v{again.version} to v{replay.version}")
            step.detail = f"both answers at v{replay.version}"
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


async def _pump(client: SyncClient, cart_id: str, queue: asyncio.Queue[tuple[float, CartEvent]]) -> None:
    async for event in client.watch(cart_id):
        queue.put_nowait((time.perf_counter(), event))


async def _until_version(queue: asyncio.Queue[tuple[float, CartEvent]], version: int) -> tuple[float, CartEvent]:
    while True:
        arrived, event = await asyncio.wait_for(queue.get(), 5)
        if event.cart.version >= version:
            return arrived, event


# ---------------------------------------------------------------------- checkout


async def _checkout(journey: _Journey, report: DemoReport, kiosk: SyncClient, phone: SyncClient, cart_id: str,
                    faces_dir: Path) -> None:
    """PIN and face enrollment on the phone; face (or card) payment, order and receipt at the kiosk."""
    with journey.step("phone: set the payment PIN (the account password asked again)") as step:
        status = await phone.set_payment_pin(SHOPPER_PIN, password=SHOPPER_PASSWORD)
        step.detail = f"PIN set for {status.shopper_id}; only a salted scrypt record is stored"
    photos = (faces_dir / ENROLL_PHOTO, faces_dir / KIOSK_PHOTO)
    cart = await kiosk.get_cart(cart_id)
    started = time.perf_counter()
    if all(path.is_file() for path in photos):
        await _enroll_on_phone(journey, phone, photos[0])
        match = await _face_at_kiosk(journey, report, kiosk, photos[1])
        with journey.step("kiosk: payment intent for the cart's subtotal, paid by the matched face") as step:
            intent = await kiosk.create_payment_intent(cart_id, cart.subtotal, face_match=match)
            step.detail = f"{intent.intent_id}: {intent.amount} with {intent.payment_method} of {intent.shopper_id}"
    else:
        with journey.step("face pay skipped: no face photos, the shopper pays by card (sandbox token)") as step:
            step.detail = f"{faces_dir} has no {ENROLL_PHOTO} / {KIOSK_PHOTO}; the card reader gives {CARD_TOKEN}"
        with journey.step("kiosk: payment intent for the cart's subtotal, paid by card") as step:
            intent = await kiosk.create_payment_intent(cart_id, cart.subtotal, payment_token=CARD_TOKEN)
            step.detail = f"{intent.intent_id}: {intent.amount} with {intent.payment_method}"
    await _confirm_and_capture(journey, kiosk, intent.intent_id, match_close=intent.step_up_required)
    report.figures["checkout_s"] = round(time.perf_counter() - started, 2)
    await _receipt(journey, kiosk, intent.intent_id)


async def _enroll_on_phone(journey: _Journey, phone: SyncClient, photo: Path) -> None:
    from payments.face.capture import capture_face, compute_embedding, load_image

    with journey.step("phone: enroll the face with consent (quality gate, embedding; only the sealed embedding is kept)") as step:
        embedding = compute_embedding(capture_face(load_image(photo)))
        consent = FaceConsent("face pay at Omnifit checkouts", retention_days=365,
                              granted_at_ms=int(time.time() * 1000))
        enrolled = await phone.enroll_face(embedding.tolist(), consent=consent, payment_token=CARD_TOKEN)
        expires = dt.datetime.fromtimestamp(enrolled.expires_at_ms / 1000, tz=dt.UTC)
        step.detail = (f"{enrolled.template_id} from {photo.name}, {enrolled.payment_method}, kept until "
                       f"{expires:%Y-%m-%d}; at checkout type {enrolled.phone_hint}")


async def _face_at_kiosk(journey: _Journey, report: DemoReport, kiosk: SyncClient, photo: Path) -> FaceMatch:
    """The kiosk's face check (``payments.face.pipeline``: quality gate, depth liveness, the challenge,
    embedding; a refused capture taken again like the kiosk asks the shopper to), then identify."""
    from payments.errors import FaceQualityError
    from payments.face.liveness import LivenessReason
    from payments.face.pipeline import SyntheticFaceCamera, shared_pipeline

    with journey.step("kiosk: capture the shopper (synthetic RGB-D camera), quality gate, depth liveness") as step:
        pipeline = shared_pipeline()
        await asyncio.to_thread(pipeline.warm_up)  # the kiosk's work process is warm before the shopper comes
        for attempt in range(CAPTURE_TRIES):
            frames = await asyncio.to_thread(SyntheticFaceCamera(photo, seed=attempt).capture)
            try:
                check = await asyncio.to_thread(pipeline.check, frames)  # quality, depth, the challenge, embedding
                break
            except FaceQualityError as exc:
                journey.say(f"     capture {attempt + 1} refused ({exc.reason.value}): please look at the camera")
        else:
            raise AssertionError(f"no usable capture in {CAPTURE_TRIES} tries")
        if not check.live and LivenessReason.NO_TURN not in check.liveness.reasons:
            raise AssertionError(f"a real face was refused by liveness: {[r.value for r in check.liveness.reasons]}")
        step.detail = (f"capture {attempt + 1}, face {check.liveness.distance_m:.2f} m away, depth relief "
                       f"{check.liveness.relief_mm:.0f} mm: live")
    with journey.step("kiosk: active liveness challenge: turn your head (Face Mesh over 6 frames)") as step:
        if not check.live:
            raise AssertionError(f"a real head turn was refused: {[r.value for r in check.liveness.reasons]}")
        embedding = check.embedding
        assert embedding is not None  # the pipeline computes the embedding of every live face
        kiosk_s = check.timings_ms["total_ms"] / 1000  # the rendering stands in for the camera; not counted
        step.detail = (f"seen by frame {check.challenge_frames_used}: the head turned, live "
                       f"({check.timings_ms['total_ms']:.0f} ms for the kiosk's checks)")
    with journey.step("kiosk: identify with the phone's last 4 digits (1:few)") as step:
        started = time.perf_counter()
        match = await kiosk.identify_face(embedding.tolist(), SHOPPER_PHONE[-4:])
        # the kiosk's checks (capture frames in hand to embedding), then the identification round trip
        report.figures["face_decision_ms"] = round((kiosk_s + time.perf_counter() - started) * 1000, 1)
        if not match.matched:
            raise AssertionError("the enrolled shopper was not matched")
        step.detail = (f"{match.shopper_id} at distance {match.distance:.3f} (threshold {match.threshold}); "
                       + ("close to the threshold: PIN needed" if match.step_up_required else "a clear match"))
    return match


async def _confirm_and_capture(journey: _Journey, kiosk: SyncClient, intent_id: str, *, match_close: bool) -> None:
    with journey.step("kiosk: confirm (the shopper types the PIN when step-up asks for it)") as step:
        try:
            intent = await kiosk.confirm_payment_intent(intent_id, face_match_close=match_close)
            step.detail = "authorized without a PIN"
        except ClientError as exc:
            if exc.code is not ErrorCode.FAILED_PRECONDITION or "PIN" not in str(exc):
                raise
            intent = await kiosk.confirm_payment_intent(intent_id, pin=SHOPPER_PIN, face_match_close=match_close)
            step.detail = f"step-up: {exc}; the PIN typed on the kiosk authorized it"
        step.detail += f" ({intent.status.value})"
    with journey.step("kiosk: capture the payment; the order takes store stock or ships from the warehouse") as step:
        intent = await kiosk.capture_payment_intent(intent_id)
        cart = await kiosk.get_cart(intent.cart_id)
        step.detail = f"{intent.status.value} {intent.captured}, order {intent.order_id}, cart {cart.status.value}"


async def _receipt(journey: _Journey, kiosk: SyncClient, intent_id: str) -> None:
    import cv2
    import numpy as np

    with journey.step("kiosk: receipt: QR to the e-receipt on screen, a printable image for the printer") as step:
        receipt = await kiosk.get_receipt(intent_id, paper_mm=58)
        image = cv2.imdecode(np.frombuffer(receipt.printable_png, np.uint8), cv2.IMREAD_GRAYSCALE)
        decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
        if decoded != receipt.url:
            raise AssertionError(f"the printed receipt's QR code reads {decoded!r}, not {receipt.url!r}")
        step.detail = (f"{receipt.receipt_id}: {len(receipt.lines)} lines, {receipt.total}, "
                       f"{image.shape[1]}x{image.shape[0]} dots printable; {receipt.url}")
    if journey.showcase is not None:
        journey.showcase.sale = f"{receipt.total} paid by {receipt.payment_method}, order {receipt.order_id}"
        journey.showcase.receipt = Picture(journey.showcase.save_png("receipt", receipt.printable_png), "The receipt",
                                           f"As the kiosk's 58 mm printer prints it; its QR code opens the e-receipt "
                                           f"({receipt.url}).")
    if journey.echo:
        journey.say(_terminal_qr(receipt.url) + f"   your e-receipt: {receipt.url}")


# ---------------------------------------------------------------------- the kiosk's own screens


def _kiosk_script(product_name: str) -> str:
    """A shopper's walk through the kiosk app: scan, feet, a shoe, size advice, cart, pairing QR.
    Each tap waits for the screen it leads to, by name, so slower machines only take longer."""
    return "\n".join([
        "wait attract 90", "idle 30", "screenshot 01-attract",
        "tap Scan my feet", "wait scan 30", "sleep 0.3", "screenshot 02-scan",
        "wait feet 180", "idle 60", "screenshot 03-feet",
        "tap Choose shoes", "wait products 30", "idle 30", "screenshot 04-products",
        f"tap {product_name}", "wait fit 30", "idle 90", "screenshot 05-fit",
        "tap Add to cart", "wait cart 30", "idle 30", "screenshot 06-cart",
        "tap Continue on my phone", "wait pair 30", "idle 30", "screenshot 07-pair",
    ]) + "\n"


async def _kiosk_session(journey: _Journey, report: DemoReport, store_id: str, folder: Path) -> None:
    """``omnifit kiosk --script`` against the same cloud, headless; its screenshots go to the report."""
    from cloud.admin import issue_device_token

    with journey.step("kiosk app: a scripted shopper walks through the touch screen (screenshots)") as step:
        async with SyncClient(report.target) as client:
            first = (await client.list_products(category="shoes", store_id=store_id, page_size=1)).products[0]
        folder.mkdir(parents=True, exist_ok=True)
        script = folder / "session.txt"
        script.write_text(_kiosk_script(first.name))
        targets = [arg for target in report.targets for arg in ("--target", target)]
        env = {**os.environ, "OMNIFIT_DEVICE_TOKEN": issue_device_token(report.db_url, store_id),
               "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omnifit.cli", "kiosk", *targets, "--store", store_id, "--data-dir", str(folder / "data"),
            "--script", str(script), "--screenshot", str(folder / "shots"), "--json",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
        try:
            out, err = await asyncio.wait_for(process.communicate(), KIOSK_SESSION_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"the scripted kiosk session took over {KIOSK_SESSION_S} s") from None
        try:
            session = json.loads(out)
        except ValueError:
            raise AssertionError(f"the kiosk app exited with {process.returncode}: {err.decode()[-1500:]}") from None
        if not session.get("ok"):
            failed: dict[str, Any] = next((s for s in session.get("steps", []) if "error" in s), {})
            raise AssertionError(f"the kiosk session stopped at {failed.get('step')!r}: {failed.get('error')}")
        shots = 0
        for name, (title, caption) in KIOSK_SHOTS.items():
            shot = folder / "shots" / f"{name}.png"
            if journey.showcase is not None and shot.is_file():
                journey.showcase.kiosk.append(Picture(journey.showcase.save_file(f"kiosk-{name}.png", shot), title, caption))
                shots += 1
        step.detail = f"{len(session['steps'])} steps, {shots} screens captured, against {', '.join(report.targets)}"
