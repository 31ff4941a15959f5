"""Choosing a size: per-zone costs, the winner and runner-up, and the confidence of the choice.

Shared by shoes and clothing. Every size of a product is a *candidate* with one
:class:`ZoneSpec` per zone: the item's figure for that zone, the ease it is designed for, the
tolerances either side, and a weight. A zone's cost is the squared distance from the design
ease in tolerance units, multiplied by ``tight_factor`` when the item is smaller than designed
(tight beats loose as a complaint). Costs are convex in the body figure, so a larger body figure
never moves the winner to a smaller size when sizes grade monotonically (shoes do).
The size with the lowest total cost wins; ties go to the earlier (smaller) candidate.
"""
from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tryon.fit.catalog import ProductSeed
from tryon.fit.results import FitVerdict, FitZone, SizeFit, SizeRecommendation, ZoneFit

_DRAW_COUNT = 64


@functools.lru_cache(maxsize=16)
def _standard_normal_draws(count: int, dims: int) -> tuple[tuple[float, ...], ...]:
    """Fixed standard-normal draws, so the same measurements always give the same confidence."""
    generator = random.Random(20261127)
    return tuple(tuple(generator.gauss(0.0, 1.0) for _ in range(dims)) for _ in range(count))


@dataclass(frozen=True)
class ZoneSpec:
    """One zone of one candidate size (millimetres)."""

    zone: FitZone
    measurement: str  # the body/foot figure it is compared with, e.g. "length", "chest_girth"
    item_mm: float  # the item's figure: last length, last girth, garment girth, garment inseam
    target_ease_mm: float  # item minus body the design intends
    tolerance_below_mm: float  # how much less ease still fits well
    tolerance_above_mm: float  # how much more ease still fits well
    weight: float = 1.0
    tight_factor: float = 2.0
    length_like: bool = False  # verdicts short/long instead of tight/roomy

    def off_target(self, body_mm: float) -> float:
        """Ease minus design ease in tolerance units (negative: tighter than designed)."""
        off = self.item_mm - body_mm - self.target_ease_mm
        return off / (self.tolerance_below_mm if off < 0 else self.tolerance_above_mm)

    def cost(self, body_mm: float) -> float:
        x = self.off_target(body_mm)
        return self.weight * x * x * (self.tight_factor if x < 0 else 1.0)

    def zone_fit(self, body_mm: float) -> ZoneFit:
        x = self.off_target(body_mm)
        if x < -1.0:
            verdict = FitVerdict.SHORT if self.length_like else FitVerdict.TIGHT
        elif x > 1.0:
            verdict = FitVerdict.LONG if self.length_like else FitVerdict.ROOMY
        else:
            verdict = FitVerdict.GOOD
        return ZoneFit(self.zone, verdict, body_mm, self.item_mm, self.item_mm - body_mm, self.target_ease_mm)


@dataclass(frozen=True)
class Candidate:
    """One size of a product as the scorer sees it."""

    size_label: str
    zones: tuple[ZoneSpec, ...]
    labels: Mapping[str, str] | None = None

    def cost(self, body: Mapping[str, float]) -> float:
        return sum(spec.cost(body[spec.measurement]) for spec in self.zones)

    def size_fit(self, body: Mapping[str, float]) -> SizeFit:
        return SizeFit(
            size_label=self.size_label,
            cost=self.cost(body),
            zones=tuple(spec.zone_fit(body[spec.measurement]) for spec in self.zones),
            labels=dict(self.labels or {}),
        )


@dataclass(frozen=True)
class Choice:
    """The outcome of :func:`choose_size` (indices into the candidates).

    ``confidence`` is the share of re-draws of the measurements (within the scanner's error) for
    which the chosen size is good in every zone; ``stability`` the share for which it still wins.
    """

    best: int
    runner_up: int | None
    confidence: float
    stability: float
    fits: tuple[SizeFit, ...]


def _best_two(costs: Sequence[float]) -> tuple[int, int | None]:
    order = sorted(range(len(costs)), key=lambda i: (costs[i], i))
    return order[0], (order[1] if len(order) > 1 else None)


