"""``omnifit demo``: the store journey end to end on embedded defaults (SQLite, synthetic camera).

Starts the cloud service on an SQLite file, then plays a kiosk and a phone against it:
the kiosk builds a cart (one size only from the endless aisle), shows a pairing QR code,
the phone claims it and watches the cart live while both keep changing it. Then the
checkout: the phone sets a payment PIN and enrolls the shopper's face with consent, the
kiosk captures the shopper (synthetic RGB-D camera), checks liveness, identifies them
with the phone's last 4 digits, takes the payment (PIN on step-up) and shows the
receipt's QR code. Without the face photos (../shared/data/faces) it pays by card.
It also scans a body and recommends a garment, draws the recommended shoe on a photo of
a person in the AR mirror, and walks a scripted shopper through the kiosk app. It writes
a report (index.html with its pictures) that a person can open without the terminal; the
last line printed is its path.
"""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the store journey on embedded defaults",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file in a temporary folder)")
    parser.add_argument("--store", default=None, help="store id for the kiosk (default: the first seeded store)")
    parser.add_argument("--faces", default=None, metavar="DIR",
                        help="face photos for face pay (default: ../shared/data/faces); without them: card payment")
    parser.add_argument("--people", default=None, metavar="DIR",
                        help="photos of people for the AR mirror (default: ../shared/data/people); without them: "
                             "the bundled mannequin picture")
    parser.add_argument("--report", default="demo-report", metavar="DIR",
                        help="folder for the report: index.html, timings.svg, images/ (default: ./demo-report)")
    parser.add_argument("--replicas", type=_replicas, default=1, metavar="N",
                        help="run N server processes (PostgreSQL --db only): the kiosk on the first, the phone on the last")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every step and its timing")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import sys
    from pathlib import Path

    from omnifit.demo import run_demo

    if args.replicas > 1 and not (args.db or "").startswith("postgresql"):
        print(f"omnifit demo: --replicas {args.replicas} needs --db postgresql+psycopg://...: SQLite tells no other "
              "process about a cart's changes", file=sys.stderr)
        return 2
    faces = Path(args.faces) if args.faces else None
    people = Path(args.people) if args.people else None
    report = asyncio.run(run_demo(db_url=args.db, store_id=args.store, echo=not args.json, faces_dir=faces,
                                  report_dir=Path(args.report), replicas=args.replicas, people_dir=people))
    if args.json:
        print(json.dumps(report.to_json_dict(), indent=2))
    elif report.report:
        print("the report, to open in a browser:")
        print(report.report)
    return 0 if report.ok else 1


def _replicas(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of server processes, got {text!r}") from None
    if not 1 <= count <= 8:
        raise argparse.ArgumentTypeError(f"expected 1 to 8 server processes, got {count}")
    return count
