"""The fit report for one SKU: the size to buy, whether this store has it, and other items that fit.

Takes the catalog (``tryon.fit.catalog`` values) and stock as a plain mapping
``{(store_id, sku): on_hand}``, so the kiosk (cached catalog), the app and the cloud service
(its own database rows turned into these values) share it.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from scanning.types import BodyMeasurements
from tryon.fit.catalog import CatalogSeed, ProductSeed, StockSeed, VariantSeed
from tryon.fit.clothing import recommend_garment_size
from tryon.fit.errors import FitError, MeasurementError, UnknownProductError
from tryon.fit.results import SizeFit, SizeRecommendation
from tryon.fit.shoes import Feet, recommend_shoe_size

StockLevels = Mapping[tuple[str, str], int]  # (store_id, sku) -> units on hand


class Availability(str, enum.Enum):
    """Where a size can come from; stable snake_case values."""

    IN_STORE = "in_store"  # on the shelf in the shopper's store
    ENDLESS_AISLE = "endless_aisle"  # held by another store: shipped to the shopper's home
    UNAVAILABLE = "unavailable"  # no store holds any colour of it


def stock_levels(rows: Iterable[StockSeed]) -> dict[tuple[str, str], int]:
    """``{(store_id, sku): on_hand}`` from stock rows."""
    return {(row.store_id, row.sku): row.on_hand for row in rows}


@dataclass(frozen=True)
class SizeAvailability:
    """Which variants of one size are on hand here, and which other stores hold the size."""

    size_label: str
    availability: Availability
    in_store_skus: tuple[str, ...]
    other_stores: tuple[str, ...]

    def to_json_dict(self) -> dict:
        return {
            "size_label": self.size_label,
            "availability": self.availability.value,
            "in_store_skus": list(self.in_store_skus),
            "other_stores": list(self.other_stores),
        }


def size_availability(product: ProductSeed, size_label: str, store_id: str | None,
                      stock: StockLevels) -> SizeAvailability:
    """Availability of ``size_label`` of ``product`` (any colour) for a shopper in ``store_id``.

    With no store (the mobile app), every store's stock counts as the endless aisle.
    """
    skus = [v.sku for v in product.variants() if v.size_label == size_label]
    wanted = set(skus)
    holders = {store for (store, sku), units in stock.items() if units > 0 and sku in wanted}
    here = tuple(sku for sku in skus if store_id is not None and stock.get((store_id, sku), 0) > 0)
    others = tuple(sorted(holders - {store_id}))
    if here:
        availability = Availability.IN_STORE
    elif others:
        availability = Availability.ENDLESS_AISLE
    else:
        availability = Availability.UNAVAILABLE
    return SizeAvailability(size_label, availability, here, others)


@dataclass(frozen=True)
class Suggestion:
    """Another product that fits these measurements well, in the size to take."""

    product: ProductSeed
    recommendation: SizeRecommendation
    availability: SizeAvailability

    def to_json_dict(self) -> dict:
        return {
            "product_id": self.product.product_id,
            "name": self.product.name,
            "brand": self.product.brand,
            "category": self.product.category,
            "price_minor": self.product.price_minor,
            "size_label": self.recommendation.size_label,
            "confidence": round(self.recommendation.confidence, 3),
            "availability": self.availability.to_json_dict(),
        }


def recommend_size(product: ProductSeed, measurements: Feet | BodyMeasurements) -> SizeRecommendation:
    """Dispatch to the shoe or clothing engine; the measurements must match the product."""
    if product.category == "shoes":
        if not isinstance(measurements, Feet):
            raise MeasurementError(f"{product.product_id} is a shoe: expected foot measurements, got body")
        return recommend_shoe_size(product, measurements)
    if not isinstance(measurements, BodyMeasurements):
        raise MeasurementError(f"{product.product_id} is {product.category}: expected body measurements, got feet")
    return recommend_garment_size(product, measurements)


def _fits_kind(product: ProductSeed, measurements: Feet | BodyMeasurements) -> bool:
    return (product.category == "shoes") == isinstance(measurements, Feet)


def suggest_products(products: Sequence[ProductSeed], measurements: Feet | BodyMeasurements, *,
                     store_id: str | None, stock: StockLevels, exclude: Iterable[str] = (),
                     genders: Iterable[str] | None = None, limit: int = 5) -> tuple[Suggestion, ...]:
    """Products that fit well in every zone and can be had: in this store first, then the endless aisle.

    Within each group the most confident fit comes first. ``genders`` limits the products
    considered (unisex always counts); ``None`` considers all.
    """
    excluded = set(exclude)
    wanted = None if genders is None else set(genders) | {"unisex"}
    found = []
    for product in products:
        if product.product_id in excluded or not _fits_kind(product, measurements):
            continue
        if wanted is not None and product.gender not in wanted:
            continue
        recommendation = recommend_size(product, measurements)
        if not recommendation.fit.fits_well:
            continue
        availability = size_availability(product, recommendation.size_label, store_id, stock)
        if availability.availability is not Availability.UNAVAILABLE:
            found.append(Suggestion(product, recommendation, availability))
    found.sort(key=lambda s: (s.availability.availability is not Availability.IN_STORE,
                              -s.recommendation.confidence, s.product.product_id))
    return tuple(found[:limit])


def find_product(catalog: CatalogSeed, sku: str) -> tuple[ProductSeed, VariantSeed | None]:
    """The product a variant SKU or a product id names; :class:`UnknownProductError` when none does."""
    for product in catalog.products:
        if product.product_id == sku:
            return product, None
        if sku.startswith(product.product_id + "-"):
            for variant in product.variants():
                if variant.sku == sku:
                    return product, variant
    raise UnknownProductError(f"unknown SKU or product id {sku!r}: the catalog has no such item", sku=sku)


@dataclass(frozen=True)
class FitReport:
    """Everything ``omnifit fit`` reports for one SKU."""

    product: ProductSeed
    measurements: Feet | BodyMeasurements
    requested: VariantSeed | None
    requested_fit: SizeFit | None
    recommendation: SizeRecommendation
    availability: SizeAvailability
    store_id: str | None
    suggestions: tuple[Suggestion, ...]

    def to_json_dict(self) -> dict:
        return {
            "product": {
                "product_id": self.product.product_id,
                "name": self.product.name,
                "brand": self.product.brand,
                "category": self.product.category,
                "gender": self.product.gender,
            },
            "store_id": self.store_id,
            "measurements": self.measurements.to_json_dict()
            if isinstance(self.measurements, Feet)
            else {"kind": "body", "measurements_mm": self.measurements.to_mm_dict()},
            "requested": {
                "sku": self.requested.sku,
                "size_label": self.requested.size_label,
                "fit": self.requested_fit.to_json_dict() if self.requested_fit else None,
            }
            if self.requested
            else None,
            "recommendation": self.recommendation.to_json_dict(),
            "availability": self.availability.to_json_dict(),
            "suggestions": [s.to_json_dict() for s in self.suggestions],
        }


def fit_report(catalog: CatalogSeed, sku: str, measurements: Feet | BodyMeasurements, *,
               store_id: str | None = None, stock: StockLevels | None = None,
               suggestions: int = 5) -> FitReport:
    """Recommend a size of the item ``sku`` names and suggest other items that fit, for ``store_id``."""
    if store_id is not None and store_id not in {s.store_id for s in catalog.stores}:
        raise FitError(
            f"unknown store {store_id!r}; stores: {', '.join(s.store_id for s in catalog.stores)}", store_id=store_id
        )
    product, variant = find_product(catalog, sku)
    levels = stock_levels(catalog.stock) if stock is None else stock
    recommendation = recommend_size(product, measurements)
    genders = None if product.gender == "unisex" else (product.gender,)
    return FitReport(
        product=product,
        measurements=measurements,
        requested=variant,
        requested_fit=recommendation.size_fit(variant.size_label) if variant else None,
        recommendation=recommendation,
        availability=size_availability(product, recommendation.size_label, store_id, levels),
        store_id=store_id,
        suggestions=suggest_products(catalog.products, measurements, store_id=store_id, stock=levels,
                                     exclude=(product.product_id,), genders=genders, limit=suggestions),
    )
