"""``omnifit fit``: recommend a size of one SKU from a measurements file.

Imports only the standard library at module level; the fit engine loads inside the handler.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="recommend a size from foot or body measurements",
        description="Recommend the size of one product (variant SKU or product id) from a measurements "
        "file, say how each zone fits, and suggest other products that fit and are in stock.",
    )
    parser.add_argument("--measurements", required=True, type=Path, metavar="FILE.json",
                        help='{"kind": "foot", "left": {...}, "right": {...}}, {"kind": "body", '
                        '"measurements": {...}}, or the output of `omnifit measure --json` (mm)')
    parser.add_argument("--sku", required=True, help="variant SKU (e.g. ka-swift-m-BLK-42) or product id")
    parser.add_argument("--store", default=None, help="store id for availability (default: any store)")
    parser.add_argument("--catalog", type=Path, default=None, help="catalog seed folder (default: assets/catalog)")
    parser.add_argument("--suggestions", type=int, default=5, help="how many other products to suggest")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_fit)


def _print_text(report) -> None:
    rec = report.recommendation
    print(f"{report.product.brand} {report.product.name} ({report.product.product_id})")
    print(f"recommended size {rec.size_label}  confidence {rec.confidence:.2f}"
          + (f"  runner-up {rec.runner_up.size_label}" if rec.runner_up else ""))
    for zone in rec.fit.zones:
        print(f"  {zone.zone.value:<9} {zone.verdict.value:<6} ease {round(zone.ease_mm):+d} mm "
              f"(designed {round(zone.target_ease_mm):+d} mm)")
    print(rec.explanation)
    print(f"availability: {report.availability.availability.value}")
    for suggestion in report.suggestions:
        print(f"  also fits: {suggestion.product.name} ({suggestion.product.product_id}) size "
              f"{suggestion.recommendation.size_label}, {suggestion.availability.availability.value}")


def run_fit(args: argparse.Namespace) -> int:
    from assets.catalog import load_seed
    from tryon.fit.errors import FitError
    from tryon.fit.inputs import load_measurements
    from tryon.fit.recommend import fit_report

    if args.suggestions < 0:
        raise FitError(f"--suggestions: expected a count >= 0, got {args.suggestions}")
    measurements = load_measurements(args.measurements)
    report = fit_report(load_seed(args.catalog), args.sku, measurements, store_id=args.store,
                        suggestions=args.suggestions)
    if args.json:
        print(json.dumps(report.to_json_dict()))
    else:
        _print_text(report)
    return 0
