"""The fit engine: size systems, brand lasts, and size recommendations for shoes and clothing.

Pure Python over plain values (``scanning.types`` measurements, ``tryon.fit.catalog`` products,
stock as ``{(store_id, sku): on_hand}``), so the kiosk, the mobile app and the cloud service all
run the same code. Entry points:

- ``recommend_shoe_size(product, Feet(left, right))`` and ``recommend_garment_size(product, body)``
  -> :class:`SizeRecommendation`;
- ``fit_report(catalog, sku, measurements, store_id=..., stock=...)`` -> :class:`FitReport`
  (the size, its availability, and other products that fit);
- ``shoe_last(product, size_label)`` -> :class:`ShoeLast` (used by the AR mirror too).
"""
from tryon.fit.clothing import recommend_garment_size
from tryon.fit.errors import FitError, GradingError, MeasurementError, SizeSystemError, UnknownProductError
from tryon.fit.inputs import load_measurements, measurements_from_json
from tryon.fit.lasts import ShoeLast, shoe_last
from tryon.fit.recommend import (
    Availability,
    FitReport,
    SizeAvailability,
    Suggestion,
    fit_report,
    size_availability,
    stock_levels,
    suggest_products,
)
from tryon.fit.results import FitVerdict, FitZone, SizeFit, SizeRecommendation, ZoneFit
from tryon.fit.shoes import Feet, recommend_shoe_size
from tryon.fit.size_systems import SizeSystem

__all__ = [
    "Availability",
    "Feet",
    "FitError",
    "FitReport",
    "FitVerdict",
    "FitZone",
    "GradingError",
    "MeasurementError",
    "ShoeLast",
    "SizeAvailability",
    "SizeFit",
    "SizeRecommendation",
    "SizeSystem",
    "SizeSystemError",
    "Suggestion",
    "UnknownProductError",
    "ZoneFit",
    "fit_report",
    "load_measurements",
    "measurements_from_json",
    "recommend_garment_size",
    "recommend_shoe_size",
    "shoe_last",
    "size_availability",
    "stock_levels",
    "suggest_products",
]
