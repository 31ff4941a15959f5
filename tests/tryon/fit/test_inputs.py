"""Measurement files: the accepted shapes and clear refusals of everything else."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanning.types import BodyMeasurements
from tests.tryon.fit.conftest import make_body, make_foot
from tryon.fit.errors import MeasurementError
from tryon.fit.inputs import load_measurements, measurements_from_json
from tryon.fit.shoes import Feet

LEFT = make_foot(266.0, 244.0).to_mm_dict()
RIGHT = make_foot(263.0, 246.0).to_mm_dict()
BODY = make_body(975, 845, 980).to_mm_dict()


def test_both_feet() -> None:
    feet = measurements_from_json({"kind": "foot", "left": LEFT, "right": RIGHT})
    assert isinstance(feet, Feet) and feet.left.length_mm == 266.0 and feet.right.ball_girth_mm == 246.0


def test_measure_output_for_one_foot_and_a_body() -> None:
    feet = measurements_from_json({"kind": "foot", "side": "right", "measurements_mm": LEFT, "quality": {"rms_mm": 1}})
    assert feet.left is None and feet.right.length_mm == 266.0
    assert measurements_from_json({"kind": "foot", "measurements_mm": LEFT}).left is not None
    body = measurements_from_json({"kind": "body", "measurements_mm": BODY})
    assert isinstance(body, BodyMeasurements) and body.chest_girth_mm == 975.0
    assert measurements_from_json({"kind": "body", "measurements": {f"{k}_mm": v for k, v in BODY.items()}}) == body


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "expected a JSON object"),
        ({"kind": "hand"}, "kind: expected one of"),
        ({"kind": "foot"}, "expected 'left' and/or 'right'"),
        ({"kind": "foot", "left": {**LEFT, "length": "long"}}, "left foot length: expected a number"),
        ({"kind": "foot", "left": {**LEFT, "length": True}}, "left foot length: expected a number"),
        ({"kind": "foot", "right": {k: v for k, v in LEFT.items() if k != "width"}}, r"missing \['width'\]"),
        ({"kind": "foot", "left": {**LEFT, "shoe_size": 42}}, r"unknown \['shoe_size'\]"),
        ({"kind": "foot", "left": {**LEFT, "length": 26.6}}, "left foot length = 26.6 mm is outside"),
        ({"kind": "foot", "side": "middle", "measurements_mm": LEFT}, "side: expected 'left' or 'right'"),
        ({"kind": "body"}, "expected 'measurements'"),
        ({"kind": "body", "measurements": {**BODY, "hip_girth": 9.8}}, "body hip_girth = 9.8 mm is outside"),
    ],
)
def test_bad_documents_are_refused(doc: object, message: str) -> None:
    with pytest.raises(MeasurementError, match=message):
        measurements_from_json(doc)


def test_files(tmp_path: Path) -> None:
    good = tmp_path / "feet.json"
    good.write_text(json.dumps({"kind": "foot", "left": LEFT}), encoding="utf-8")
    assert load_measurements(good).left.length_mm == 266.0
    with pytest.raises(MeasurementError, match="measurements file not found"):
        load_measurements(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{kind: foot", encoding="utf-8")
    with pytest.raises(MeasurementError, match="is not valid JSON"):
        load_measurements(broken)
    nan = tmp_path / "nan.json"
    nan.write_text(json.dumps({"kind": "foot", "left": {**LEFT, "width": float("nan")}}), encoding="utf-8")
    with pytest.raises(MeasurementError, match=f"{nan}: left foot width: expected a finite number"):
        load_measurements(nan)