def _fits_well(candidate: Candidate, body: Mapping[str, float]) -> bool:
    return all(abs(spec.off_target(body[spec.measurement])) <= 1.0 for spec in candidate.zones)


def choose_size(
    candidates: Sequence[Candidate], body: Mapping[str, float], sigma_mm: Mapping[str, float]
) -> Choice:
    """Score every candidate for ``body`` and pick the winner, runner-up and confidence.

    ``sigma_mm`` is the measurement error (one standard deviation, mm) of each body figure used;
    the body is re-drawn 64 times (fixed draws) within those errors to see how often the winner
    still fits well in every zone (confidence) and still wins (stability).
    """
    if not candidates:
        raise ValueError("no candidate sizes to choose from")
    fits = tuple(c.size_fit(body) for c in candidates)
    best, runner_up = _best_two([f.cost for f in fits])
    names = sorted(sigma_mm)
    wins = good = 0
    for draw in _standard_normal_draws(_DRAW_COUNT, len(names)):
        noisy = dict(body)
        noisy.update({name: body[name] + sigma_mm[name] * z for name, z in zip(names, draw)})
        wins += _best_two([c.cost(noisy) for c in candidates])[0] == best
        good += _fits_well(candidates[best], noisy)
    return Choice(best, runner_up, good / _DRAW_COUNT, wins / _DRAW_COUNT, fits)


def between_sizes(choice: Choice, candidates: Sequence[Candidate], body: Mapping[str, float],
                  decisive: FitZone) -> tuple[str, str] | None:
    """The winner and runner-up, smaller first, when the decisive figure falls between them.

    "Between" means the design point of the decisive zone lies between the two sizes and at
    least 35 % of the gap from either, so neither is the obvious pick on that zone alone.
    """
    if choice.runner_up is None:
        return None
    specs = [next(s for s in candidates[i].zones if s.zone is decisive) for i in (choice.best, choice.runner_up)]
    offs = [spec.item_mm - body[spec.measurement] - spec.target_ease_mm for spec in specs]
    if offs[0] * offs[1] >= 0:
        return None
    gap = abs(offs[0] - offs[1])
    if min(abs(offs[0]), abs(offs[1])) < 0.35 * gap:
        return None
    labels = [candidates[choice.best].size_label, candidates[choice.runner_up].size_label]
    return (labels[0], labels[1]) if specs[0].item_mm < specs[1].item_mm else (labels[1], labels[0])


def deciding_zone(chosen: Candidate, other: Candidate, body: Mapping[str, float]) -> ZoneFit:
    """The zone of ``other`` that costs it the most against ``chosen``: the reason it lost.

    Both candidates list the same zones in the same order (one product's sizes).
    """
    pairs = list(zip(chosen.zones, other.zones))
    worst = max(
        range(len(pairs)),
        key=lambda i: pairs[i][1].cost(body[pairs[i][1].measurement]) - pairs[i][0].cost(body[pairs[i][0].measurement]),
    )
    spec = other.zones[worst]
    return spec.zone_fit(body[spec.measurement])


def best_on_zone(candidates: Sequence[Candidate], body: Mapping[str, float], zone: FitZone) -> int:
    """The candidate that ``zone`` alone would pick (e.g. the size by length only)."""
    def zone_cost(index: int) -> float:
        spec = next(s for s in candidates[index].zones if s.zone is zone)
        return spec.cost(body[spec.measurement])

    return min(range(len(candidates)), key=lambda i: (zone_cost(i), i))


def recommendation(product: ProductSeed, choice: Choice, candidates: Sequence[Candidate], body: Mapping[str, float],
                   decisive: FitZone, explanation: str) -> SizeRecommendation:
    """Package a :class:`Choice` as the public :class:`SizeRecommendation`."""
    return SizeRecommendation(
        product_id=product.product_id,
        category=product.category,
        size_label=choice.fits[choice.best].size_label,
        confidence=choice.confidence,
        stability=choice.stability,
        fit=choice.fits[choice.best],
        runner_up=choice.fits[choice.runner_up] if choice.runner_up is not None else None,
        explanation=explanation,
        between=between_sizes(choice, candidates, body, decisive),
        sizes=choice.fits,
    )
