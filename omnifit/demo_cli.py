"""``omnifit demo``: the store journey end to end on embedded defaults (SQLite, synthetic camera).

Starts the cloud service on an SQLite file, then plays a kiosk and a phone against it:
the kiosk builds a cart (one size only from the endless aisle), shows a pairing QR code,
the phone claims it and watches the cart live while both keep changing it. Then the
checkout: the phone sets a payment PIN and enrolls the shopper's face with consent, the
kiosk captures the shopper (synthetic RGB-D camera), checks liveness, identifies them
with the phone's last 4 digits, takes the payment (PIN on step-up) and shows the
receipt's QR code. Without the face photos (../shared/data/faces) it pays by card.
"""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the store journey on embedded defaults",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file in a temporary folder)")
    parser.add_argument("--store", default=None, help="store id for the kiosk (default: the first seeded store)")
    parser.add_argument("--faces", default=None, metavar="DIR",
                        help="face photos for face pay (default: ../shared/data/faces); without them: card payment")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every step and its timing")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import json
    from pathlib import Path

    from omnifit.demo import run_demo

    faces = Path(args.faces) if args.faces else None
    report = asyncio.run(run_demo(db_url=args.db, store_id=args.store, echo=not args.json, faces_dir=faces))
    if args.json:
        print(json.dumps(report.to_json_dict(), indent=2))
    return 0 if report.ok else 1
