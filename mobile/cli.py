"""``omnifit mobile``: the shopper's app (Kivy) in a phone-shaped desktop window.

With ``--script FILE`` it plays a scripted session headless (store QA, tests) and
exits: 0 when every step passed, 1 at the first that failed (saying which and why),
2 for a script it cannot read. ``--screenshot DIR`` saves a picture of every screen
shown and of each ``screenshot`` step; ``--json`` prints one JSON object.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mobile", help="run the shopper's mobile app (Kivy) in a phone-shaped window",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", default=None, metavar="HOST:PORT",
                        help="a cloud replica (repeat for several; default 127.0.0.1:50051)")
    parser.add_argument("--lang", default="", metavar="zh_CN|en",
                        help="the app's language (default: the one chosen last, else zh_CN)")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                        help="session token (0600), outbox and catalog cache (default: ~/.local/share/omnifit-mobile)")
    parser.add_argument("--size", default="390x844", metavar="WxH", help="window size in logical pixels (default 390x844)")
    parser.add_argument("--tls-root-cert", type=Path, default=None, metavar="FILE", help="PEM root certificate of the cloud's TLS")
    parser.add_argument("--script", type=Path, default=None, metavar="FILE", help="play this scripted session headless and exit")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="DIR", help="save a PNG of every screen shown into DIR")
    parser.add_argument("--json", action="store_true", help="with --script: print one JSON object with every step")
    parser.set_defaults(handler=_run)


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from mobile.config import MobileConfig, default_data_dir
    from omnifit.errors import ErrorCode, OmnifitError

    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError as exc:
        raise OmnifitError(f"--size must be WIDTHxHEIGHT in logical pixels, e.g. 390x844; got {args.size!r}",
                           code=ErrorCode.INVALID_ARGUMENT) from exc
    try:
        return MobileConfig(targets=tuple(args.target or ["127.0.0.1:50051"]), lang=args.lang or "",
                            data_dir=args.data_dir or default_data_dir(), size=(width, height),
                            tls_root_cert=args.tls_root_cert, headless=args.script is not None)
    except ValueError as exc:
        raise OmnifitError(f"bad app settings: {exc}", code=ErrorCode.INVALID_ARGUMENT) from exc


def _needs_display(args: argparse.Namespace) -> bool:
    """A scripted run with no X display: run again under a virtual one (Xvfb)."""
    return args.script is not None and not os.environ.get("DISPLAY") and not os.environ.get("OMNIFIT_MOBILE_XVFB")


def _run(args: argparse.Namespace) -> int:
    import json

    from omnifit.errors import ErrorCode, OmnifitError

    config = _config(args)
    script = None
    if args.script is not None:
        try:
            script = args.script.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise OmnifitError(f"cannot read the script: {exc}", code=ErrorCode.INVALID_ARGUMENT) from exc
        from mobile.script import parse_script

        parse_script(script)  # a bad script is refused before the window opens
    if _needs_display(args):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            raise OmnifitError("a scripted run needs an X display or xvfb-run (Debian package xvfb)",
                               code=ErrorCode.FAILED_PRECONDITION)
        width, height = config.size
        os.environ["OMNIFIT_MOBILE_XVFB"] = "1"
        command = [xvfb, "-a", "-s", f"-screen 0 {max(width, 640)}x{max(height, 480)}x24",
                   sys.executable, "-m", "omnifit.cli", *sys.argv[1:]]
        os.execv(xvfb, command)
    from mobile.run import run_app

    report = run_app(config, script=script, screenshot_dir=args.screenshot)
    if report is None:
        return 0
    if args.json:
        print(json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False))
    else:
        for step in report.steps:
            status = "FAIL" if "error" in step else "ok  "
            print(f"{status} line {step['line']:>3} {step['step']:<40} [{step['screen']}] {step.get('error', '')}")
    return 0 if report.ok else 1
