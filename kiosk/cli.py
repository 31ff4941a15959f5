"""``omnifit kiosk``: run the in-store kiosk app (shopper journey and staff admin mode).

In a store it runs full screen against the cloud replicas with the kiosk's device
token. With ``--script FILE`` it plays a scripted session headless (store QA, tests)
and exits: 0 when every step passed; ``--screenshot DIR`` saves a picture of every
screen shown (and of each ``screenshot`` step).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kiosk", help="run the kiosk app (pygame): shopper journey and staff admin mode",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", default=None, metavar="HOST:PORT",
                        help="a cloud replica (repeat for several; default 127.0.0.1:50051)")
    parser.add_argument("--store", default="", metavar="STORE_ID", help="the store this kiosk stands in (default: the cloud's first)")
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--device-token", default=None, help="the kiosk's device token (default: $OMNIFIT_DEVICE_TOKEN)")
    token.add_argument("--device-token-file", type=Path, default=None, metavar="FILE", help="read the device token from FILE")
    parser.add_argument("--camera", default="synthetic", choices=("synthetic", "recorded", "realsense"),
                        help="depth source for scans (default: the synthetic rig)")
    parser.add_argument("--camera-path", type=Path, default=None, metavar="DIR", help="recorded source: the RGB-D folder")
    parser.add_argument("--calibration", type=Path, default=None, metavar="FILE", help="the rig's calibration JSON")
    parser.add_argument("--rig", default="foot", choices=("foot", "body"),
                        help="the camera rig admin mode calibrates: feet (1 board capture) or a body booth (13)")
    parser.add_argument("--face-photo", type=Path, default=None, metavar="FILE",
                        help="face pay with the synthetic face camera: the shopper's photo (default: face pay off)")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                        help="the kiosk's outbox, catalog cache and payment journal (default: ~/.local/share/omnifit-kiosk)")
    parser.add_argument("--tls-root-cert", type=Path, default=None, metavar="FILE", help="PEM root certificate of the cloud's TLS")
    parser.add_argument("--tls", action="store_true", help="TLS to the cloud, trusting the system's CA store (or --tls-root-cert)")
    parser.add_argument("--size", default="1280x800", metavar="WxH",
                        help="screen size: landscape (1920x1080) or portrait (1080x1920); default 1280x800")
    parser.add_argument("--dpi", type=float, default=96.0, help="the screen's pixel density (sets the 9 mm touch targets)")
    parser.add_argument("--lang", default="zh_CN", metavar="zh_CN|en", help="the language the attract screen starts in")
    parser.add_argument("--dev", action="store_true", help="a development kiosk: the sandbox network's test cards on screen")
    parser.add_argument("--mirror-camera", default="", metavar="camera:N|video:FILE",
                        help="the AR mirror's camera: a webcam, or a video file played in a loop")
    screen = parser.add_mutually_exclusive_group()
    screen.add_argument("--fullscreen", dest="fullscreen", action="store_true", help="full screen (a store's kiosk)")
    screen.add_argument("--windowed", dest="fullscreen", action="store_false", help="in a window (default)")
    parser.add_argument("--shopper-idle", type=float, default=120.0, metavar="S", help="seconds before a shopper's session is dropped")
    parser.add_argument("--staff-idle", type=float, default=90.0, metavar="S", help="seconds before admin mode signs out")
    parser.add_argument("--script", type=Path, default=None, metavar="FILE", help="play this scripted session headless and exit")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="DIR", help="save a PNG of every screen shown into DIR")
    parser.add_argument("--json", action="store_true", help="with --script: print one JSON object with every step")
    parser.set_defaults(handler=_run, fullscreen=False)


def _config(args: argparse.Namespace):
    from kiosk.app.config import KioskConfig
    from omnifit.errors import ErrorCode, OmnifitError

    token = args.device_token or os.environ.get("OMNIFIT_DEVICE_TOKEN")
    if args.device_token_file is not None:
        try:
            token = args.device_token_file.read_text().strip()
        except OSError as exc:
            raise OmnifitError(f"cannot read the device token file: {exc}", code=ErrorCode.INVALID_ARGUMENT) from exc
    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError as exc:
        raise OmnifitError(f"--size must be WIDTHxHEIGHT in pixels, e.g. 1280x800; got {args.size!r}",
                           code=ErrorCode.INVALID_ARGUMENT) from exc
    try:
        extra = {"data_dir": args.data_dir} if args.data_dir else {}
        return KioskConfig(
            targets=tuple(args.target or ["127.0.0.1:50051"]), store_id=args.store, device_token=token,
            camera=args.camera, camera_path=args.camera_path, calibration=args.calibration, rig=args.rig,
            face_photo=args.face_photo, lang=args.lang, dev=args.dev, dpi=args.dpi, mirror_camera=args.mirror_camera,
            size=(width, height),
            fullscreen=args.fullscreen, shopper_idle_s=args.shopper_idle, staff_idle_s=args.staff_idle,
            tls_root_cert=_tls_root(args), device_token_file=args.device_token_file, **extra,
        )
    except (ValueError, OmnifitError) as exc:
        raise OmnifitError(f"bad kiosk settings: {exc}", code=ErrorCode.INVALID_ARGUMENT) from exc


def _tls_root(args: argparse.Namespace) -> Path | None:
    """The root certificates to trust: ``--tls-root-cert``, else with ``--tls`` the system's CA bundle."""
    if args.tls_root_cert is not None or not args.tls:
        return args.tls_root_cert
    from cloud.client.client import system_ca_file
    from omnifit.errors import ErrorCode, OmnifitError

    found = system_ca_file()
    if found is None:
        raise OmnifitError("--tls: this machine has no CA bundle; give --tls-root-cert FILE",
                           code=ErrorCode.INVALID_ARGUMENT)
    return found


def _run(args: argparse.Namespace) -> int:
    import json

    if args.script is not None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    config = _config(args)
    script = None
    if args.script is not None:
        from omnifit.errors import ErrorCode, OmnifitError

        try:
            script = args.script.read_text()
        except OSError as exc:
            raise OmnifitError(f"cannot read the script: {exc}", code=ErrorCode.INVALID_ARGUMENT) from exc
        from kiosk.app.script import parse_script

        parse_script(script)  # a bad script is refused before the window opens
    from kiosk.app.app import KioskApp

    app = KioskApp(config, screenshot_dir=args.screenshot)
    if script is None:
        app.run()
        return 0
    from kiosk.app.script import run_script

    try:
        report = run_script(app, script, args.screenshot)
    finally:
        app.close()
    if args.json:
        print(json.dumps(report.to_json_dict(), indent=2))
    else:
        for step in report.steps:
            status = "FAIL" if "error" in step else "ok  "
            print(f"{status} line {step['line']:>3} {step['step']:<40} [{step['screen']}] {step.get('error', '')}")
    return 0 if report.ok else 1
