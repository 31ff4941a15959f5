"""Plausibility checks on measurements before any size is chosen from them."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields

from scanning.types import BodyMeasurements, FootMeasurements
from tryon.fit.errors import MeasurementError


def check_figures(measurements: FootMeasurements | BodyMeasurements, limits: Mapping[str, tuple[float, float]],
                  what: str, default: tuple[float, float] = (0.0, 400.0)) -> None:
    """Raise :class:`MeasurementError` naming ``what`` and the figure when a value is not plausible.

    ``limits`` maps figure names (without ``_mm``) to the plausible adult range in mm;
    figures not listed must lie in ``default``.
    """
    for spec in fields(measurements):
        value = getattr(measurements, spec.name)
        name = spec.name.removesuffix("_mm")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise MeasurementError(f"{what} {name}: expected a finite number of mm, got {value!r}", field=name)
        low, high = limits.get(name, default)
        if not low <= value <= high:
            raise MeasurementError(
                f"{what} {name} = {value:g} mm is outside the plausible adult range {low:g}..{high:g} mm", field=name
            )
