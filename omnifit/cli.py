"""``omnifit``: the one command line. Each package registers its own subcommands.

Every package keeps a ``cli.py`` with ``register(subparsers)``; those modules import
only the standard library at module level so ``omnifit --help`` stays fast, and
load their package inside the handler. A handler returns the process exit code.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from omnifit.errors import OmnifitError

# Modules whose register() adds subcommands, in the order --help lists them.
COMMAND_MODULES = (
    "omnifit.demo_cli",
    "kiosk.cli",
    "mobile.cli",
    "cloud.cli",
    "scanning.measure_cli",
    "scanning.scan_cli",
    "scanning.calibrate_cli",
    "tryon.fit_cli",
    "tryon.ar_cli",
    "payments.face_cli",
    "payments.pay_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnifit", description="Omnifit: in-store fitting and checkout.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a package whose commands are not built yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except OmnifitError as exc:
        print(f"omnifit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
