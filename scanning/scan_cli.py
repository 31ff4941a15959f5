"""``omnifit scan``: scan feet or a body into watertight meshes, measurements and a quality report.

Sources: ``--source synthetic --mesh MESH`` renders a mesh file through the virtual
kiosk rig with the depth-camera noise model; ``--source recorded --path DIR`` reads a
recorded RGB-D folder (see docs/recorded-format.md); ``--source realsense
--calibration FILE`` captures from the connected RealSense cameras. Writes
``<part>.ply``, ``<part>.glb``, ``measurements.json`` and ``quality.json`` into
``--out DIR`` (all or nothing). With ``--json`` prints one JSON object
``{"kind", "measurements_mm", "timing_s", "quality"}``; otherwise a progress bar on
stderr and a table on stdout.
"""
from __future__ import annotations

import argparse
import sys

KINDS = ("foot", "body")
SOURCES = ("synthetic", "recorded", "realsense")
BAR_WIDTH = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scan", help="scan feet or a body: meshes, measurements, quality report",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, choices=SOURCES, help="where the depth frames come from")
    parser.add_argument("--kind", required=True, choices=KINDS, help="feet (both) or a standing body")
    parser.add_argument("--mesh", help="synthetic source: the mesh file to scan (.ply .stl .obj .glb)")
    parser.add_argument("--path", help="recorded source: the recorded folder")
    parser.add_argument("--calibration", help="realsense source: the rig calibration JSON")
    parser.add_argument("--units", default="m", choices=("m", "cm", "mm"), help="length unit of --mesh (default m)")
    parser.add_argument("--up", default="z", choices=("x", "y", "z"), help="vertical axis of --mesh (default z)")
    parser.add_argument("--views", type=int, default=None,
                        help="synthetic source: number of cameras around the platform (default 4 for feet, 6 for a body)")
    parser.add_argument("--no-plantar", dest="plantar", action="store_false", default=None,
                        help="synthetic source, feet: an open platform, without the camera under the glass")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sensor noise and RANSAC (default 0)")
    parser.add_argument("--icp", action="store_true", help="refine the camera extrinsics by ICP before fusion")
    parser.add_argument("--out", required=True, help="folder to write the meshes and reports into")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import json

    from scanning.errors import PoseError
    from scanning.pipeline import make_source, scan, write_scan

    progress = None if args.json or not sys.stderr.isatty() else _draw_bar
    source = make_source(args.source, kind=args.kind, mesh=args.mesh, path=args.path, calibration=args.calibration,
                         units=args.units, up=args.up, views=args.views, seed=args.seed, plantar=args.plantar)
    try:
        result = scan(source, args.kind, seed=args.seed, refine_icp=args.icp, progress=progress)
    except PoseError as exc:
        if args.json:  # the kiosk shows the flags' messages and asks for the pose again
            print(json.dumps({"kind": args.kind, "refused": str(exc),
                              "quality": {"flags": exc.details["flags"], "pose": exc.details["pose"]}}))
        raise
    write_scan(result, args.out)
    if args.json:
        print(json.dumps(result.summary()))
    else:
        print(_table(result.summary(), args.out))
    return 0


def _draw_bar(stage: str, fraction: float) -> None:
    filled = int(round(fraction * BAR_WIDTH))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%} {stage:<12}")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _table(summary: dict, out: str) -> str:
    """Measurements per part, the flags, and where the files went."""
    lines = [f"{summary['kind']} scan -> {out}"]
    for part, values in summary["measurements_mm"].items():
        lines.append(f"  {part}")
        lines += [f"    {name:<16}{value:9.1f} mm" for name, value in values.items()]
    quality = summary["quality"]
    lines.append(f"  fusion residual {quality['fusion_residual_mm']} mm; watertight {quality['watertight']}")
    lines += [f"  ! {flag['message']}" for flag in quality["flags"]]
    for part, reasons in quality["unreliable_measurements"].items():
        lines += [f"  ! {part} {name} unreliable: {reason}" for name, reason in reasons.items()]
    return "\n".join(lines)
