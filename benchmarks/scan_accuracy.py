"""Scan accuracy and speed: generated (and real) feet and bodies through the noisy synthetic rig.

For every case the truth is ``scanning.measure`` on the clean mesh; the scan renders the
mesh through the virtual kiosk rig with the D4xx noise model, reconstructs it and
measures the result. Reported per kind: mean absolute error per measurement (mm), the
re-scan spread (standard deviation over noise seeds of the same shape, mm), and the
median time from frames to measurements (reconstruction + measurement; rendering, which
stands in for the cameras, is reported separately). Feet are scanned in pairs (the
generated right foot and its mirror image); both feet count as cases.

A body not in the kiosk's A-pose (the T-posed SMPL templates) is refused before fusing, as the
booth refuses it, and listed under ``refused_pose`` instead of being measured.

Feet stand on the kiosk's glass platform, seen by the cameras around it and the plantar
camera under it; ``--no-plantar`` scans them on an open platform with the cameras around only.

Run: ``.venv/bin/python -m benchmarks.scan_accuracy [--feet 30] [--bodies 10] [--views N] [--no-plantar]``.
Prints ONE JSON object on stdout; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time

import numpy as np

from omnifit.shared import ACCEPTANCE

_LOGGER = logging.getLogger("benchmarks.scan_accuracy")
ACCEPTANCE_MESHES = ACCEPTANCE / "meshes"
RESCAN_SHAPES = 5
RESCAN_SEEDS = (101, 202, 303)


def _scan_once(subject, kind: str, views: int | None, seed: int,
               plantar: bool = True) -> tuple[dict[str, dict[str, float]], dict, list]:
    """(measurements per part, {"render", "scan", "scan_cpu", "pose_check"} seconds, flag codes).

    ``scan`` is wall time from frames to measurements; ``scan_cpu`` the CPU time of this
    process over the same span (all threads), which shows what a loaded machine hides.
    """
    from scanning.pipeline import scan, synthetic_source

    source = synthetic_source(subject, kind, views=views, seed=seed, plantar=plantar and kind == "foot")
    started = time.perf_counter()
    frames = list(source.frames())
    rendered = time.perf_counter() - started
    cpu_started = time.process_time()
    result = scan(_Frames(frames), kind, seed=seed)
    cpu = time.process_time() - cpu_started
    flags = [flag.code for flag in result.reconstruction.quality.flags]
    seconds = {"render": rendered, "scan": result.timing_s["scan_to_measurements"], "scan_cpu": cpu,
               "pose_check": result.reconstruction.timing_s.get("pose", 0.0)}
    return result.measurements_mm(), seconds, flags


class _Frames:
    """Already rendered frames as a depth source, so rendering is timed apart from the scan."""

    def __init__(self, frames: list) -> None:
        self._frames = frames

    def frames(self):
        return iter(self._frames)


def _run_kind(kind: str, cases: list[tuple[str, object, dict[str, float]]], views: int | None,
              plantar: bool = True) -> dict[str, object]:
    """Scan every (name, canonical mesh, truth mm) case; aggregate errors, spread and time."""
    from scanning.sources.synthetic import DEFAULT_VIEWS

    errors: dict[str, list[float]] = {}
    spreads: dict[str, list[float]] = {}
    times: dict[str, list[float]] = {"render": [], "scan": [], "scan_cpu": [], "pose_check": []}
    from scanning.errors import PoseError

    failures, refused, flagged = [], [], 0
    for index, (name, subject, truth) in enumerate(cases):
        try:
            parts, seconds, flags = _scan_once(subject, kind, views, seed=index, plantar=plantar)
        except PoseError as exc:  # the booth asks for the scanning pose instead of measuring
            refused.append(f"{name}: {', '.join(flag['code'] for flag in exc.details['flags'])}")
            _LOGGER.warning("%s refused: %s", name, exc)
            continue
        except Exception as exc:  # a benchmark reports failures instead of stopping
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            _LOGGER.warning("%s failed: %s", name, exc)
            continue
        for key, value in seconds.items():
            times[key].append(value)
        flagged += bool(flags)
        for values in parts.values():
            for key, value in values.items():
                errors.setdefault(key, []).append(abs(value - truth[key]))
        if index < RESCAN_SHAPES:
            try:
                _add_rescan_spread(subject, kind, views, spreads, plantar)
            except PoseError as exc:  # a pose accepted on one noise draw and refused on another
                refused.append(f"{name} (re-scan): {', '.join(flag['code'] for flag in exc.details['flags'])}")
                _LOGGER.warning("%s re-scan refused: %s", name, exc)
        _LOGGER.info("%s %s: %.2f s, length/height err %.2f mm", kind, name, seconds["scan"],
                     errors.get("length", errors.get("height", [np.nan]))[-1])
    return {
        "cases": sum(len(v) for v in errors.values()) // max(len(errors), 1),
        "shapes": len(cases),
        "mae_mm": {key: round(float(np.mean(v)), 3) for key, v in errors.items()},
        "max_abs_error_mm": {key: round(float(np.max(v)), 3) for key, v in errors.items()},
        "rescan_sd_mm": {key: round(float(np.mean(v)), 3) for key, v in spreads.items()},
        "scan_s_median": _median(times["scan"]),
        "scan_cpu_s_median": _median(times["scan_cpu"]),
        "render_s_median": _median(times["render"]),
        "pose_check_s_median": _median(times["pose_check"]) if kind == "body" else None,
        "views": views or DEFAULT_VIEWS[kind],
        "plantar_camera": plantar and kind == "foot",
        "scans_with_flags": flagged,
        "refused_pose": refused,
        "failures": failures,
    }


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 3) if values else None


def _add_rescan_spread(subject, kind: str, views: int | None, spreads: dict[str, list[float]],
                       plantar: bool = True) -> None:
    """Scan one shape with several noise seeds; add each measurement's SD (first part only)."""
    repeats = [_scan_once(subject, kind, views, seed, plantar)[0] for seed in RESCAN_SEEDS]
    first_part = next(iter(repeats[0]))
    for key in repeats[0][first_part]:
        values = [r[first_part][key] for r in repeats if first_part in r]
        spreads.setdefault(key, []).append(float(np.std(values, ddof=1)))


