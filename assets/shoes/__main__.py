"""Regenerate the committed shoe models: ``python -m assets.shoes [--out DIR]``."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from assets.catalog import load_seed
from assets.shoes import SHOES_DIR, build_product_shoe
from assets.shoes.generator import write_glb

_LOGGER = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write one GLB per catalog shoe (first colour, middle size).")
    parser.add_argument("--out", type=Path, default=SHOES_DIR, help="folder for the GLBs (default: this package)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for product in load_seed().products:
        if product.category == "shoes":
            path = write_glb(build_product_shoe(product), args.out / f"{product.product_id}.glb")
            _LOGGER.info("%s: %d bytes", path, path.stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
