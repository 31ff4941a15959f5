"""Clothing size recommendation from body measurements against a garment's size chart.

A chart row gives the body ranges a size is cut for; the garment itself measures the middle of
that range plus the garment's ease (``ease_*_mm``: a slim tee has little, a hoodie a lot, a
compression tight less than none). A zone is *good* while the body lies inside the row's range,
which is the same as the ease staying within half the range of the design ease. Zones:

- tops: chest (weight 1.0), waist (0.4), hip (0.3), length from the height range (0.3);
- bottoms: waist (1.0), hip (0.6), inseam (0.8; the garment inseam should be the leg's
  inseam minus 5 mm to 35 mm longer, a slight break).

Tight costs 2x loose on girths and short 1.5x long on lengths. The confidence re-draws the
body within the scanner's error (one standard deviation: girths 12 mm, height and inseam 8 mm).
"""
from __future__ import annotations

from scanning.types import BodyMeasurements
from tryon.fit.catalog import ClothingSizeRow, ProductSeed, SizeChartSeed
from tryon.fit.checks import check_figures
from tryon.fit.errors import FitError
from tryon.fit.results import FitVerdict, FitZone, SizeRecommendation
from tryon.fit.scoring import Candidate, Choice, ZoneSpec, choose_size, recommendation
from tryon.fit.wording import choice_reason, describe_zone

SIGMA_MM = {"chest_girth": 12.0, "waist_girth": 12.0, "hip_girth": 12.0, "height": 8.0, "inseam": 8.0}
BODY_LIMITS_MM = {
    "height": (1200.0, 2200.0),
    "chest_girth": (600.0, 1600.0),
    "waist_girth": (450.0, 1600.0),
    "hip_girth": (650.0, 1700.0),
    "inseam": (500.0, 1050.0),
    "shoulder_width": (250.0, 600.0),
    "arm_length": (400.0, 900.0),
}
INSEAM_TARGET_EASE_MM = 10.0
INSEAM_TOLERANCE_MM = (15.0, 25.0)
# zone, body figure, weight by category; the row's range and the chart's ease fill in the rest.
_GIRTH_ZONES = {
    "tops": ((FitZone.CHEST, "chest_girth", 1.0), (FitZone.WAIST, "waist_girth", 0.4), (FitZone.HIP, "hip_girth", 0.3)),
    "bottoms": ((FitZone.WAIST, "waist_girth", 1.0), (FitZone.HIP, "hip_girth", 0.6)),
}
_LENGTH_WEIGHT = {"tops": 0.3, "bottoms": 0.8}
_DECISIVE = {"tops": (FitZone.CHEST, "chest"), "bottoms": (FitZone.WAIST, "waist")}


def check_body(body: BodyMeasurements) -> None:
    """Raise :class:`MeasurementError` naming the figure when a value is not plausible."""
    check_figures(body, BODY_LIMITS_MM, "body")


def _range_zone(zone: FitZone, measurement: str, low: float, high: float, ease: float, weight: float,
                length_like: bool = False) -> ZoneSpec:
    """A zone judged by a body range: good inside ``[low, high]``; the garment is the middle plus ease."""
    half = (high - low) / 2.0
    return ZoneSpec(zone, measurement, (low + high) / 2.0 + ease, ease, half, half, weight,
                    1.5 if length_like else 2.0, length_like)


def _row_candidate(category: str, row: ClothingSizeRow, chart: SizeChartSeed) -> Candidate:
    ease = {FitZone.CHEST: chart.ease_chest_mm, FitZone.WAIST: chart.ease_waist_mm, FitZone.HIP: chart.ease_hip_mm}
    ranges = {
        FitZone.CHEST: (row.chest_min_mm, row.chest_max_mm),
        FitZone.WAIST: (row.waist_min_mm, row.waist_max_mm),
        FitZone.HIP: (row.hip_min_mm, row.hip_max_mm),
    }
    zones = [
        _range_zone(zone, measurement, *ranges[zone], ease[zone], weight)
        for zone, measurement, weight in _GIRTH_ZONES[category]
        if ranges[zone][1] > 0
    ]
    if row.height_max_mm > 0:
        zones.append(_range_zone(FitZone.LENGTH, "height", row.height_min_mm, row.height_max_mm, 0.0,
                                 _LENGTH_WEIGHT[category], length_like=True))
    if row.inseam_mm > 0:
        zones.append(ZoneSpec(FitZone.INSEAM, "inseam", row.inseam_mm, INSEAM_TARGET_EASE_MM, *INSEAM_TOLERANCE_MM,
                              _LENGTH_WEIGHT[category], 1.5, True))
    return Candidate(size_label=row.size_label, zones=tuple(zones))


def garment_candidates(product: ProductSeed) -> list[Candidate]:
    """One scoring candidate per size-chart row of ``product``."""
    if product.category not in _GIRTH_ZONES or product.size_chart is None:
        raise FitError(f"product {product.product_id} ({product.category}) has no clothing size chart")
    return [_row_candidate(product.category, row, product.size_chart) for row in product.size_chart.rows]


def _explain(product: ProductSeed, candidates: list[Candidate], choice: Choice, body: dict[str, float]) -> str:
    fit = choice.fits[choice.best]
    decisive, name = _DECISIVE[product.category]
    main = fit.zone(decisive)
    others = [z for z in fit.zones if z.zone is not decisive]
    off = [z for z in others if z.verdict is not FitVerdict.GOOD]
    rest = (
        f"; it {' and '.join(describe_zone(z) for z in off)}" if off else " and fits everywhere else"
    )
    return (
        f"Your {name} is {main.body_mm:.0f} mm; size {fit.size_label} gives {main.ease_mm:.0f} mm of ease there "
        f"(this {product.name.lower()} is cut for {main.target_ease_mm:.0f} mm){rest}."
        + choice_reason(candidates, choice, body, decisive, name)
    )


def recommend_garment_size(product: ProductSeed, body: BodyMeasurements) -> SizeRecommendation:
    """The size of ``product`` to buy for ``body``, with confidence, runner-up and zone fits."""
    check_body(body)
    candidates = garment_candidates(product)
    figures = body.to_mm_dict()
    choice = choose_size(candidates, figures, SIGMA_MM)
    decisive = _DECISIVE[product.category][0]
    return recommendation(product, choice, candidates, figures, decisive,
                          _explain(product, candidates, choice, figures))
