"""Procedural populations of adult feet and bodies to test the scanning pipeline against.

Every generated mesh is watertight, in metres, in the canonical frame the measurement
stage uses, and carries the values it was built with in ``mesh.metadata["omnifit_truth"]``.
"""
from __future__ import annotations

from scanning.population.body import body_population, make_body
from scanning.population.foot import foot_population, make_foot

__all__ = ["body_population", "foot_population", "make_body", "make_foot"]
