"""Brand gradings and the shoe last of each size: the data in ``assets/lasts/gradings.json``.

A brand grades its lasts from one reference size: last length follows the Paris point
(6.667 mm a size, plus the brand's own length offset), ball girth grows a few millimetres a
size (``ball_girth_per_size_mm``, per full Paris point) and shifts by width fitting, and the
other dimensions follow the last's ratios. The toe allowance (last length minus the foot
length the last is made for) is the brand's, or the last's own where it says so.

``shoe_last(product, size_label)`` is the entry point the fit engine and the AR mirror use.
Dimensions are millimetres.
"""
from __future__ import annotations

import functools
import importlib.resources
import json
from dataclasses import dataclass
from fractions import Fraction
from importlib.resources.abc import Traversable
from pathlib import Path

from tryon.fit.catalog import ProductSeed, ShoeSizeSeed
from tryon.fit.errors import GradingError
from tryon.fit.size_systems import (
    SizeSystem,
    format_label,
    mondopoint_label,
    parse_label,
    size_label,
    us_system,
)


def gradings_file() -> Traversable:
    """The brand gradings shipped in the ``assets.lasts`` package (found wherever it is installed)."""
    return importlib.resources.files("assets.lasts").joinpath("gradings.json")


@dataclass(frozen=True)
class LastProfile:
    """One last design of a brand, independent of size (ratios and offsets)."""

    code: str
    gender: str
    width_fitting: str
    style: str
    ball_width_ratio: float  # ball width / ball girth
    heel_width_ratio: float  # heel width / ball girth
    instep_over_ball_mm: float  # instep girth - ball girth
    toe_spring_mm: float
    heel_height_mm: float
    girth_adjust_mm: float = 0.0
    toe_allowance_mm: float | None = None  # None: the brand's


@dataclass(frozen=True)
class BrandGrading:
    """How one brand grades its lasts across sizes."""

    brand: str
    toe_allowance_mm: float
    length_offset_mm: float
    half_sizes: bool
    ball_girth_per_size_mm: float  # per full Paris point
    reference_size: str  # EU
    reference_ball_girth_mm: dict[str, float]  # by gender, standard fitting
    size_runs: dict[str, tuple[str, str]]  # by gender, first and last EU size
    width_fittings: dict[str, float]  # girth offset by fitting name
    lasts: dict[str, LastProfile]

    def size_run(self, gender: str) -> tuple[str, ...]:
        """The EU labels the brand makes for ``gender``, smallest first."""
        first, last = (parse_label(SizeSystem.EU, label) for label in self.size_runs[gender])
        step = Fraction(1, 2) if self.half_sizes else Fraction(1)
        count = int((last - first) / step) + 1
        return tuple(format_label(first + i * step) for i in range(count))


@dataclass(frozen=True)
class ShoeLast:
    """The last of one size of one shoe: the inside of the shoe the foot goes into (mm)."""

    brand: str
    last_code: str
    size_label: str  # EU, as on the tag
    width_fitting: str
    length_mm: float
    ball_girth_mm: float
    ball_width_mm: float
    heel_width_mm: float
    instep_girth_mm: float
    toe_allowance_mm: float
    toe_spring_mm: float
    heel_height_mm: float

    @property
    def foot_length_mm(self) -> float:
        """The foot length this size is made for: last length minus the toe allowance."""
        return self.length_mm - self.toe_allowance_mm


def _brand(name: str, raw: dict, fittings: dict[str, float]) -> BrandGrading:
    lasts = {code: LastProfile(code=code, **spec) for code, spec in raw["lasts"].items()}
    for profile in lasts.values():
        if profile.width_fitting not in fittings:
            raise GradingError(f"last {profile.code}: width fitting {profile.width_fitting!r}; expected one of {sorted(fittings)}")
    return BrandGrading(
        brand=name,
        toe_allowance_mm=float(raw["toe_allowance_mm"]),
        length_offset_mm=float(raw["length_offset_mm"]),
        half_sizes=bool(raw["half_sizes"]),
        ball_girth_per_size_mm=float(raw["ball_girth_per_size_mm"]),
        reference_size=raw["reference_size"],
        reference_ball_girth_mm={k: float(v) for k, v in raw["reference_ball_girth_mm"].items()},
        size_runs={k: (v[0], v[1]) for k, v in raw["size_runs"].items()},
        width_fittings=fittings,
        lasts=lasts,
    )


@functools.lru_cache(maxsize=4)
def load_gradings(path: Path | None = None) -> dict[str, BrandGrading]:
    """All brand gradings by brand name, from ``path`` (default ``assets/lasts/gradings.json``)."""
    source = Path(path) if path else gradings_file()
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        fittings = {k: float(v) for k, v in raw["width_fittings"].items()}
        return {name: _brand(name, spec, fittings) for name, spec in raw["brands"].items()}
    except FileNotFoundError as exc:
        raise GradingError(f"brand gradings file missing: {source}", path=str(source)) from exc
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GradingError(f"brand gradings file {source} is malformed: {exc!r}", path=str(source)) from exc


