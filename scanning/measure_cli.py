"""``omnifit measure MESH --kind foot|body``: the measurements of a clean mesh file.

Reads PLY, STL, OBJ or GLB/glTF (a scene is flattened with its node transforms) in any
position and heading; ``--up`` names the file's vertical axis and ``--units`` its length
unit. Prints a table, or with ``--json`` one JSON object:
``{"kind", "measurements_mm", "timing_s", "mesh": {"vertices", "faces", "watertight"}}``.
"""
from __future__ import annotations

import argparse

KINDS = ("foot", "body")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "measure",
        help="measure a foot or body mesh file (ISO 7250-1 / ISO 8559-1 definitions)",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("mesh", metavar="MESH", help="mesh file: .ply, .stl, .obj, .glb or .gltf")
    parser.add_argument("--kind", required=True, choices=KINDS, help="what the mesh shows")
    parser.add_argument("--units", default="m", choices=("m", "cm", "mm"), help="length unit of the file (default m)")
    parser.add_argument("--up", default="z", choices=("x", "y", "z"), help="the file's vertical axis (default z)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import json
    import time

    from scanning.measure import measure_body, measure_foot
    from scanning.mesh_utils import load_mesh, open_edge_count

    measure = {"foot": measure_foot, "body": measure_body}[args.kind]
    mesh = load_mesh(args.mesh)
    start = time.perf_counter()
    measurements = measure(mesh, up=args.up, units=args.units)
    elapsed = time.perf_counter() - start
    report = {
        "kind": args.kind,
        "measurements_mm": {name: round(value, 2) for name, value in measurements.to_mm_dict().items()},
        "timing_s": round(elapsed, 4),
        "mesh": {
            "vertices": int(len(mesh.vertices)),
            "faces": int(len(mesh.faces)),
            "watertight": open_edge_count(mesh.faces, len(mesh.vertices)) == 0,
        },
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(_table(args.mesh, report))
    return 0


def _table(path: str, report: dict) -> str:
    """Readable two-column table of one report."""
    mesh = report["mesh"]
    lines = [
        f"{report['kind']} {path}: {mesh['vertices']} vertices, {mesh['faces']} faces, measured in {report['timing_s'] * 1000:.0f} ms",
    ]
    width = max(len(name) for name in report["measurements_mm"])
    lines += [f"  {name.replace('_', ' '):<{width}}  {value:8.1f} mm" for name, value in report["measurements_mm"].items()]
    return "\n".join(lines)
