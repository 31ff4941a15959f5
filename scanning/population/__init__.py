"""Procedural populations of adult feet and bodies to test the scanning pipeline against.

Every generated mesh is watertight, in metres, in the canonical frame the measurement
stage uses, and carries the values it was built with in ``mesh.metadata["omnifit_truth"]``.
"""
from __future__ import annotations

from scanning.population.foot import foot_population, make_foot

__all__ = ["foot_population", "make_foot"]
