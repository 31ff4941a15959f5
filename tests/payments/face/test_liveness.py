"""Depth-relief liveness on analytic depth maps, and the challenge logic's input checks."""
from __future__ import annotations

import numpy as np
import pytest

from payments.errors import LivenessInputError
from payments.face.liveness import (
    Challenge,
    FaceKeypoints,
    LivenessReason,
    check_challenge,
    check_depth_liveness,
    fit_quadric,
)
from scanning.sources.frame import Intrinsics
from scanning.sources.noise import add_depth_noise

CAMERA = Intrinsics(fx=600.0, fy=600.0, cx=319.5, cy=239.5, width=640, height=480)
FACE = FaceKeypoints(
    box=(170, 380, 330, 260), nose_tip=(320.0, 265.0), nose_bridge=(320.0, 222.0),
    left_eye=(350.0, 225.0), right_eye=(290.0, 225.0),
)


def _surface(z_of_xy, distance: float = 0.55) -> np.ndarray:
    """Depth (H, W) metres of z = distance + z_of_xy(x, y), with x, y in metres at that distance."""
    v, u = np.mgrid[0:CAMERA.height, 0:CAMERA.width].astype(np.float64)
    x, y = (u - CAMERA.cx) * distance / CAMERA.fx, (v - CAMERA.cy) * distance / CAMERA.fy
    return (distance + z_of_xy(x, y)).astype(np.float32)


def _bump(x0: float, y0: float, height: float, sigma: float):
    return lambda x, y: -height * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma**2))


def _face_like(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A head-sized ellipsoid cap, a nose 20 mm proud of it and two 8 mm eye sockets (metres)."""
    nose_x, nose_y = (FACE.nose_tip[0] - CAMERA.cx) * 0.55 / 600, (FACE.nose_tip[1] - CAMERA.cy) * 0.55 / 600
    eye_y = (FACE.left_eye[1] - CAMERA.cy) * 0.55 / 600
    cap = 0.9 * (x**2 + y**2)
    eye_xs = ((FACE.left_eye[0] - CAMERA.cx) * 0.55 / 600, (FACE.right_eye[0] - CAMERA.cx) * 0.55 / 600)
    eyes = sum(-_bump(ex, eye_y, 0.008, 0.008)(x, y) for ex in eye_xs)
    return cap + _bump(nose_x, nose_y, 0.02, 0.009)(x, y) + eyes


def test_quadric_fit_explains_a_tilted_bent_sheet(rng: np.random.Generator) -> None:
    x, y = rng.uniform(-0.1, 0.1, (2, 2000))
    z = 0.6 + 0.3 * x - 0.2 * y + 4.0 * x**2
    _, residuals = fit_quadric(np.column_stack([x, y, z]))
    assert np.abs(residuals).max() < 1e-9


@pytest.mark.parametrize("noisy", [False, True])
def test_real_relief_is_live_and_flat_or_bent_sheets_are_not(noisy: bool, rng: np.random.Generator) -> None:
    def observe(depth: np.ndarray) -> np.ndarray:
        return add_depth_noise(depth, rng, fx=CAMERA.fx) if noisy else depth

    face = check_depth_liveness(observe(_surface(_face_like)), CAMERA, FACE)
    assert face.live and 20 < face.relief_mm < 40, face
    flat = check_depth_liveness(observe(_surface(lambda x, y: 0.4 * x + 0.1 * y)), CAMERA, FACE)
    assert not flat.live and flat.reasons == (LivenessReason.FLAT,) and abs(flat.relief_mm) < 2
    bent = check_depth_liveness(observe(_surface(lambda x, y: 0.12 - np.sqrt(0.12**2 - np.minimum(x**2, 0.0143)))), CAMERA, FACE)
    assert not bent.live and LivenessReason.FLAT in bent.reasons
    crease_x = (FACE.nose_tip[0] - CAMERA.cx) * 0.55 / CAMERA.fx
    folded = check_depth_liveness(observe(_surface(lambda x, y: 1.2 * np.abs(x - crease_x))), CAMERA, FACE)
    assert not folded.live and folded.reasons == (LivenessReason.FOLDED,), folded
    assert folded.relief_mm > 9 and abs(folded.bridge_relief_mm) < 2


def test_small_face_close_up_is_refused_by_its_metric_size() -> None:
    close = check_depth_liveness(_surface(_face_like, distance=0.2), CAMERA, FACE)
    assert not close.live and LivenessReason.FACE_SIZE in close.reasons and close.face_width_m < 0.06


def test_missing_depth_is_not_live() -> None:
    depth = _surface(_face_like)
    depth[::1, ::2] = 0.0
    depth[::2, :] = 0.0
    result = check_depth_liveness(depth, CAMERA, FACE)
    assert not result.live and result.reasons == (LivenessReason.NO_DEPTH,)


@pytest.mark.parametrize(
    ("depth", "message"),
    [(np.zeros((480, 64), np.float32), "matching the intrinsics"), (np.zeros((480, 640), np.uint16), "float metres")],
)
def test_malformed_depth_is_an_input_error(depth: np.ndarray, message: str) -> None:
    with pytest.raises(LivenessInputError, match=message):
        check_depth_liveness(depth, CAMERA, FACE)


def test_box_outside_the_frame_is_an_input_error() -> None:
    outside = FaceKeypoints(box=(500, 700, 600, 650), nose_tip=(0, 0), nose_bridge=(0, 0), left_eye=(0, 0), right_eye=(0, 0))
    with pytest.raises(LivenessInputError, match="outside"):
        check_depth_liveness(_surface(_face_like), CAMERA, outside)


def test_challenge_needs_frames_with_a_face_and_well_formed_landmarks() -> None:
    assert check_challenge([None, None, np.zeros((468, 3))], Challenge.BLINK).reasons == (LivenessReason.NO_FACE_IN_FRAME,)
    with pytest.raises(LivenessInputError, match="468"):
        check_challenge([np.zeros((10, 2))] * 3, Challenge.TURN_HEAD)
