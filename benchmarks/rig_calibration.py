"""Rig calibration accuracy: ChArUco boards rendered by the synthetic rig with known camera poses.

Foot rig: the board lying at the platform centre, on the open platform (four cameras
around it) and on the glass platform (the double-sided board on the glass; the plantar
camera under it sees the back print, its errors reported on their own). Body rig: the
centre board alone (for comparison), then the full procedure of :mod:`scanning.calibration.procedure` (the board
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
from scanning.sources.frame import is_plantar


def _captures(kind: str, plantar: bool = False) -> tuple[object, list, dict[str, list], dict[str, list]]:
    """The virtual rig, its cameras, and its procedure's rendered captures by step name and by
    role (the same board poses ``omnifit calibrate --source synthetic`` and the kiosk render)."""
    rig, cameras, azimuths = synthetic_rig(kind, plantar=plantar)
    steps = procedure(rig, azimuths)
    frames = {step.name: render_capture(rig, cameras, step) for step in steps}
    by_role = {role: [frames[step.name] for step in steps if step.role == role] for role in ("lying", "standing")}
    return rig, cameras, frames, by_role


def _camera_error(found, camera) -> tuple[float, float]:
    """(position error mm, rotation error degrees) of one solved camera against the truth."""
    delta = np.linalg.inv(camera.extrinsic) @ found.extrinsic
    return (float(np.linalg.norm(found.extrinsic[:3, 3] - camera.extrinsic[:3, 3])) * 1000.0,
            float(np.degrees(np.arccos(np.clip((np.trace(delta[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)))))


def _errors(rig, cameras, seconds: float) -> dict[str, object]:
    shifts, angles, rms = [], [], []
    for camera in cameras:
        found = rig.cameras[camera.camera_id]
        shift, angle = _camera_error(found, camera)
        shifts.append(shift)
        angles.append(angle)
        rms.append(found.reprojection_error_px)
    report: dict[str, object] = {
        "cameras": len(cameras), "position_mm_max": round(max(shifts), 3),
        "position_mm_median": round(float(np.median(shifts)), 3), "rotation_deg_max": round(max(angles), 4),
        "reprojection_px_max": round(max(rms), 3), "solve_s": round(seconds, 2)}
    for camera in cameras:
        if is_plantar(camera.extrinsic):
            found = rig.cameras[camera.camera_id]
            shift, angle = _camera_error(found, camera)
            report["plantar"] = {"position_mm": round(shift, 3), "rotation_deg": round(angle, 4),
                                 "reprojection_px": round(found.reprojection_error_px, 3), "corners": found.corners}
    return report


def _timed(spec, centre, **captures):
    start = time.perf_counter()
    rig = calibrate_rig(spec, centre, **captures)
    return rig, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    report = {}
    _, feet, frames, _ = _captures("foot")
    rig, seconds = _timed(BOARDS["foot"], frames["centre"])
    report["foot_centre_board"] = _errors(rig, feet, seconds)
    glass, feet, frames, _ = _captures("foot", plantar=True)
    rig, seconds = _timed(glass.board, frames["centre"])
    report["foot_glass_double_sided_board"] = _errors(rig, feet, seconds)
    _, body, frames, by_role = _captures("body")
    rig, seconds = _timed(BOARDS["body"], frames["centre"])
    report["body_centre_board"] = _errors(rig, body, seconds)
    rig, seconds = _timed(BOARDS["body"], frames["centre"], lying=by_role["lying"], held=by_role["standing"])
    report["body_procedure"] = {**_errors(rig, body, seconds), "captures": len(frames)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
