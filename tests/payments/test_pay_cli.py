"""``omnifit pay …`` end to end in real subprocesses on a real SQLite file: one JSON object per call."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import sqlalchemy as sa

from payments.stepup import hash_pin
from payments.storage import create_engine, payment_intents
from tests.conftest import REPO_ROOT
from tests.payments.conftest import STAFF_ID, prepare_database

pytestmark = pytest.mark.slow


def _omnifit(db: str, *argv: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "omnifit.cli", *argv], input=stdin, capture_output=True, text=True, cwd=REPO_ROOT,
        env={**os.environ, "OMNIFIT_DB_URL": db, "OMNIFIT_SANDBOX_TIMEOUT_S": "0.01", **(env or {})}, timeout=120,
    )


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


@pytest.fixture
def db(sqlite_url: str) -> str:
    prepare_database(sqlite_url).dispose()
    return sqlite_url


def test_life_cycle_replays_and_books(db: str, tmp_path: Path) -> None:
    create = ["pay", "create", "--amount", "599.00", "--currency", "CNY", "--token", "tok_visa_approve", "--key", "c1",
              "--line", "ka-swift-w-CRL-35:1:599.00:Swift W EU 35", "--json"]
    intent_id = _json(_omnifit(db, *create))["intent"]["intent_id"]
    assert _json(_omnifit(db, *create))["intent"]["intent_id"] == intent_id  # a retried create
    assert _json(_omnifit(db, "pay", "confirm", intent_id, "--key", "k1", "--json"))["intent"]["state"] == "authorized"
    for _ in range(2):  # a double tap on capture
        captured = _json(_omnifit(db, "pay", "capture", intent_id, "--key", "k2", "--json"))
    assert captured["intent"]["state"] == "captured"
    assert captured["order"]["lines"][0]["fulfilment"] == "store_stock"
    refunded = _json(_omnifit(db, "pay", "refund", intent_id, "--amount", "99.00", "--staff", STAFF_ID, "--key", "k3",
                              "--json"))
    assert refunded["intent"]["state"] == "partially_refunded"
    assert refunded["intent"]["refunded"]["amount"] == "99.00"
    shown = _json(_omnifit(db, "pay", "show", intent_id, "--json"))
    assert shown["receipt_url"] == captured["receipt_url"] and shown["intent"]["captured"]["minor"] == 59_900
    assert shown["intent"]["payment_method"] == "Visa ending 4242"
    books = _json(_omnifit(db, "pay", "ledger", "--json"))
    assert books["balanced"] and books["totals_minor"] == {"CNY": 0}
    assert {b["account"]: b["minor"] for b in books["balances"]} == {
        "gateway_clearing:sandbox": 50_000, "refunds:sh-jingan": 9_900, "store_revenue:sh-jingan": -59_900}
    png = tmp_path / "receipt.png"
    written = _json(_omnifit(db, "pay", "receipt", intent_id, "--out", str(png), "--paper", "80", "--vat", "13",
                             "--json"))
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(png)))
    assert text == written["url"] == captured["receipt_url"]


def test_step_up_pin_from_stdin(db: str, tmp_path: Path) -> None:
    records = tmp_path / "pins.json"
    records.write_text(json.dumps({"shopper-7": hash_pin("2468", n=2**10).encode()}))
    create = _json(_omnifit(db, "pay", "create", "--amount", "1500.00", "--currency", "CNY", "--token",
                            "tok_visa_approve", "--shopper", "shopper-7", "--key", "big", "--json"))
    intent_id = create["intent"]["intent_id"]
    no_pin = _omnifit(db, "pay", "confirm", intent_id, "--key", "p0", "--pin-records", str(records))
    assert no_pin.returncode == 2 and "needs the shopper's PIN" in no_pin.stderr
    wrong = _omnifit(db, "pay", "confirm", intent_id, "--key", "p1", "--pin-stdin", "--pin-records", str(records),
                     stdin="1111\n")
    assert wrong.returncode == 2 and "wrong PIN" in wrong.stderr and "2 attempt(s) left" in wrong.stderr
    ok = _omnifit(db, "pay", "confirm", intent_id, "--key", "p2", "--pin-stdin", "--json", stdin="2468\n",
                  env={"OMNIFIT_PIN_RECORDS": str(records)})
    assert _json(ok)["intent"]["state"] == "authorized"


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["pay", "show", "pi_missing", "--json"], "no payment intent 'pi_missing'"),
     (["pay", "create", "--amount", "-5", "--currency", "CNY", "--token", "tok_visa_approve", "--key", "n"],
      "more than zero"),
     (["pay", "create", "--amount", "5.001", "--currency", "CNY", "--token", "tok_visa_approve", "--key", "n"],
      "more than 2 decimal places"),
     (["pay", "create", "--amount", "5", "--currency", "ZZZ", "--token", "tok_visa_approve", "--key", "n"],
      "currency 'ZZZ' is not supported"),
     (["pay", "create", "--amount", "5", "--currency", "CNY", "--token", "4242424242424242", "--key", "n"],
      "looks like a card number"),
     (["pay", "create", "--amount", "5", "--currency", "CNY", "--token", "tok_visa_approve", "--key", "n",
       "--line", "sku-only"], "expected SKU:QTY:UNIT_PRICE")],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(db: str, argv: list[str], message: str) -> None:
    result = _omnifit(db, *argv)
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""
    engine = create_engine(db)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_intents)).scalar_one() == 0
    engine.dispose()


def test_forged_staff_and_timeouts(db: str) -> None:
    def create(token: str, key: str) -> str:
        return _json(_omnifit(db, "pay", "create", "--amount", "20", "--currency", "CNY", "--token", token, "--key", key,
                              "--json"))["intent"]["intent_id"]

    paid = create("tok_visa_approve", "a")
    _json(_omnifit(db, "pay", "confirm", paid, "--key", "a1", "--json"))
    _json(_omnifit(db, "pay", "capture", paid, "--key", "a2", "--json"))
    forged = _omnifit(db, "pay", "refund", paid, "--amount", "1", "--staff", "st-mallory", "--key", "a3")
    assert forged.returncode == 2 and "'st-mallory' is not registered staff" in forged.stderr
    slow = create("tok_timeout", "b")
    timed_out = _omnifit(db, "pay", "confirm", slow, "--key", "b1")
    assert timed_out.returncode == 2 and "did not answer" in timed_out.stderr
    assert _json(_omnifit(db, "pay", "reconcile", slow, "--json"))["intent"]["state"] == "requires_confirmation"
    assert _json(_omnifit(db, "pay", "show", paid, "--json"))["intent"]["refunded"]["minor"] == 0


def test_double_tap_from_two_processes_charges_once(db: str) -> None:
    intent_id = _json(_omnifit(db, "pay", "create", "--amount", "42.00", "--currency", "CNY", "--token",
                               "tok_visa_approve", "--key", "dt", "--json"))["intent"]["intent_id"]
    _json(_omnifit(db, "pay", "confirm", intent_id, "--key", "dt-confirm", "--json"))
    env = {**os.environ, "OMNIFIT_DB_URL": db}
    taps = [subprocess.Popen([sys.executable, "-m", "omnifit.cli", "pay", "capture", intent_id, "--key", "dt-capture",
                              "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
                             env=env) for _ in range(2)]
    outputs = [tap.communicate(timeout=120) for tap in taps]
    assert [tap.returncode for tap in taps] == [0, 0], outputs
    first, second = (json.loads(out) for out, _err in outputs)
    assert first == second and first["intent"]["state"] == "captured"
    books = _json(_omnifit(db, "pay", "ledger", "--json"))
    assert {b["account"]: b["minor"] for b in books["balances"]}["gateway_clearing:sandbox"] == 4_200
    assert books["entries"] == 1
