"""Plain typed values the scanning stages hand each other and hand to ``tryon.fit``.

Measurements are in millimetres because they are shown to people and match the
wire contract (``omnifit.v1.FootMeasurements``); geometry inside the pipeline is metres.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

FOOT_MEASUREMENT_NAMES = (
    "length",
    "width",
    "ball_girth",
    "instep_girth",
    "instep_height",
    "arch_height",
    "heel_width",
    "toe_height",
)
BODY_MEASUREMENT_NAMES = (
    "height",
    "chest_girth",
    "waist_girth",
    "hip_girth",
    "inseam",
    "shoulder_width",
    "arm_length",
)


class _Measurements:
    """Shared conversions for the measurement dataclasses (fields named ``<name>_mm``)."""

    def to_mm_dict(self) -> dict[str, float]:
        """``{"length": 265.1, ...}``: the keys the command line and JSON reports use."""
        return {f.name.removesuffix("_mm"): float(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_mm_dict(cls, values: dict[str, float]):
        """Inverse of :meth:`to_mm_dict`; accepts keys with or without the ``_mm`` suffix."""
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        clean = {k if k.endswith("_mm") else f"{k}_mm": float(v) for k, v in values.items()}
        missing = [n for n in names if n not in clean]
        unknown = sorted(set(clean) - set(names))
        if missing or unknown:
            raise ValueError(f"{cls.__name__}: missing {missing}, unknown {unknown}; expected {names}")
        return cls(**{n: clean[n] for n in names})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class FootMeasurements(_Measurements):
    """One foot, millimetres. Definitions in ``scanning/measure`` (ISO 7250-1, last practice)."""

    length_mm: float
    width_mm: float
    ball_girth_mm: float
    instep_girth_mm: float
    instep_height_mm: float
    arch_height_mm: float
    heel_width_mm: float
    toe_height_mm: float


@dataclass(frozen=True)
class BodyMeasurements(_Measurements):
    """A standing body, millimetres. Definitions in ``scanning/measure`` (ISO 8559-1)."""

    height_mm: float
    chest_girth_mm: float
    waist_girth_mm: float
    hip_girth_mm: float
    inseam_mm: float
    shoulder_width_mm: float
    arm_length_mm: float
