"""Rig calibration accuracy: ChArUco boards rendered by the synthetic rig with known camera poses.

Foot rig: the board lying at the platform centre. Body rig: the centre board alone (for
comparison), then the full procedure (:func:`scanning.calibration.calibrate_rig` with the
board lying in front of each camera and standing between each pair of neighbours).
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

from scanning.calibration import CharucoBoardSpec, calibrate_rig
from scanning.calibration.charuco import board_scene_mesh, lying_board_pose, standing_board_pose
from scanning.sources.synthetic import SyntheticRig, kiosk_rig

FOOT_BOARD = CharucoBoardSpec()
BODY_BOARD = CharucoBoardSpec(square_m=0.08, marker_m=0.06)  # 0.8 x 0.56 m, an A1 foam board


def _capture(cameras, kind: str, spec: CharucoBoardSpec, pose: np.ndarray | None) -> list:
    rig = SyntheticRig(None, cameras, kind=kind, extras=(board_scene_mesh(spec, pose),), supersample=4, noise=False)
    return list(rig.frames())


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
    feet = kiosk_rig("foot")
    rig, seconds = _timed(FOOT_BOARD, _capture(feet, "foot", FOOT_BOARD, None))
    report["foot_centre_board"] = _errors(rig, feet, seconds)
    body = kiosk_rig("body")
    azimuths = [float(np.degrees(np.arctan2(c.extrinsic[1, 3], c.extrinsic[0, 3]))) for c in body]
    centre = _capture(body, "body", BODY_BOARD, None)
    rig, seconds = _timed(BODY_BOARD, centre)
    report["body_centre_board"] = _errors(rig, body, seconds)
    lying = [_capture(body, "body", BODY_BOARD, lying_board_pose(BODY_BOARD, a, 0.45)) for a in azimuths]
    held = [_capture(body, "body", BODY_BOARD, standing_board_pose(BODY_BOARD, a + 30.0, 1.0 + 0.4 * (i % 2)))
            for i, a in enumerate(azimuths)]
    rig, seconds = _timed(BODY_BOARD, centre, lying=lying, held=held)
    report["body_procedure"] = {**_errors(rig, body, seconds), "captures": 1 + len(lying) + len(held)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
