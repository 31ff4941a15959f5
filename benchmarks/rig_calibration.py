"""Rig calibration accuracy: ChArUco boards rendered by the synthetic rig with known camera poses.

Foot rig: the board lying at the platform centre. Body rig: the centre board alone (for
comparison), then the full procedure of :mod:`scanning.calibration.procedure` (the board
lying in front of each camera and standing between each pair of neighbours, the poses
staff are asked for), solved by :func:`scanning.calibration.calibrate_rig`.
Per rig: the worst and median camera position error (mm), rotation error (degrees) and
reprojection RMS (px) against the rendered truth, and the solve time (s; rendering, which
stands in for the cameras, is not counted).

Run: ``.venv/bin/python -m benchmarks.rig_calibration``. Prints ONE JSON object.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from scanning.calibration import calibrate_rig
from scanning.calibration.procedure import BOARDS, procedure, render_capture, synthetic_rig


def _captures(kind: str) -> tuple[list, dict[str, list], dict[str, list]]:
    """The virtual rig's cameras, and its procedure's rendered captures by step name and by role
    (the same board poses ``omnifit calibrate --source synthetic`` and the kiosk render)."""
    rig, cameras, azimuths = synthetic_rig(kind)
    steps = procedure(rig, azimuths)
    frames = {step.name: render_capture(rig, cameras, step) for step in steps}
    by_role = {role: [frames[step.name] for step in steps if step.role == role] for role in ("lying", "standing")}
    return cameras, frames, by_role


def _errors(rig, cameras, seconds: float) -> dict[str, float]:
    shifts, angles, rms = [], [], []
    for camera in cameras:
        found = rig.cameras[camera.camera_id]
        delta = np.linalg.inv(camera.extrinsic) @ found.extrinsic
        shifts.append(float(np.linalg.norm(found.extrinsic[:3, 3] - camera.extrinsic[:3, 3])) * 1000.0)
        angles.append(float(np.degrees(np.arccos(np.clip((np.trace(delta[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)))))
        rms.append(found.reprojection_error_px)
    return {"cameras": len(cameras), "position_mm_max": round(max(shifts), 3),
            "position_mm_median": round(float(np.median(shifts)), 3), "rotation_deg_max": round(max(angles), 4),
            "reprojection_px_max": round(max(rms), 3), "solve_s": round(seconds, 2)}


def _timed(spec, centre, **captures):
    start = time.perf_counter()
    rig = calibrate_rig(spec, centre, **captures)
    return rig, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    report = {}
    feet, frames, _ = _captures("foot")
    rig, seconds = _timed(BOARDS["foot"], frames["centre"])
    report["foot_centre_board"] = _errors(rig, feet, seconds)
    body, frames, by_role = _captures("body")
    rig, seconds = _timed(BOARDS["body"], frames["centre"])
    report["body_centre_board"] = _errors(rig, body, seconds)
    rig, seconds = _timed(BOARDS["body"], frames["centre"], lying=by_role["lying"], held=by_role["standing"])
    report["body_procedure"] = {**_errors(rig, body, seconds), "captures": len(frames)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
