"""The catalog seed: stores, products with sizes and colours, and per-store stock (JSON files here)."""
from assets.catalog.seed import (
    CatalogSeed,
    ClothingSizeRow,
    ColourSeed,
    ProductSeed,
    ShoeSizeSeed,
    SizeChartSeed,
    StockSeed,
    StoreSeed,
    VariantSeed,
    load_seed,
)

__all__ = [
    "CatalogSeed",
    "ClothingSizeRow",
    "ColourSeed",
    "ProductSeed",
    "ShoeSizeSeed",
    "SizeChartSeed",
    "StockSeed",
    "StoreSeed",
    "VariantSeed",
    "load_seed",
]
