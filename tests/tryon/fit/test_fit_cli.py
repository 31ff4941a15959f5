"""``omnifit fit`` end to end, as a separate process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.tryon.fit.conftest import make_body, make_foot


def _omnifit() -> list[str]:
    script = Path(sys.executable).parent / "omnifit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "omnifit.cli"]


def run_fit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_omnifit(), "fit", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)


@pytest.fixture
def feet_file(tmp_path: Path) -> Path:
    path = tmp_path / "feet.json"
    path.write_text(json.dumps({"kind": "foot", "left": make_foot(266.0, 244.0).to_mm_dict(),
                                "right": make_foot(263.0, 243.0).to_mm_dict()}), encoding="utf-8")
    return path


def test_shoe_recommendation_as_one_json_object(feet_file: Path) -> None:
    done = run_fit("--measurements", str(feet_file), "--sku", "ka-swift-m-BLK-42.5", "--store", "sh-jingan", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # exactly one object: json.loads refuses trailing text
    rec = report["recommendation"]
    assert rec["size_label"] == "42" and rec["fit"]["labels"]["uk"] == "8"
    assert "left foot is 3 mm longer" in rec["explanation"]
    assert report["requested"]["sku"] == "ka-swift-m-BLK-42.5" and report["store_id"] == "sh-jingan"
    assert report["measurements"]["deciding_foot"]["length"] == "left"
    assert report["measurements"]["right"]["length"] == 263.0
    assert report["availability"]["availability"] in {"in_store", "endless_aisle", "unavailable"}
    assert len(report["suggestions"]) <= 5


def test_body_from_measure_output_and_text_mode(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text(json.dumps({"kind": "body", "measurements_mm": make_body(975, 845, 980, height=1760).to_mm_dict()}),
                    encoding="utf-8")
    done = run_fit("--measurements", str(path), "--sku", "fl-straight-m", "--suggestions", "2", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["recommendation"]["size_label"] == "W33L32" and report["requested"] is None
    assert len(report["suggestions"]) <= 2
    text = run_fit("--measurements", str(path), "--sku", "hp-crew-m")
    assert text.returncode == 0 and "recommended size M" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sku", "zz-nothing-42"], "unknown SKU or product id 'zz-nothing-42'"),
        (["--sku", "hp-crew-m"], "is tops: expected body measurements"),
        (["--sku", "ka-swift-m", "--store", "paris"], "unknown store 'paris'"),
    ],
)
def test_bad_requests_exit_2_with_a_clear_message(feet_file: Path, args: list[str], message: str) -> None:
    done = run_fit("--measurements", str(feet_file), *args, "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("omnifit fit: error: ") and message in done.stderr


def test_bad_measurements_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "foot", "left": {"length": 266}}), encoding="utf-8")
    done = run_fit("--measurements", str(bad), "--sku", "ka-swift-m", "--json")
    assert done.returncode == 2 and "missing" in done.stderr and str(bad) in done.stderr
