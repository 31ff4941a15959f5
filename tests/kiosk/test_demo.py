"""``omnifit demo`` end to end as a shopper's journey: real service, real scan, real fit, live sync,
and the checkout by face (or by card when the face photos are absent)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, shared_path


def _demo(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "demo", "--json", *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_demo_runs_the_whole_journey_and_reports_one_json_object():
    faces = shared_path("data", "faces")
    report = _demo("--faces", str(faces))
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
    assert "obama.jpg" in steps["phone: enroll the face with consent (quality gate, embedding; only the sealed embedding is kept)"]["detail"]
    assert ": live" in steps["kiosk: capture the shopper (synthetic RGB-D camera), quality gate, depth liveness"]["detail"]
    assert "the head turned, live" in steps["kiosk: active liveness challenge: turn your head (Face Mesh over 6 frames)"]["detail"]
    assert "threshold" in steps["kiosk: identify with the phone's last 4 digits (1:few)"]["detail"]
    assert "PIN typed on the kiosk" in steps["kiosk: confirm (the shopper types the PIN when step-up asks for it)"]["detail"]
    assert "cart checked_out" in steps["kiosk: capture the payment; the order takes store stock or ships from the warehouse"]["detail"]
    assert "https://receipts." in steps["kiosk: receipt: QR to the e-receipt on screen, a printable image for the printer"]["detail"]


@pytest.mark.slow
def test_without_the_face_photos_the_demo_pays_by_card_and_says_so(tmp_path: Path):
    report = _demo("--faces", str(tmp_path / "no-faces-here"))
    assert report["ok"] is True
    names = [step["name"] for step in report["steps"]]
    assert "face pay skipped: no face photos, the shopper pays by card (sandbox token)" in names
    assert not any(name.startswith("kiosk: identify") for name in names)
    steps = {step["name"]: step for step in report["steps"]}
    assert "Visa ending 4242" in steps["kiosk: payment intent for the cart's subtotal, paid by card"]["detail"]
    assert "cart checked_out" in steps["kiosk: capture the payment; the order takes store stock or ships from the warehouse"]["detail"]


def test_demo_refuses_a_database_url_it_cannot_use():
    done = subprocess.run(
        [sys.executable, "-m", "omnifit.cli", "demo", "--json", "--db", "mysql://nowhere/db"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert "db_url" in report["steps"][0]["detail"]