def brand_grading(brand: str) -> BrandGrading:
    """The grading of ``brand``; :class:`GradingError` names the brands known when it is absent."""
    gradings = load_gradings()
    if brand not in gradings:
        raise GradingError(f"no last grading for brand {brand!r}; graded brands: {sorted(gradings)}", brand=brand)
    return gradings[brand]


def last_profile(grading: BrandGrading, last_code: str) -> LastProfile:
    if last_code not in grading.lasts:
        raise GradingError(
            f"brand {grading.brand!r} has no last {last_code!r}; its lasts: {sorted(grading.lasts)}",
            last_code=last_code,
        )
    return grading.lasts[last_code]


def graded_last(brand: str, last_code: str, size: str) -> ShoeLast:
    """The last ``last_code`` of ``brand`` graded to EU ``size``."""
    grading = brand_grading(brand)
    profile = last_profile(grading, last_code)
    eu = parse_label(SizeSystem.EU, size)
    if format_label(eu) not in grading.size_run(profile.gender):
        raise GradingError(
            f"{brand} {last_code} is not made in EU {size}; sizes: {', '.join(grading.size_run(profile.gender))}",
            size_label=size,
        )
    steps = float(eu - parse_label(SizeSystem.EU, grading.reference_size))
    girth = (
        grading.reference_ball_girth_mm[profile.gender]
        + steps * grading.ball_girth_per_size_mm
        + grading.width_fittings[profile.width_fitting]
        + profile.girth_adjust_mm
    )
    return ShoeLast(
        brand=brand,
        last_code=last_code,
        size_label=format_label(eu),
        width_fitting=profile.width_fitting,
        length_mm=round(float(eu) * 20.0 / 3.0 + grading.length_offset_mm, 1),
        ball_girth_mm=round(girth, 1),
        ball_width_mm=round(girth * profile.ball_width_ratio, 1),
        heel_width_mm=round(girth * profile.heel_width_ratio, 1),
        instep_girth_mm=round(girth + profile.instep_over_ball_mm, 1),
        toe_allowance_mm=grading.toe_allowance_mm if profile.toe_allowance_mm is None else profile.toe_allowance_mm,
        toe_spring_mm=profile.toe_spring_mm,
        heel_height_mm=profile.heel_height_mm,
    )


def shoe_size_seeds(brand: str, last_code: str) -> tuple[ShoeSizeSeed, ...]:
    """The catalog's size rows for a shoe on ``last_code``: every size the brand makes for its gender."""
    grading = brand_grading(brand)
    profile = last_profile(grading, last_code)
    rows = []
    for eu in grading.size_run(profile.gender):
        last = graded_last(brand, last_code, eu)
        nominal = float(parse_label(SizeSystem.EU, eu)) * 20.0 / 3.0
        rows.append(
            ShoeSizeSeed(
                size_label=eu,
                eu=eu,
                us=size_label(us_system(profile.gender), nominal),
                uk=size_label(SizeSystem.UK, nominal),
                mondopoint_mm=int(mondopoint_label(last.foot_length_mm)),
                last_length_mm=last.length_mm,
                last_ball_girth_mm=last.ball_girth_mm,
            )
        )
    return tuple(rows)


def _product_last_code(product: ProductSeed, grading: BrandGrading) -> str:
    if product.last_code:
        return product.last_code
    # A product built without its last code (e.g. rebuilt from a database row): the brand's
    # first last for the product's gender, so every graded brand still gives an answer.
    for code, profile in grading.lasts.items():
        if profile.gender == product.gender:
            return code
    raise GradingError(f"product {product.product_id}: brand {product.brand!r} has no {product.gender} last")


def shoe_last(product: ProductSeed, size_label: str) -> ShoeLast:
    """The last of ``product`` in ``size_label`` (a label the product is sold in)."""
    if product.category != "shoes":
        raise GradingError(f"product {product.product_id} is {product.category}, not shoes; it has no last")
    if size_label not in product.size_labels:
        raise GradingError(
            f"product {product.product_id} has no size {size_label!r}; sizes: {', '.join(product.size_labels)}",
            size_label=size_label,
        )
    grading = brand_grading(product.brand)
    return graded_last(product.brand, _product_last_code(product, grading), size_label)


def product_lasts(product: ProductSeed) -> tuple[ShoeLast, ...]:
    """The last of every size of ``product``, smallest first."""
    return tuple(shoe_last(product, label) for label in product.size_labels)
