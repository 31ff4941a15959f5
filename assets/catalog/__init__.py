"""The catalog seed: stores, products with sizes and colours, and per-store stock (JSON files here).

``load_seed`` reads them into the fit engine's catalog types (``tryon.fit.catalog``).
"""
from assets.catalog.seed import SEED_DIR, SeedError, load_seed

__all__ = ["SEED_DIR", "SeedError", "load_seed"]
