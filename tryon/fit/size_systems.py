"""Shoe size systems: labels as the trade writes them, and the last or foot length behind each.

Conventions (adult sizes; the sources are the standards and the trade tables that follow them):

- **Paris points (EU)**: one point is 2/3 cm, so ``EU = last length in cm x 1.5`` and a full size
  is 6.667 mm of last length (the French/continental system; ISO/TS 19407 and Wikipedia
  "Shoe size" describe it the same way). Labels: ``"42"``, ``"42.5"``.
- **UK**: one barleycorn is 1/3 inch = 8.467 mm; ``UK = 3 x last length in inches - 25``
  (the English system, size 0 at a 8 1/3 inch last; same scale for men and women in the UK).
- **US men**: ``US men = UK + 1``; **US women**: ``US women = UK + 2`` (the common
  "standard" US scales, which keep the barleycorn step and shift the zero).
- **Mondopoint (ISO 9407)**: the *foot* length in millimetres, not the last's; adult sizes step by
  5 mm. China's GB/T 3293.1 uses the same millimetre figure ("CN 265"), so CN labels equal
  Mondopoint labels. Going between a last length and Mondopoint needs the brand's toe
  allowance (last length = foot length + allowance), which is why those functions take it.

Lengths are millimetres (this is the edge shown to people); labels are strings.
"""
from __future__ import annotations

import enum
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from tryon.fit.errors import SizeSystemError

PARIS_POINT_MM = Fraction(20, 3)
BARLEYCORN_MM = Fraction(254, 30)
MONDOPOINT_STEP_MM = 5


class SizeSystem(str, enum.Enum):
    """The size systems a label may be written in; values are stable snake_case."""

    EU = "eu"
    UK = "uk"
    US_MEN = "us_men"
    US_WOMEN = "us_women"
    MONDOPOINT = "mondopoint"
    CN = "cn"


# Size number = length / step - zero, i.e. length = (size + zero) * step, for the length-scaled systems.
_SCALES: dict[SizeSystem, tuple[Fraction, int]] = {
    SizeSystem.EU: (PARIS_POINT_MM, 0),
    SizeSystem.UK: (BARLEYCORN_MM, 25),
    SizeSystem.US_MEN: (BARLEYCORN_MM, 24),
    SizeSystem.US_WOMEN: (BARLEYCORN_MM, 23),
}
# Plausible adult ranges, to catch a label typed in the wrong system ("265" as EU).
_ADULT_RANGE: dict[SizeSystem, tuple[Fraction, Fraction]] = {
    SizeSystem.EU: (Fraction(30), Fraction(52)),
    SizeSystem.UK: (Fraction(0), Fraction(18)),
    SizeSystem.US_MEN: (Fraction(1), Fraction(19)),
    SizeSystem.US_WOMEN: (Fraction(2), Fraction(20)),
    SizeSystem.MONDOPOINT: (Fraction(190), Fraction(340)),
    SizeSystem.CN: (Fraction(190), Fraction(340)),
}


def parse_label(system: SizeSystem | str, label: str) -> Fraction:
    """The size number of ``label`` (``"42.5"`` -> 85/2); raises :class:`SizeSystemError` when invalid."""
    system = SizeSystem(system)
    try:
        value = Fraction(Decimal(str(label).strip()))
    except (InvalidOperation, ValueError) as exc:
        raise SizeSystemError(f"{system.value} size label {label!r} is not a number", system=system.value) from exc
    low, high = _ADULT_RANGE[system]
    if not low <= value <= high:
        raise SizeSystemError(
            f"{system.value} size {label!r} is outside the adult range {float(low):g}..{float(high):g}",
            system=system.value,
        )
    return value


def format_label(value: Fraction | float) -> str:
    """A size number as the trade writes it: ``42``, ``42.5``, ``8.5`` (no trailing ``.0``)."""
    text = format(Decimal(float(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize(), "f")
    return text


def _round_to_step(value: Fraction, step: Fraction) -> Fraction:
    """Nearest multiple of ``step``, halves rounded up (so rounding never depends on float noise)."""
    units = value / step
    return Fraction(int(units + Fraction(1, 2)) if units >= 0 else -int(-units + Fraction(1, 2))) * step


def last_length_mm(system: SizeSystem | str, label: str) -> float:
    """The nominal last length in mm of a size in a length-scaled system (EU, UK, US)."""
    system = SizeSystem(system)
    if system not in _SCALES:
        raise SizeSystemError(
            f"{system.value} labels name a foot length, not a last length; use foot_length_mm()",
            system=system.value,
        )
    step, zero = _SCALES[system]
    return float((parse_label(system, label) + zero) * step)


def size_label(system: SizeSystem | str, last_length: float, *, half_sizes: bool = True) -> str:
    """The label in ``system`` whose nominal last is nearest ``last_length`` (mm).

    ``half_sizes=False`` rounds to whole sizes, for brands that do not make halves.
    """
    system = SizeSystem(system)
    if system not in _SCALES:
        raise SizeSystemError(
            f"{system.value} labels name a foot length, not a last length; use mondopoint_label()",
            system=system.value,
        )
    step, zero = _SCALES[system]
    size = _round_to_step(Fraction(last_length) / step - zero, Fraction(1, 2) if half_sizes else Fraction(1))
    label = format_label(size)
    parse_label(system, label)
    return label


def foot_length_mm(system: SizeSystem | str, label: str) -> float:
    """The foot length in mm that a Mondopoint / CN label names (the label itself)."""
    system = SizeSystem(system)
    if system not in (SizeSystem.MONDOPOINT, SizeSystem.CN):
        raise SizeSystemError(
            f"{system.value} labels name a last length; use last_length_mm()", system=system.value
        )
    return float(parse_label(system, label))


def mondopoint_label(foot_length: float) -> str:
    """The Mondopoint (and CN) label for a foot length in mm: the nearest 5 mm, e.g. ``"265"``."""
    label = format_label(_round_to_step(Fraction(foot_length), Fraction(MONDOPOINT_STEP_MM)))
    parse_label(SizeSystem.MONDOPOINT, label)
    return label


def convert(label: str, source: SizeSystem | str, target: SizeSystem | str, *, toe_allowance_mm: float = 15.0,
            half_sizes: bool = True) -> str:
    """Convert a size label between systems through the last length.

    Crossing between the last-length systems (EU/UK/US) and the foot-length systems
    (Mondopoint/CN) uses ``toe_allowance_mm`` (the brand's; 15 mm when unknown).
    """
    source, target = SizeSystem(source), SizeSystem(target)
    if source in _SCALES:
        length = last_length_mm(source, label)
    else:
        length = foot_length_mm(source, label) + toe_allowance_mm
    if target in _SCALES:
        return size_label(target, length, half_sizes=half_sizes)
    return mondopoint_label(length - toe_allowance_mm)


def us_system(gender: str) -> SizeSystem:
    """The US scale a product's tag uses: women's for women's products, men's otherwise (unisex too)."""
    return SizeSystem.US_WOMEN if gender == "women" else SizeSystem.US_MEN
