"""Typed view of the catalog seed files and their loader.

Files (in ``assets/catalog/`` unless another folder is given):

- ``stores.json``: ``[{"store_id", "name", "city", "timezone"}]``
- ``products.json``: ``{"currency": "CNY", "secondary_currency": "USD",
  "secondary_per_primary": "0.1380", "products": [...]}``; each product has
  ``product_id, name, brand, category (shoes|tops|bottoms), gender (men|women|unisex),
  description, price_minor (int, minor units of currency), colours [{"code", "name"}],
  model_uri`` and either ``shoe_sizes`` (shoes, with ``last_code`` naming the brand's last in
  ``assets/lasts/gradings.json``) or ``size_chart`` (clothing; rows of body-measurement ranges, tops
  with a height range, bottoms with the garment inseam, plus the garment's ease over the body).
- ``stock.json``: ``[{"store_id", "sku", "on_hand", "safety_stock", "reorder_quantity"}]``; a variant
  missing here has none.

Variant SKUs are ``{product_id}-{colour code}-{size label}``; every colour comes in every size.
Lengths are millimetres, money is integer minor units (never float).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from omnifit.errors import ErrorCode, OmnifitError

SEED_DIR = Path(__file__).resolve().parent
CATEGORIES = ("shoes", "tops", "bottoms")
GENDERS = ("men", "women", "unisex")


class SeedError(OmnifitError):
    """The seed files are missing or malformed."""

    code = ErrorCode.INVALID_ARGUMENT


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


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SeedError(f"catalog seed file missing: {path}", path=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise SeedError(f"catalog seed file {path} is not valid JSON: {exc}", path=str(path)) from exc


def _product(raw: dict) -> ProductSeed:
    try:
        category, gender = raw["category"], raw["gender"]
        if category not in CATEGORIES:
            raise SeedError(f"product {raw['product_id']}: category {category!r}; expected one of {CATEGORIES}")
        if gender not in GENDERS:
            raise SeedError(f"product {raw['product_id']}: gender {gender!r}; expected one of {GENDERS}")
        chart = raw.get("size_chart")
        return ProductSeed(
            product_id=raw["product_id"],
            name=raw["name"],
            brand=raw["brand"],
            category=category,
            gender=gender,
            description=raw["description"],
            price_minor=int(raw["price_minor"]),
            colours=tuple(ColourSeed(**c) for c in raw["colours"]),
            model_uri=raw.get("model_uri", ""),
            shoe_sizes=tuple(ShoeSizeSeed(**s) for s in raw.get("shoe_sizes", ())),
            size_chart=SizeChartSeed(
                rows=tuple(ClothingSizeRow(**r) for r in chart["rows"]),
                ease_chest_mm=chart["ease_chest_mm"],
                ease_waist_mm=chart["ease_waist_mm"],
                ease_hip_mm=chart["ease_hip_mm"],
            )
            if chart
            else None,
            last_code=raw.get("last_code", ""),
        )
    except (KeyError, TypeError) as exc:
        raise SeedError(f"malformed product {raw.get('product_id', '?')!r}: {exc!r}") from exc


def load_seed(folder: Path | None = None) -> CatalogSeed:
    """Load and check the seed in ``folder`` (default: this package's folder)."""
    folder = Path(folder) if folder else SEED_DIR
    stores = tuple(StoreSeed(**s) for s in _read_json(folder / "stores.json"))
    catalog = _read_json(folder / "products.json")
    products = tuple(_product(p) for p in catalog["products"])
    stock = tuple(StockSeed(**s) for s in _read_json(folder / "stock.json"))
    seed = CatalogSeed(
        currency=catalog["currency"],
        secondary_currency=catalog["secondary_currency"],
        secondary_per_primary=Decimal(catalog["secondary_per_primary"]),
        stores=stores,
        products=products,
        stock=stock,
    )
    skus = {v.sku for v in seed.variants()}
    store_ids = {s.store_id for s in stores}
    for level in stock:
        if level.sku not in skus or level.store_id not in store_ids:
            raise SeedError(f"stock row names an unknown store or SKU: {level}")
    return seed
