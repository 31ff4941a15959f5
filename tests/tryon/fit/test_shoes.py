"""Shoe recommendations: hand-worked feet against lasts, monotonicity, and bad feet."""
from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_DATA
from tests.tryon.fit.conftest import make_foot
from tryon.fit.errors import MeasurementError
from tryon.fit.results import FitVerdict, FitZone
from tryon.fit.shoes import Feet, recommend_shoe_size

CASES = json.loads((TEST_DATA / "fit" / "shoe_cases.json").read_text(encoding="utf-8"))["cases"]


def _feet(case: dict) -> Feet:
    return Feet(left=make_foot(**case["left"]), right=make_foot(**case["right"]))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hand_worked_cases(products, case: dict) -> None:
    rec = recommend_shoe_size(products[case["product_id"]], _feet(case))
    assert rec.size_label == case["size"], rec.explanation
    if "runner_up" in case:
        assert rec.runner_up is not None and rec.runner_up.size_label == case["runner_up"]
    if "between" in case:
        assert rec.between == tuple(case["between"])
    if "toe_room_mm" in case:
        assert rec.fit.zone(FitZone.TOE_ROOM).ease_mm == pytest.approx(case["toe_room_mm"], abs=0.05)
    for zone, verdict in case.get("verdicts", {}).items():
        assert rec.fit.zone(FitZone(zone)).verdict is FitVerdict(verdict), zone
    assert case.get("min_confidence", 0.0) <= rec.confidence <= case.get("max_confidence", 1.0)
    for text in case.get("explanation_contains", ()):
        assert text in rec.explanation


def test_json_form_is_plain_and_complete(products) -> None:
    feet = _feet(CASES[0])
    data = json.loads(json.dumps(recommend_shoe_size(products["ka-swift-m"], feet).to_json_dict()))
    assert data["size_label"] == "42" and data["runner_up"]["size_label"] in {"41.5", "42.5"}
    assert data["fit"]["labels"] == {"eu": "42", "uk": "8", "us": "9", "mondopoint": "265"}
    zones = {z["zone"]: z for z in data["fit"]["zones"]}
    assert set(zones) == {"toe_room", "ball", "instep", "heel"}
    assert zones["toe_room"] == {"zone": "toe_room", "verdict": "good", "body_mm": 266.0, "item_mm": 281.0,
                                 "ease_mm": 15.0, "target_ease_mm": 15.0}
    assert 0.0 <= data["confidence"] <= 1.0 and isinstance(data["explanation"], str)


def test_one_foot_is_enough_and_said_so(products) -> None:
    rec = recommend_shoe_size(products["ka-swift-m"], Feet(right=make_foot(266.0, 244.0)))
    assert rec.size_label == "42" and rec.explanation.startswith("Only your right foot was measured")


def test_the_wider_ball_is_named_when_it_is_the_other_foot(products) -> None:
    feet = Feet(left=make_foot(266.0, 244.0), right=make_foot(263.0, 250.0))
    rec = recommend_shoe_size(products["ka-swift-m"], feet)
    assert "left foot is 3 mm longer" in rec.explanation and "right foot has the fuller ball" in rec.explanation
    assert rec.fit.zone(FitZone.BALL).body_mm == 250.0
    sides = feet.deciding_sides()
    assert (sides["length"], sides["ball_girth"]) == ("left", "right")


SHOE_IDS = ["ka-swift-m", "ka-swift-w", "mv-aubert-m", "mv-elise-w", "tf-ember-u", "lc-halo-u", "sw-cloud-m"]


@settings(max_examples=60, deadline=None)
@given(
    product_id=st.sampled_from(SHOE_IDS),
    length=st.floats(min_value=215.0, max_value=300.0),
    more=st.floats(min_value=0.1, max_value=25.0),
    girth=st.floats(min_value=200.0, max_value=270.0),
    other_length=st.floats(min_value=215.0, max_value=300.0),
)
def test_a_longer_foot_never_gets_a_smaller_size(products, product_id, length, more, girth, other_length) -> None:
    product = products[product_id]
    order = product.size_labels
    other = make_foot(other_length, girth)
    short = recommend_shoe_size(product, Feet(make_foot(length, girth), other))
    longer = recommend_shoe_size(product, Feet(make_foot(length + more, girth), other))
    assert order.index(longer.size_label) >= order.index(short.size_label)


@settings(max_examples=40, deadline=None)
@given(
    product_id=st.sampled_from(SHOE_IDS),
    length=st.floats(min_value=215.0, max_value=300.0),
    girth=st.floats(min_value=200.0, max_value=265.0),
    more=st.floats(min_value=0.1, max_value=15.0),
)
def test_a_fuller_ball_never_gets_a_smaller_size(products, product_id, length, girth, more) -> None:
    product = products[product_id]
    order = product.size_labels
    narrow = recommend_shoe_size(product, Feet(make_foot(length, girth, girth + 4)))
    wide = recommend_shoe_size(product, Feet(make_foot(length, girth + more, girth + 4)))
    assert order.index(wide.size_label) >= order.index(narrow.size_label)


def test_confidence_falls_as_the_fit_worsens(products) -> None:
    product = products["ka-swift-m"]
    confidences = [recommend_shoe_size(product, Feet(make_foot(266.0, girth))).confidence
                   for girth in (244.0, 250.0, 256.0, 262.0)]
    assert confidences == sorted(confidences, reverse=True)
    assert confidences[0] > 0.8 and confidences[-1] < 0.2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"length_mm": 0.0}, "left foot length = 0 mm is outside"),
        ({"ball_girth_mm": float("nan")}, "left foot ball_girth: expected a finite number"),
        ({"length_mm": 2650.0}, "outside the plausible adult range"),  # centimetres x 10 by mistake
        ({"heel_width_mm": -5.0}, "left foot heel_width"),
    ],
)
def test_implausible_feet_are_refused(change: dict, message: str) -> None:
    with pytest.raises(MeasurementError, match=message):
        Feet(left=dataclasses.replace(make_foot(266.0, 244.0), **change))


def test_no_feet_is_refused() -> None:
    with pytest.raises(MeasurementError, match="no foot measurements"):
        Feet()
