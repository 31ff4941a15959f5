"""``omnifit demo`` end to end as a shopper's journey: real service, real scan, real fit, live sync,
the checkout by face (or by card when the face photos are absent), and the report it writes,
opened in a real headless Chromium."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, shared_path

ARTEFACTS = REPO_ROOT / "out" / "demo-report"  # git-ignored: the browser's screenshot, kept for people to look at


def _demo(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "demo", "--json", *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=420,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def card_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """One demo run without face photos (the card checkout), with its report; shared by the tests below."""
    folder = tmp_path_factory.mktemp("card-demo")
    return _demo("--faces", str(folder / "no-faces-here"), "--report", str(folder / "report")), folder / "report"


@pytest.mark.slow
def test_demo_runs_the_whole_journey_and_reports_one_json_object(tmp_path: Path):
    faces = shared_path("data", "faces")
    report = _demo("--faces", str(faces), "--report", str(tmp_path / "report"))
    assert report["ok"] is True
    steps = {step["name"]: step for step in report["steps"]}
    assert all(step["ok"] for step in steps.values())
    scan = next(s for name, s in steps.items() if name.startswith("kiosk: scan both feet"))
    assert "watertight True" in scan["detail"]
    assert "ship to home" in steps["kiosk: add a size this store lacks (endless aisle)"]["detail"]
    assert "profile has both feet" in steps["phone: register the shopper and claim the code"]["detail"]
    # Live sync between the two devices arrives well inside a second.
    assert 0 < report["figures"]["kiosk_to_phone_ms"] < 1000
    assert 0 < report["figures"]["phone_to_kiosk_ms"] < 1000
    # The checkout by face: enrolled on the phone, live and matched at the kiosk, paid with the PIN.
    enrolled = steps["phone: enroll the face with consent (quality gate, embedding; only the sealed embedding is kept)"]
    assert "obama.jpg" in enrolled["detail"]
    assert ": live" in steps["kiosk: capture the shopper (synthetic RGB-D camera), quality gate, depth liveness"]["detail"]
    assert "the head turned, live" in steps["kiosk: active liveness challenge: turn your head (Face Mesh over 6 frames)"]["detail"]
    assert "threshold" in steps["kiosk: identify with the phone's last 4 digits (1:few)"]["detail"]
    assert "PIN typed on the kiosk" in steps["kiosk: confirm (the shopper types the PIN when step-up asks for it)"]["detail"]
    assert "cart checked_out" in steps["kiosk: capture the payment; the order takes store stock or ships from the warehouse"]["detail"]
    assert "https://receipts." in steps["kiosk: receipt: QR to the e-receipt on screen, a printable image for the printer"]["detail"]
    assert Path(report["report"]) == (tmp_path / "report" / "index.html").resolve()


@pytest.mark.slow
def test_without_the_face_photos_the_demo_pays_by_card_and_says_so(card_demo):
    report, _ = card_demo
    assert report["ok"] is True
    names = [step["name"] for step in report["steps"]]
    assert "face pay skipped: no face photos, the shopper pays by card (sandbox token)" in names
    assert not any(name.startswith("kiosk: identify") for name in names)
    steps = {step["name"]: step for step in report["steps"]}
    assert "Visa ending 4242" in steps["kiosk: payment intent for the cart's subtotal, paid by card"]["detail"]
    assert "cart checked_out" in steps["kiosk: capture the payment; the order takes store stock or ships from the warehouse"]["detail"]


@pytest.mark.slow
def test_the_demo_scans_a_body_tries_the_shoe_on_and_walks_through_the_kiosk_app(card_demo):
    report, folder = card_demo
    steps = {step["name"]: step for step in report["steps"]}
    assert "height 1" in steps["kiosk: scan a body (synthetic booth: depth cameras around the shopper)"]["detail"]
    assert " size " in steps["kiosk: recommend the garment that fits the body best, and its size"]["detail"]
    assert "to render" in steps["kiosk: the AR mirror draws the recommended shoe on a person"]["detail"]
    assert "7 screens captured" in steps["kiosk app: a scripted shopper walks through the touch screen (screenshots)"]["detail"]
    pictures = {path.name for path in (folder / "images").iterdir()}
    assert {"feet-top.png", "feet-side.png", "feet-front.png", "body-front.png", "body-side.png", "body-back.png",
            "fit-map-top.png", "ar-mirror.png", "pairing-qr.png", "receipt.png", "kiosk-07-pair.png"} <= pictures
    assert not list(folder.parent.glob(".report.*"))  # the staging folder was swapped into place, nothing left over


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed (the Makefile's APT_PACKAGES has it)")
        pytest.skip("Debian's chromium is not installed")
    return found


@pytest.mark.slow
def test_the_report_opens_in_headless_chromium_with_every_picture_and_no_console_error(card_demo, tmp_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api")
    report, folder = card_demo
    index = Path(report["report"])
    assert index == (folder / "index.html").resolve()
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"not loaded: {request.url}"))
            page.goto(index.as_uri(), wait_until="load")
            images = page.evaluate("[...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
            headings = page.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)")
            text = page.inner_text("body")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTEFACTS / "report.png")
    assert problems == []
    assert len(images) >= 19, images  # 3 + 3 scan views, 2 fit maps, the AR frame, 7 kiosk screens, QR, receipt, chart
    assert [src for src, complete, width in images if not complete or width == 0] == []
    assert all(src.startswith(("images/", "timings.svg")) for src, _, _ in images)  # relative: the folder travels whole
    assert any("foot scan" in h for h in headings) and any("AR mirror" in h for h in headings)
    assert "Every step of the journey worked." in text and "Size advice" in text
    assert shot.stat().st_size > 100_000  # a long page with pictures, not a blank one


def test_demo_refuses_a_database_url_it_cannot_use(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "demo", "--json", "--db", "mysql://nowhere/db", "--report", str(tmp_path / "r")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert "db_url" in report["steps"][0]["detail"]
    assert (tmp_path / "r" / "index.html").is_file()  # the report says what failed too


def test_replicas_need_postgresql(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "demo", "--replicas", "2", "--report", str(tmp_path / "r")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and "needs --db postgresql" in done.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_server_processes_on_postgresql_carry_the_kiosk_and_the_phone(pg_schema_url: str, tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "demo", "--db", pg_schema_url, "--replicas", "2",
         "--faces", str(tmp_path / "no-faces"), "--report", str(tmp_path / "report")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=420,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == str((tmp_path / "report" / "index.html").resolve())  # the last line is the report's path
    assert not [line for line in lines if line.startswith("FAIL")]
    started = next(line for line in lines if "start 2 cloud service processes" in line)
    kiosk = started.split("the kiosk calls ")[1].split(",")[0]
    phone = started.split("the phone ")[1]
    assert kiosk != phone
    # The live changes crossed between the two processes, through PostgreSQL.
    assert any("the phone sees it live" in line and line.startswith("ok") for line in lines)
    assert any("the kiosk sees it live" in line and line.startswith("ok") for line in lines)
    assert (tmp_path / "report" / "index.html").is_file()