def _generated_cases(kind: str, count: int) -> list[tuple[str, object, dict[str, float]]]:
    from scanning.measure import canonicalize_body, canonicalize_foot, measure_body, measure_foot
    from scanning.population import make_body, make_foot

    cases = []
    for seed in range(count):
        mesh = make_foot(seed) if kind == "foot" else make_body(seed)
        canonical, _ = (canonicalize_foot if kind == "foot" else canonicalize_body)(mesh)
        truth = (measure_foot if kind == "foot" else measure_body)(canonical).to_mm_dict()
        cases.append((f"generated-{seed}", canonical, truth))
    return cases


def _acceptance_cases(kind: str) -> list[tuple[str, object, dict[str, float]]]:
    """The real meshes in shared/acceptance/meshes (cases.json gives units and axes)."""
    from scanning.measure import measure_body, measure_foot
    from scanning.mesh_utils import load_mesh
    from scanning.pipeline import load_subject

    index = ACCEPTANCE_MESHES / "cases.json"
    if not index.is_file():
        return []
    cases = []
    for case in json.loads(index.read_text()):
        if case["kind"] != kind:
            continue
        path = ACCEPTANCE_MESHES / case["file"]
        try:
            measure = measure_foot if kind == "foot" else measure_body
            truth = measure(load_mesh(path), up=case["up"], units=case["units"]).to_mm_dict()
            cases.append((case["file"], load_subject(path, kind, units=case["units"], up=case["up"]), truth))
        except Exception as exc:  # a mesh we cannot measure is reported, not fatal
            _LOGGER.warning("acceptance mesh %s skipped: %s", case["file"], exc)
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feet", type=int, default=30, help="generated feet (default 30)")
    parser.add_argument("--bodies", type=int, default=10, help="generated bodies (default 10)")
    parser.add_argument("--views", type=int, default=None, help="cameras around the platform (default 4 feet, 6 bodies)")
    parser.add_argument("--no-plantar", dest="plantar", action="store_false",
                        help="feet on an open platform, without the camera under the glass")
    parser.add_argument("--no-acceptance", action="store_true", help="skip the real meshes in shared/acceptance")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    report: dict[str, object] = {}
    for kind, count in (("foot", args.feet), ("body", args.bodies)):
        if count <= 0:
            continue
        report[kind] = _run_kind(kind, _generated_cases(kind, count), args.views, args.plantar)
        if not args.no_acceptance:
            real = _acceptance_cases(kind)
            if real:
                report[f"{kind}_acceptance"] = _run_kind(kind, real, args.views, args.plantar)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
