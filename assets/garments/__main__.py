"""Regenerate the committed garment images: ``python -m assets.garments [--out DIR]``."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from assets.catalog import load_seed
from assets.garments import GARMENTS_DIR, write_product_garment

_LOGGER = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write one PNG + JSON per catalog top and bottom (first colour).")
    parser.add_argument("--out", type=Path, default=GARMENTS_DIR, help="folder for the images (default: this package)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for product in load_seed().products:
        if product.category in ("tops", "bottoms"):
            path = write_product_garment(product, args.out / f"{product.product_id}.png")
            _LOGGER.info("%s: %d bytes", path, path.stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
