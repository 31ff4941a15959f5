"""RGBDFrame input checks: every bad frame is refused with the camera named."""
from __future__ import annotations

import numpy as np
import pytest

from scanning.errors import CalibrationError, FrameError
from scanning.sources.frame import Intrinsics, RGBDFrame, back_project

K = Intrinsics(100.0, 100.0, 31.5, 23.5, 64, 48)


def _frame(depth, colour=None, **kwargs) -> RGBDFrame:
    colour = np.zeros((48, 64, 3), np.uint8) if colour is None else colour
    return RGBDFrame(colour, depth, K, "cam7", **kwargs)


def test_uint16_depth_is_converted_with_its_scale() -> None:
    raw = np.full((48, 64), 1234, dtype=np.uint16)
    frame = _frame(raw, depth_scale=0.001)
    assert frame.depth.dtype == np.float32
    np.testing.assert_allclose(frame.depth, 1.234, rtol=1e-6)


@pytest.mark.parametrize(
    ("depth", "kwargs", "message"),
    [
        (np.ones((48, 64, 1), np.float32), {}, "depth must be \\(H, W\\)"),
        (np.ones((48, 64), np.int32), {}, "dtype int32"),
        (np.ones((48, 64), np.uint16), {}, "needs a positive depth_scale"),
        (np.full((48, 64), np.nan, np.float32), {}, "NaN/inf"),
        (np.zeros((48, 64), np.float32), {}, "all zero"),
        (-np.ones((48, 64), np.float32), {}, "negative"),
        (np.ones((40, 64), np.float32), {}, "intrinsics are for 64x48"),
    ],
)
def test_bad_depth_is_refused_naming_the_camera(depth, kwargs, message) -> None:
    colour = np.zeros(depth.shape[:2] + (3,), np.uint8) if depth.ndim == 2 else None
    with pytest.raises(FrameError, match=message) as caught:
        _frame(depth, colour, **kwargs)
    assert "cam7" in str(caught.value)
    assert caught.value.camera == "cam7"


@pytest.mark.parametrize("colour", [np.zeros((48, 64, 3), np.float32), np.zeros((48, 64), np.uint8),
                                    np.zeros((24, 32, 3), np.uint8)])
def test_bad_colour_is_refused(colour) -> None:
    with pytest.raises(FrameError, match="cam7: colour must be"):
        _frame(np.ones((48, 64), np.float32), colour)


def test_extrinsic_must_be_rigid() -> None:
    skewed = np.eye(4)
    skewed[0, 1] = 0.3
    with pytest.raises(FrameError, match="not a rigid transform"):
        _frame(np.ones((48, 64), np.float32), extrinsic=skewed)
    with pytest.raises(FrameError, match="4x4"):
        _frame(np.ones((48, 64), np.float32), extrinsic=np.eye(3))


def test_back_projection_lands_on_the_plane_seen() -> None:
    pose = np.eye(4)
    pose[:3, 3] = [0.1, 0.2, 0.3]
    frame = _frame(np.full((48, 64), 0.5, np.float32), extrinsic=pose)
    points = back_project(frame)
    np.testing.assert_allclose(points[:, 2], 0.8)
    assert points[:, 0].min() == pytest.approx(0.1 + (0 - 31.5) * 0.5 / 100.0)


def test_a_mirrored_camera_is_unmirrored_into_the_virtual_camera_behind_the_mirror() -> None:
    """The raw image of a camera looking by way of a mirror is the virtual camera's image
    flipped left-right, with the principal point mirrored too; unmirroring it gives back a
    frame whose depth back-projects onto the scene through the virtual camera's pose."""
    import trimesh

    from scanning.calibration.rig import CameraCalibration, RigCalibration
    from scanning.sources.frame import unmirror
    from scanning.sources.synthetic import SyntheticRig, VirtualCamera, kiosk_rig

    box = trimesh.creation.box(extents=[0.20, 0.08, 0.06])
    box.apply_translation([0.02, -0.01, 0.03])
    plantar = kiosk_rig("foot", 2, plantar=True)[-1]
    k = plantar.intrinsics
    off_centre = Intrinsics(k.fx, k.fy, k.cx - 25.0, k.cy, k.width, k.height)
    virtual = next(SyntheticRig(box, [VirtualCamera("plantar", off_centre, plantar.extrinsic)], noise=False).frames())
    raw_intrinsics = Intrinsics(k.fx, k.fy, k.width - 1 - off_centre.cx, k.cy, k.width, k.height)
    raw = RGBDFrame(virtual.colour[:, ::-1], virtual.depth[:, ::-1], raw_intrinsics, "plantar")
    rig = RigCalibration({"plantar": CameraCalibration("plantar", off_centre, plantar.extrinsic, mirrored=True)})
    restored = rig.apply(unmirror(raw))
    assert restored.intrinsics == off_centre
    np.testing.assert_array_equal(restored.depth, virtual.depth)
    points = back_project(restored, stride=3)
    points = points[points[:, 2] < 1.0]  # beyond the box the plantar camera sees the shop's ceiling
    assert len(points) > 500
    _, distance, _ = trimesh.proximity.closest_point(box, points[::5])
    assert np.percentile(distance, 99) < 2e-4
    # the flag survives the calibration file; anything but true/false is refused
    again = CameraCalibration.from_dict("plantar", rig.cameras["plantar"].to_dict())
    assert again.mirrored is True
    with pytest.raises(CalibrationError, match="mirrored must be true or false"):
        CameraCalibration.from_dict("plantar", {**rig.cameras["plantar"].to_dict(), "mirrored": "yes"})
