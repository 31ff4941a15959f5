"""Reading measurements from JSON: the files ``omnifit fit --measurements`` takes.

Accepted shapes (millimetres; keys with or without ``_mm``):

- ``{"kind": "foot", "left": {...}, "right": {...}}`` (one side may be left out);
- ``{"kind": "body", "measurements": {...}}``;
- the output of ``omnifit measure --json``: ``{"kind": "foot" | "body", "measurements_mm": {...}}``,
  optionally with ``"side": "left" | "right"`` for a foot (other keys are ignored).
"""
from __future__ import annotations

import json
from pathlib import Path

from scanning.types import BODY_MEASUREMENT_NAMES, FOOT_MEASUREMENT_NAMES, BodyMeasurements, FootMeasurements
from tryon.fit.clothing import check_body
from tryon.fit.errors import MeasurementError
from tryon.fit.shoes import Feet

KINDS = ("foot", "body")


def _figures(raw: object, what: str, names: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise MeasurementError(f"{what}: expected an object of figures in mm, got {type(raw).__name__}")
    clean = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MeasurementError(f"{what} {key}: expected a number of mm, got {value!r}", field=key)
        clean[str(key).removesuffix("_mm")] = float(value)
    missing = [n for n in names if n not in clean]
    unknown = sorted(set(clean) - set(names))
    if missing or unknown:
        raise MeasurementError(
            f"{what}: missing {missing}, unknown {unknown}; expected the keys {list(names)} (mm)",
            missing=missing,
            unknown=unknown,
        )
    return clean


def _foot(raw: object, side: str) -> FootMeasurements:
    return FootMeasurements.from_mm_dict(_figures(raw, f"{side} foot", FOOT_MEASUREMENT_NAMES))


def _feet(doc: dict) -> Feet:
    if "measurements_mm" in doc:
        side = doc.get("side", "left")
        if side not in ("left", "right"):
            raise MeasurementError(f"side: expected 'left' or 'right', got {side!r}", field="side")
        return Feet(**{side: _foot(doc["measurements_mm"], side)})
    sides = {side: _foot(doc[side], side) for side in ("left", "right") if doc.get(side) is not None}
    if not sides:
        raise MeasurementError("foot measurements: expected 'left' and/or 'right' (or 'measurements_mm')")
    return Feet(**sides)


def _body(doc: dict) -> BodyMeasurements:
    key = "measurements_mm" if "measurements_mm" in doc else "measurements"
    if key not in doc:
        raise MeasurementError("body measurements: expected 'measurements' (or 'measurements_mm')")
    body = BodyMeasurements.from_mm_dict(_figures(doc[key], "body", BODY_MEASUREMENT_NAMES))
    check_body(body)
    return body


def measurements_from_json(doc: object) -> Feet | BodyMeasurements:
    """Feet or a body from one of the accepted JSON shapes; :class:`MeasurementError` otherwise."""
    if not isinstance(doc, dict):
        raise MeasurementError(f"measurements: expected a JSON object, got {type(doc).__name__}")
    kind = doc.get("kind")
    if kind not in KINDS:
        raise MeasurementError(f"kind: expected one of {list(KINDS)}, got {kind!r}", field="kind")
    return _feet(doc) if kind == "foot" else _body(doc)


def load_measurements(path: Path | str) -> Feet | BodyMeasurements:
    """Read and check a measurements file (see the module docstring for its shapes)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MeasurementError(f"measurements file not found: {path}", path=str(path)) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MeasurementError(f"measurements file {path} is not valid JSON: {exc}", path=str(path)) from exc
    try:
        return measurements_from_json(doc)
    except MeasurementError as exc:
        raise MeasurementError(f"{path}: {exc.message}", path=str(path), **exc.details) from exc
