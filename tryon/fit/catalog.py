"""The catalog's product types: stores, products with their sizes and colours, variants, stock.

The fit engine reads these; the cloud, the kiosk and the mobile app use them as their catalog
model too. ``assets.catalog.load_seed`` loads the shipped JSON seed into them.

Variant SKUs are ``{product_id}-{colour code}-{size label}``; every colour comes in every size.
Lengths are millimetres, money is integer minor units (never float).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

CATEGORIES = ("shoes", "tops", "bottoms")
GENDERS = ("men", "women", "unisex")


@dataclass(frozen=True)
class StoreSeed:
    store_id: str
    name: str
    city: str
    timezone: str


@dataclass(frozen=True)
class ColourSeed:
    code: str  # short upper-case code used in SKUs, e.g. "BLK"
    name: str  # shown to people, e.g. "Black"


@dataclass(frozen=True)
class ShoeSizeSeed:
    size_label: str  # as on the tag, in the brand's primary system (EU)
    eu: str
    us: str
    uk: str
    mondopoint_mm: int
    last_length_mm: float
    last_ball_girth_mm: float


@dataclass(frozen=True)
class ClothingSizeRow:
    size_label: str
    chest_min_mm: float
    chest_max_mm: float
    waist_min_mm: float
    waist_max_mm: float
    hip_min_mm: float
    hip_max_mm: float
    inseam_mm: float = 0.0  # garment inseam; 0 for tops, shorts and skirts
    height_min_mm: float = 0.0  # body height the garment length is cut for; 0 when not given
    height_max_mm: float = 0.0


@dataclass(frozen=True)
class SizeChartSeed:
    rows: tuple[ClothingSizeRow, ...]
    ease_chest_mm: float
    ease_waist_mm: float
    ease_hip_mm: float


@dataclass(frozen=True)
class VariantSeed:
    sku: str
    product_id: str
    colour: ColourSeed
    size_label: str
    shoe_size: ShoeSizeSeed | None


@dataclass(frozen=True)
class ProductSeed:
    product_id: str
    name: str
    brand: str
    category: str
    gender: str
    description: str
    price_minor: int
    colours: tuple[ColourSeed, ...]
    model_uri: str
    shoe_sizes: tuple[ShoeSizeSeed, ...] = ()
    size_chart: SizeChartSeed | None = None
    last_code: str = ""  # shoes: the brand's last (assets/lasts/gradings.json)

    @property
    def size_labels(self) -> tuple[str, ...]:
        if self.shoe_sizes:
            return tuple(s.size_label for s in self.shoe_sizes)
        return tuple(r.size_label for r in self.size_chart.rows) if self.size_chart else ()

    def variants(self) -> tuple[VariantSeed, ...]:
        by_label = {s.size_label: s for s in self.shoe_sizes}
        return tuple(
            VariantSeed(
                sku=f"{self.product_id}-{colour.code}-{label}",
                product_id=self.product_id,
                colour=colour,
                size_label=label,
                shoe_size=by_label.get(label),
            )
            for colour in self.colours
            for label in self.size_labels
        )


@dataclass(frozen=True)
class StockSeed:
    store_id: str
    sku: str
    on_hand: int
    safety_stock: int = 0  # below this the store asks for more (cloud.domain.stock); 0: no safety stock
    reorder_quantity: int = 0  # how many one replenishment request asks for


@dataclass(frozen=True)
class CatalogSeed:
    currency: str
    secondary_currency: str
    secondary_per_primary: Decimal
    stores: tuple[StoreSeed, ...]
    products: tuple[ProductSeed, ...]
    stock: tuple[StockSeed, ...] = field(default=())

    def variants(self) -> tuple[VariantSeed, ...]:
        return tuple(v for p in self.products for v in p.variants())

    def secondary_price_minor(self, price_minor: int) -> int:
        """The price in the secondary currency, rounded half-up to a minor unit."""
        value = (Decimal(price_minor) * self.secondary_per_primary).quantize(Decimal(1), rounding="ROUND_HALF_UP")
        return int(value)
