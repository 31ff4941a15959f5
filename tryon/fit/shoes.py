"""Shoe size recommendation from both feet against the product's last in every size.

The bigger foot decides each zone: the longer foot sets the toe room, the fuller ball sets the
ball fit (a shoe is bought in one size for both feet, and the smaller foot can be padded but the
larger one cannot be squeezed). Zones, each judged as last figure minus foot figure (mm):

===========  ==================  ===========  ==========  =======
zone         foot figure         design ease  good band   weight
===========  ==================  ===========  ==========  =======
toe room     length              toe allow.   -4 .. +5    1.0
ball         ball girth          0            -7 .. +9    0.5
instep       instep girth        0            -10 .. +12  0.2
heel         heel width          0            -4 .. +5    0.15
===========  ==================  ===========  ==========  =======

Falling short costs 3x (toe room) or 2x (girths) what the same excess costs, because cramped
toes hurt and a loose shoe can be laced. The confidence re-draws the foot within the scanner's
error (one standard deviation: length 2 mm, as ISO 20685-1 allows for foot length, ball girth
4 mm, instep girth 5 mm, heel width 2 mm).
"""
from __future__ import annotations

from dataclasses import dataclass

from scanning.types import FootMeasurements
from tryon.fit.catalog import ProductSeed
from tryon.fit.checks import check_figures
from tryon.fit.errors import MeasurementError
from tryon.fit.lasts import ShoeLast, product_lasts
from tryon.fit.results import FitVerdict, FitZone, SizeRecommendation
from tryon.fit.scoring import Candidate, Choice, ZoneSpec, choose_size, recommendation
from tryon.fit.wording import choice_reason, describe_zone

SIGMA_MM = {"length": 2.0, "ball_girth": 4.0, "instep_girth": 5.0, "heel_width": 2.0}
# Plausible adult figures (mm); outside them the scan or the file is wrong, not the foot.
FOOT_LIMITS_MM = {
    "length": (180.0, 340.0),
    "width": (60.0, 140.0),
    "ball_girth": (160.0, 330.0),
    "instep_girth": (160.0, 360.0),
    "heel_width": (35.0, 100.0),
}


@dataclass(frozen=True)
class Feet:
    """A shopper's feet; one may be missing when only one was scanned."""

    left: FootMeasurements | None = None
    right: FootMeasurements | None = None

    def __post_init__(self) -> None:
        if self.left is None and self.right is None:
            raise MeasurementError("no foot measurements: expected a left foot, a right foot, or both")
        for side, foot in self.measured():
            check_figures(foot, FOOT_LIMITS_MM, f"{side} foot")

    def measured(self) -> list[tuple[str, FootMeasurements]]:
        return [(side, foot) for side, foot in (("left", self.left), ("right", self.right)) if foot is not None]

    def deciding(self) -> dict[str, float]:
        """Each figure from the bigger foot: ``{"length": 266.0, "ball_girth": 248.0, ...}``."""
        figures = [foot.to_mm_dict() for _, foot in self.measured()]
        return {name: max(f[name] for f in figures) for name in figures[0]}

    def deciding_sides(self) -> dict[str, str]:
        """Which foot gives each figure: ``{"length": "left", "ball_girth": "right", ...}`` (ties: left)."""
        measured = [(side, foot.to_mm_dict()) for side, foot in self.measured()]
        return {name: max(measured, key=lambda m: m[1][name])[0] for name in measured[0][1]}

    def to_json_dict(self) -> dict:
        return {
            "kind": "foot",
            "left": self.left.to_mm_dict() if self.left else None,
            "right": self.right.to_mm_dict() if self.right else None,
            "deciding_foot": self.deciding_sides(),
        }


def _candidate(last: ShoeLast, labels: dict[str, str]) -> Candidate:
    return Candidate(
        size_label=last.size_label,
        labels=labels,
        zones=(
            ZoneSpec(FitZone.TOE_ROOM, "length", last.length_mm, last.toe_allowance_mm, 4.0, 5.0, 1.0, 3.0),
            ZoneSpec(FitZone.BALL, "ball_girth", last.ball_girth_mm, 0.0, 7.0, 9.0, 0.5, 2.0),
            ZoneSpec(FitZone.INSTEP, "instep_girth", last.instep_girth_mm, 0.0, 10.0, 12.0, 0.2, 2.0),
            ZoneSpec(FitZone.HEEL, "heel_width", last.heel_width_mm, 0.0, 4.0, 5.0, 0.15, 2.0),
        ),
    )


def shoe_candidates(product: ProductSeed) -> list[Candidate]:
    """One scoring candidate per size of ``product``, with the size's labels in every system."""
    labels = {
        s.size_label: {"eu": s.eu, "uk": s.uk, "us": s.us, "mondopoint": str(s.mondopoint_mm)}
        for s in product.shoe_sizes
    }
    return [_candidate(last, labels.get(last.size_label, {})) for last in product_lasts(product)]


def _feet_phrase(feet: Feet) -> str:
    measured = feet.measured()
    if len(measured) == 1:
        side, foot = measured[0]
        return f"Only your {side} foot was measured ({foot.length_mm:.0f} mm)"
    left, right = feet.left, feet.right
    difference = left.length_mm - right.length_mm
    if abs(difference) < 1.0:
        phrase = f"Both your feet are {max(left.length_mm, right.length_mm):.0f} mm long"
    else:
        longer = "left" if difference > 0 else "right"
        phrase = f"Your {longer} foot is {abs(difference):.0f} mm longer ({max(left.length_mm, right.length_mm):.0f} mm)"
    fuller = "left" if left.ball_girth_mm > right.ball_girth_mm else "right"
    longer_side = "left" if difference >= 0 else "right"
    if abs(left.ball_girth_mm - right.ball_girth_mm) >= 2.0 and fuller != longer_side:
        phrase += f" and your {fuller} foot has the fuller ball ({abs(left.ball_girth_mm - right.ball_girth_mm):.0f} mm more)"
    return phrase


def _explain(product: ProductSeed, feet: Feet, candidates: list[Candidate], choice: Choice,
             body: dict[str, float]) -> str:
    fit = choice.fits[choice.best]
    toe, ball = fit.zone(FitZone.TOE_ROOM), fit.zone(FitZone.BALL)
    run_end = {0: "smallest", len(candidates) - 1: "largest"}.get(choice.best)
    if run_end and toe.verdict is not FitVerdict.GOOD:
        return (
            f"{_feet_phrase(feet)}; even the {run_end} size, {fit.size_label}, {describe_zone(toe)} "
            f"where {product.brand} allows {toe.target_ease_mm:.0f} mm: this shoe is not made in your size."
        )
    return (
        f"{_feet_phrase(feet)}; size {fit.size_label} {describe_zone(toe)} "
        f"({product.brand} allows {toe.target_ease_mm:.0f} mm) "
        f"{'and' if ball.verdict is FitVerdict.GOOD else 'but'} {describe_zone(ball)}."
        + choice_reason(candidates, choice, body, FitZone.TOE_ROOM, "length")
    )


def recommend_shoe_size(product: ProductSeed, feet: Feet) -> SizeRecommendation:
    """The size of ``product`` to buy for ``feet``, with confidence, runner-up and zone fits."""
    candidates = shoe_candidates(product)
    body = feet.deciding()
    choice = choose_size(candidates, body, SIGMA_MM)
    return recommendation(product, choice, candidates, body, FitZone.TOE_ROOM,
                          _explain(product, feet, candidates, choice, body))
