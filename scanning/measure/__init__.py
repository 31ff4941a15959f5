"""Foot and body measurements from watertight meshes in any position and heading.

Definitions (ISO 7250-1, ISO 8559-1, shoe-last practice) are in ``docs/measurements.md``.
"""
from __future__ import annotations

from scanning.measure.body import canonicalize_body, measure_body
from scanning.measure.foot import canonicalize_foot, measure_foot

__all__ = ["canonicalize_body", "canonicalize_foot", "measure_body", "measure_foot"]
