"""Measurement speed: time to measure a clean foot or body mesh (no file reading).

``python -m benchmarks.measure_speed [--feet 10] [--bodies 3] [--repeats 5]`` measures
generated feet and bodies (each measured ``repeats`` times, after a warm-up) and, when
``../shared/acceptance/meshes`` is present, the real Aetrex feet and MakeHuman/SMPL bodies
as they come. Prints one JSON object; times are medians in milliseconds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import trimesh

from omnifit.shared import ACCEPTANCE
from scanning.measure import measure_body, measure_foot
from scanning.population import body_population, foot_population

MESHES = ACCEPTANCE / "meshes"


def _time_ms(measure: Callable[..., object], mesh: trimesh.Trimesh, repeats: int, **options: str) -> float:
    measure(mesh, **options)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        measure(mesh, **options)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _summary(times: list[float], meshes: list[trimesh.Trimesh]) -> dict[str, float]:
    return {
        "cases": len(times),
        "faces_median": int(statistics.median(len(m.faces) for m in meshes)),
        "measure_ms_median": round(statistics.median(times), 1),
        "measure_ms_max": round(max(times), 1),
    }


def _acceptance(repeats: int) -> dict[str, float]:
    cases = json.loads((MESHES / "cases.json").read_text())
    results = {}
    for case in cases:
        mesh = trimesh.load(MESHES / case["file"], force="mesh")
        measure = measure_foot if case["kind"] == "foot" else measure_body
        results[case["file"]] = round(_time_ms(measure, mesh, repeats, up=case["up"], units=case["units"]), 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feet", type=int, default=10)
    parser.add_argument("--bodies", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    feet = foot_population(args.feet, seed=1000)
    bodies = body_population(args.bodies, seed=1000)
    report = {
        "foot": _summary([_time_ms(measure_foot, m, args.repeats) for m in feet], feet),
        "body": _summary([_time_ms(measure_body, m, args.repeats) for m in bodies], bodies),
    }
    if Path(MESHES / "cases.json").exists():
        report["acceptance_ms"] = _acceptance(args.repeats)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
