"""Scanned bodies against their clean meshes, case by case, with the landmark levels behind each value.

For every case (generated bodies, the real meshes in shared/acceptance/meshes and, with
``--deformed``, randomly scaled, turned and roughened copies of them) the clean mesh and its
scan through the synthetic 6-camera body rig are measured alike, and beside chest girth,
inseam and shoulder width this prints where the landmarks they hang on were found: the
crotch, both armpits (and the torso's edge there, which the shoulder points stand over),
and the chest level. That is what shows *why* a scanned value differs: a landmark found
elsewhere on the scan, or the same landmark and a different surface.

Run: ``.venv/bin/python -m benchmarks.body_landmarks [--bodies 5] [--seeds 17 19] [--deformed 1]``.
Prints ONE JSON object on stdout (per case: clean, scan and scan minus clean, mm); a table
goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

import numpy as np
import trimesh

from benchmarks.scan_accuracy import ACCEPTANCE_MESHES

_LOGGER = logging.getLogger("benchmarks.body_landmarks")
SHOWN = ("chest_girth", "inseam", "shoulder_width", "waist_girth", "hip_girth")


def landmarks(mesh: trimesh.Trimesh) -> dict[str, float]:
    """The measurements and landmark levels (mm) of a canonical body, as measure_body finds them."""
    from scanning.measure import body
    from scanning.measure.sections import Slicer

    slicer = Slicer(mesh)
    slicer.index(body.UP)
    stature = float(mesh.vertices[:, 2].max())
    values = body._body_values(mesh, slicer)
    right, left = body._find_axillae(slicer, stature)
    axilla = min(right.height, left.height)
    chest_level, _chest = body._extreme_girth(slicer, axilla - body.CHEST_BELOW_AXILLA[0] * stature,
                                              axilla - body.CHEST_BELOW_AXILLA[1] * stature, stature, "max")
    found = {name: values[name] for name in SHOWN}
    found.update(crotch=values["inseam"], armpit_right=right.height, armpit_left=left.height,
                 armpit_edge_right=right.edge_x, armpit_edge_left=left.edge_x, chest_level=chest_level)
    return {name: round(1000.0 * value, 1) for name, value in found.items()}


def _deformed(mesh: trimesh.Trimesh, rng: np.random.Generator) -> trimesh.Trimesh:
    """``mesh`` scaled by 0.95-1.05 (each axis a further +-3 %), turned up to 10 deg about the
    vertical and its vertices roughened by 0.5 mm, back in the canonical frame."""
    from scanning.measure import canonicalize_body

    angle = np.radians(rng.uniform(-10.0, 10.0))
    turn = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    scale = rng.uniform(0.95, 1.05) * rng.uniform(0.97, 1.03, size=3)
    vertices = (mesh.vertices * scale) @ turn.T + rng.normal(0.0, 0.0005, mesh.vertices.shape)
    return canonicalize_body(trimesh.Trimesh(vertices, mesh.faces, process=False))[0]


def _cases(bodies: int, deformed: int, seed: int) -> list[tuple[str, trimesh.Trimesh]]:
    from scanning.measure import canonicalize_body
    from scanning.pipeline import load_subject
    from scanning.population import make_body

    cases = [(f"generated-{index}", canonicalize_body(make_body(index))[0]) for index in range(bodies)]
    index_file = ACCEPTANCE_MESHES / "cases.json"
    if not index_file.is_file():
        _LOGGER.warning("no acceptance meshes at %s: generated bodies only", ACCEPTANCE_MESHES)
        return cases
    rng = np.random.default_rng(seed)
    for case in json.loads(index_file.read_text()):
        if case["kind"] != "body":
            continue
        mesh = load_subject(ACCEPTANCE_MESHES / case["file"], "body", units=case["units"], up=case["up"])
        cases.append((case["file"], mesh))
        cases += [(f"{case['file']}~deformed-{copy}", _deformed(mesh, rng)) for copy in range(deformed)]
    return cases


def main(argv: list[str] | None = None) -> int:
    from scanning.errors import PoseError
    from scanning.pipeline import scan, synthetic_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=5, help="generated bodies (default 5)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[17], help="rig noise seeds per case (default 17)")
    parser.add_argument("--deformed", type=int, default=0, help="deformed copies of each real mesh (default 0)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the deformations (default 7)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    report: dict[str, object] = {}
    errors: dict[str, dict[str, list[float]]] = {}
    for name, mesh in _cases(args.bodies, args.deformed, args.seed):
        clean = landmarks(mesh)
        for noise_seed in args.seeds:
            try:
                scanned_mesh = scan(synthetic_source(mesh, "body", seed=noise_seed), "body").reconstruction.parts["body"]
            except PoseError as exc:  # the booth refuses it (a T-pose): no scan to compare
                report[f"{name}@{noise_seed}"] = {"refused_pose": [flag["code"] for flag in exc.details["flags"]]}
                _LOGGER.info("%-44s refused: %s", f"{name}@{noise_seed}", exc)
                continue
            scanned = landmarks(scanned_mesh)
            delta = {key: round(scanned[key] - clean[key], 1) for key in clean}
            report[f"{name}@{noise_seed}"] = {"clean": clean, "scan": scanned, "scan_minus_clean": delta}
            group = errors.setdefault("generated" if name.startswith("generated") else "real", {})
            for key in SHOWN:
                group.setdefault(key, []).append(abs(delta[key]))
            _LOGGER.info("%-44s chest %+6.1f inseam %+6.1f shoulder %+6.1f | crotch %6.1f | armpits %6.1f/%6.1f "
                         "(clean %6.1f/%6.1f) | chest level %+6.1f", f"{name}@{noise_seed}", delta["chest_girth"],
                         delta["inseam"], delta["shoulder_width"], scanned["crotch"], scanned["armpit_right"],
                         scanned["armpit_left"], clean["armpit_right"], clean["armpit_left"], delta["chest_level"])
    report["mae_mm"] = {group: {key: round(float(np.mean(v)), 2) for key, v in values.items()}
                        for group, values in errors.items()}
    report["max_abs_mm"] = {group: {key: round(float(np.max(v)), 2) for key, v in values.items()}
                            for group, values in errors.items()}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
