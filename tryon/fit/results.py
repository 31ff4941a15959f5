"""The fit engine's result values: verdicts, per-zone fits, and size recommendations.

Plain frozen dataclasses with ``to_json_dict()`` so the command line, the kiosk, the app and the
cloud service show the same thing. Millimetres throughout (these values are shown to people).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tryon.fit.errors import FitError


class FitVerdict(str, enum.Enum):
    """How one zone fits; stable snake_case values the apps and the wire rely on."""

    TIGHT = "tight"
    GOOD = "good"
    ROOMY = "roomy"
    SHORT = "short"  # length zones: the garment or toe room falls short
    LONG = "long"


class FitZone(str, enum.Enum):
    """The zones a fit is judged on."""

    TOE_ROOM = "toe_room"
    BALL = "ball"
    INSTEP = "instep"
    HEEL = "heel"
    CHEST = "chest"
    WAIST = "waist"
    HIP = "hip"
    LENGTH = "length"
    INSEAM = "inseam"


def _mm(value: float) -> float:
    return round(float(value), 1)


@dataclass(frozen=True)
class ZoneFit:
    """One zone of one size: the body (or foot) figure, the item's, and what the difference means.

    ``ease_mm`` is item minus body (toe room for ``toe_room``); ``target_ease_mm`` is the ease the
    item is designed for (the brand's toe allowance, the garment's ease); the verdict is
    ``good`` within ``[target - tolerance_below, target + tolerance_above]``.
    """

    zone: FitZone
    verdict: FitVerdict
    body_mm: float
    item_mm: float
    ease_mm: float
    target_ease_mm: float

    @property
    def off_target_mm(self) -> float:
        """How far the ease is from the design ease (negative: tighter or shorter)."""
        return self.ease_mm - self.target_ease_mm

    def to_json_dict(self) -> dict:
        return {
            "zone": self.zone.value,
            "verdict": self.verdict.value,
            "body_mm": _mm(self.body_mm),
            "item_mm": _mm(self.item_mm),
            "ease_mm": _mm(self.ease_mm),
            "target_ease_mm": _mm(self.target_ease_mm),
        }


@dataclass(frozen=True)
class SizeFit:
    """How one size of a product fits: its zones and its cost (lower fits better)."""

    size_label: str
    cost: float
    zones: tuple[ZoneFit, ...]
    labels: dict[str, str] = field(default_factory=dict)  # the same size in other systems (shoes)

    @property
    def fits_well(self) -> bool:
        return all(z.verdict is FitVerdict.GOOD for z in self.zones)

    def zone(self, zone: FitZone) -> ZoneFit:
        return next(z for z in self.zones if z.zone is zone)

    def to_json_dict(self) -> dict:
        return {
            "size_label": self.size_label,
            "labels": dict(self.labels),
            "cost": round(self.cost, 4),
            "zones": [z.to_json_dict() for z in self.zones],
        }


@dataclass(frozen=True)
class SizeRecommendation:
    """The size to buy, how sure we are, the runner-up, and why.

    ``confidence`` (0..1) is the chance that the recommended size fits well in every zone given
    the scanner's stated measurement error: the measurements are re-drawn 64 times (fixed
    normal draws, one standard deviation per figure as each engine states) and it is the share
    of draws in which every zone stays in its good band. A size that already misfits a zone
    scores near 0; a foot at a size's design point scores near 1. ``stability`` is the share of
    the same draws in which this size still wins (low when two sizes are nearly as good).
    """

    product_id: str
    category: str
    size_label: str
    confidence: float
    stability: float
    fit: SizeFit
    runner_up: SizeFit | None
    explanation: str
    between: tuple[str, str] | None = None  # the two sizes the decisive measurement falls between
    sizes: tuple[SizeFit, ...] = ()  # every size, in the product's order

    def size_fit(self, size_label: str) -> SizeFit:
        """The fit of any size of the product (e.g. the one the shopper picked)."""
        for candidate in self.sizes:
            if candidate.size_label == size_label:
                return candidate
        raise FitError(
            f"product {self.product_id} has no size {size_label!r}; sizes: {', '.join(s.size_label for s in self.sizes)}",
            size_label=size_label,
        )

    def to_json_dict(self) -> dict:
        return {
            "product_id": self.product_id,
            "category": self.category,
            "size_label": self.size_label,
            "confidence": round(self.confidence, 3),
            "stability": round(self.stability, 3),
            "fit": self.fit.to_json_dict(),
            "runner_up": self.runner_up.to_json_dict() if self.runner_up else None,
            "between": list(self.between) if self.between else None,
            "explanation": self.explanation,
        }
