"""Fixtures for the fit engine tests: the committed catalog and feet/bodies built from a few figures."""
from __future__ import annotations

import pytest

from assets.catalog import load_seed
from scanning.types import BodyMeasurements, FootMeasurements
from tryon.fit.catalog import CatalogSeed, ProductSeed


def make_foot(length: float, ball_girth: float, instep_girth: float | None = None,
              heel_width: float | None = None) -> FootMeasurements:
    """A plausible foot from the figures the fit engine reads; the rest from typical proportions."""
    return FootMeasurements(
        length_mm=length,
        width_mm=round(ball_girth * 0.405, 1),
        ball_girth_mm=ball_girth,
        instep_girth_mm=ball_girth + 4.0 if instep_girth is None else instep_girth,
        instep_height_mm=round(length * 0.25, 1),
        arch_height_mm=18.0,
        heel_width_mm=round(ball_girth * 0.262, 1) if heel_width is None else heel_width,
        toe_height_mm=24.0,
    )


def make_body(chest: float, waist: float, hip: float, *, height: float = 1750.0, inseam: float = 800.0) -> BodyMeasurements:
    return BodyMeasurements(
        height_mm=height,
        chest_girth_mm=chest,
        waist_girth_mm=waist,
        hip_girth_mm=hip,
        inseam_mm=inseam,
        shoulder_width_mm=440.0,
        arm_length_mm=600.0,
    )


@pytest.fixture(scope="session")
def catalog() -> CatalogSeed:
    return load_seed()


@pytest.fixture(scope="session")
def products(catalog: CatalogSeed) -> dict[str, ProductSeed]:
    return {p.product_id: p for p in catalog.products}
