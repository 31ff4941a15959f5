"""``omnifit calibrate``: calibrate a foot or body rig's cameras from ChArUco board captures.

Sources: ``--source recorded --path DIR`` reads a calibration capture folder (its
``rig.json`` and one folder of images per capture, docs/calibration.md);
``--source synthetic --kind foot|body`` renders the board through the virtual rig in
every pose of the procedure (demos, tests); its foot rig stands on a glass platform with
a plantar camera under it, calibrated through the double-sided board (``--no-plantar``:
the open platform, four cameras). Writes the rig calibration JSON that
``omnifit scan``, the kiosk and recorded folders read to ``--out FILE``, atomically and
only when every camera's reprojection error is within ``--max-reprojection-px``
(``--force`` saves anyway). Prints each camera's reprojection error; with ``--json``
one JSON object ``{"kind", "source", "cameras", "plantar", "captures", "reprojection_px",
"reprojection_px_max", "limit_px", "over_limit", "saved", "output", "timing_s"}``.
A capture that is missing or in which a camera sees too little of the board exits 2
naming the capture, the camera and how to retake it; so does a refused save.
"""
from __future__ import annotations

import argparse
import sys
import time

SOURCES = ("recorded", "synthetic")
KINDS = ("foot", "body")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calibrate", help="calibrate a rig's cameras from ChArUco board captures",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, choices=SOURCES, help="where the board images come from")
    parser.add_argument("--path", help="recorded source: the calibration capture folder")
    parser.add_argument("--kind", choices=KINDS, help="the rig: feet or a standing body (synthetic source: required; "
                        "recorded: checked against its rig.json)")
    parser.add_argument("--views", type=int, default=None,
                        help="synthetic source: number of cameras around the platform (default 4 for feet, "
                        "6 for a body)")
    parser.add_argument("--no-plantar", dest="plantar", action="store_false", default=None,
                        help="synthetic source, feet: an open platform, without the camera under the glass")
    parser.add_argument("--out", required=True, help="the rig calibration JSON to write")
    parser.add_argument("--max-reprojection-px", type=float, default=None, metavar="PX",
                        help="refuse to save when a camera's reprojection error is above PX (default 1.0)")
    parser.add_argument("--force", action="store_true", help="save even when a camera is above the limit")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import json

    from scanning.calibration import procedure
    from scanning.errors import CalibrationError

    limit = procedure.MAX_REPROJECTION_PX if args.max_reprojection_px is None else args.max_reprojection_px
    if not limit > 0:
        raise CalibrationError(f"--max-reprojection-px must be a positive number of pixels; got {limit}",
                               field="max_reprojection_px")
    started = time.perf_counter()
    rig, steps, captures = _captures(args)
    loaded = time.perf_counter()
    outcome = procedure.solve(rig, steps, captures, limit)
    solved = time.perf_counter()
    saved = not outcome.over_limit or args.force
    if saved:
        procedure.save(outcome, args.out, force=args.force)
    timing = {"captures": round(loaded - started, 3), "solve": round(solved - loaded, 3),
              "total": round(time.perf_counter() - started, 3)}
    report = _report(args, rig, len(steps), outcome, saved, timing)
    print(json.dumps(report) if args.json else _table(report))
    if not saved:
        raise outcome.refusal()
    return 0


def _captures(args: argparse.Namespace):
    """(rig, steps, frames by step) from the chosen source."""
    from scanning.calibration import procedure
    from scanning.errors import CalibrationError

    if args.source == "synthetic":
        if args.kind is None:
            raise CalibrationError("--source synthetic needs --kind foot|body", field="kind")
        if args.path:
            raise CalibrationError("--path is for --source recorded; the synthetic source renders its captures",
                                   field="path")
        rig, cameras, azimuths = procedure.synthetic_rig(args.kind, args.views, args.plantar)
        steps = procedure.procedure(rig, azimuths)
        captures = {}
        for number, step in enumerate(steps, 1):
            _say(args, f"rendering capture {number}/{len(steps)}: {step.name}")
            captures[step.name] = procedure.render_capture(rig, cameras, step)
        return rig, steps, captures
    if not args.path:
        raise CalibrationError("--source recorded needs --path DIR, the calibration capture folder", field="path")
    if args.views is not None or args.plantar is not None:
        option = "--views" if args.views is not None else "--no-plantar"
        raise CalibrationError(f"{option} is for --source synthetic; a capture folder lists its cameras in rig.json "
                               f"(and marks a plantar camera under the glass)", field=option.lstrip("-"))
    rig, steps, captures = procedure.read_captures(args.path)
    if args.kind is not None and args.kind != rig.kind:
        raise CalibrationError(f"--kind {args.kind} but {args.path}/rig.json describes a {rig.kind} rig",
                               field="kind")
    return rig, steps, captures


def _say(args: argparse.Namespace, line: str) -> None:
    if not args.json and sys.stderr.isatty():
        sys.stderr.write(line + "\n")


def _report(args: argparse.Namespace, rig, captures: int, outcome, saved: bool, timing: dict) -> dict:
    errors = outcome.reprojection_px
    return {
        "kind": rig.kind,
        "source": args.source,
        "cameras": list(rig.cameras),
        "plantar": list(rig.plantar),
        "captures": captures,
        "reprojection_px": {camera: round(error, 4) for camera, error in errors.items()},
        "reprojection_px_max": round(max(errors.values()), 4),
        "corners": {camera: cal.corners for camera, cal in sorted(outcome.calibration.cameras.items())},
        "limit_px": outcome.limit_px,
        "over_limit": outcome.over_limit,
        "saved": saved,
        "forced": bool(saved and outcome.over_limit),
        "output": str(args.out),
        "timing_s": timing,
    }


def _table(report: dict) -> str:
    glass = f" (glass platform, plantar camera {', '.join(report['plantar'])})" if report["plantar"] else ""
    lines = [f"{report['kind']} rig{glass}, {len(report['cameras'])} cameras, {report['captures']} capture(s)",
             f"  {'camera':<16}{'reprojection':>14}{'corners':>9}"]
    for camera, error in report["reprojection_px"].items():
        verdict = "over the limit" if camera in report["over_limit"] else "ok"
        lines.append(f"  {camera:<16}{error:11.2f} px{report['corners'][camera]:9d}  {verdict}")
    lines.append(f"  worst {report['reprojection_px_max']:.2f} px (limit {report['limit_px']:.2f} px); "
                 f"captures {report['timing_s']['captures']:.1f} s, solve {report['timing_s']['solve']:.1f} s")
    if report["saved"]:
        lines.append(f"saved {report['output']}" + (" (forced: a camera is over the limit)" if report["forced"] else ""))
    else:
        lines.append(f"not saved: {report['output']} is unchanged")
    return "\n".join(lines)
