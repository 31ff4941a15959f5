"""``omnifit demo`` end to end as a shopper's journey: real service, real scan, real fit, live sync."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_demo_runs_the_whole_journey_and_reports_one_json_object():
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "demo", "--json"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
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


def test_demo_refuses_a_database_url_it_cannot_use():
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "demo", "--json", "--db", "mysql://nowhere/db"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert "db_url" in report["steps"][0]["detail"]
