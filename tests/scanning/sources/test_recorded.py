"""Recorded sources: our folder format round trip, the public datasets' depth encodings,
Open3D's Redwood sequence, and the calibration mismatches that must be refused."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from scanning.calibration import CameraCalibration, RigCalibration
from scanning.errors import CalibrationError, FrameError
from scanning.sources.recorded import (
    DEPTH_DECODERS,
    Open3DSequenceSource,
    RecordedSource,
    read_depth,
    write_recording,
)
from scanning.sources.synthetic import SyntheticRig, kiosk_rig
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def rig_frames():
    box = trimesh.creation.box(extents=[0.2, 0.1, 0.06])
    box.apply_translation([0.0, 0.0, 0.03])
    cameras = kiosk_rig("foot", 2)
    frames = list(SyntheticRig(box, cameras, seed=2).frames())
    calibration = RigCalibration({c.camera_id: CameraCalibration(c.camera_id, c.intrinsics, c.extrinsic)
                                  for c in cameras})
    return frames, calibration


def test_recording_round_trip_keeps_depth_and_extrinsics(rig_frames, tmp_path: Path) -> None:
    frames, calibration = rig_frames
    write_recording(frames, tmp_path / "rec", calibration)
    loaded = list(RecordedSource(tmp_path / "rec").frames())
    assert [f.camera_id for f in loaded] == [f.camera_id for f in frames]
    for original, again in zip(frames, loaded):
        assert np.max(np.abs(original.depth - again.depth)) <= 0.5e-4 + 1e-7
        np.testing.assert_array_equal(original.colour, again.colour)
        np.testing.assert_allclose(again.extrinsic, original.extrinsic, atol=1e-12)


def test_folder_without_index_pairs_files_by_name(rig_frames, tmp_path: Path) -> None:
    frames, calibration = rig_frames
    folder = write_recording(frames, tmp_path / "rec", calibration, depth_scale=0.001)
    (folder / "frames.json").unlink()
    loaded = list(RecordedSource(folder).frames())
    assert sorted(f.camera_id for f in loaded) == ["cam0", "cam1"]
    assert np.max(np.abs(loaded[0].depth - frames[0].depth)) <= 0.0005 + 1e-6


def test_missing_and_mismatched_calibration_are_refused(rig_frames, tmp_path: Path) -> None:
    frames, calibration = rig_frames
    folder = write_recording(frames, tmp_path / "rec", calibration)
    (folder / "calibration.json").unlink()
    with pytest.raises(CalibrationError, match="calibration file not found"):
        RecordedSource(folder)
    only_cam0 = RigCalibration({"cam0": calibration.cameras["cam0"]})
    only_cam0.save(folder / "calibration.json")
    with pytest.raises(CalibrationError, match=r"cameras \['cam1'\] .* not in its calibration"):
        RecordedSource(folder)
    cam1 = calibration.cameras["cam1"]
    wrong = CameraCalibration("cam1", type(cam1.intrinsics)(600.0, 600.0, 423.5, 239.5, 848, 480), cam1.extrinsic)
    RigCalibration({"cam0": calibration.cameras["cam0"], "cam1": wrong}).save(folder / "calibration.json")
    with pytest.raises(CalibrationError, match="camera cam1: recorded images are 640x480 but its calibration is for 848x480"):
        list(RecordedSource(folder).frames())
    (folder / "calibration.json").write_text("{not json")
    with pytest.raises(CalibrationError, match="not readable JSON"):
        RecordedSource(folder)


def test_corrupt_depth_file_names_the_file(rig_frames, tmp_path: Path) -> None:
    frames, calibration = rig_frames
    folder = write_recording(frames, tmp_path / "rec", calibration)
    (folder / "depth" / "cam0_0000.png").write_bytes(b"not a png")
    with pytest.raises(FrameError, match="cam0_0000.png"):
        list(RecordedSource(folder).frames())


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "decoder", "valid", "low", "high", "median"),
    [
        ("RGBD/other_formats/TUM_depth.png", "tum", 0.81, 1.46, 9.33, 2.42),
        ("RGBD/other_formats/SUN_depth.png", "sun", 0.82, 1.06, 9.87, None),
        ("RGBD/other_formats/NYU_depth.pgm", "nyu", 0.93, 1.39, 6.69, None),
        ("depth.png", "scale", 0.84, 0.65, 2.49, 1.59),
    ],
)
def test_public_dataset_depth_decoders(name, decoder, valid, low, high, median) -> None:
    depth = read_depth(shared_path("data", "rgbd", "open3d-testdata", name), decoder)
    readings = depth[depth > 0]
    assert abs(readings.size / depth.size - valid) < 0.01
    assert readings.min() == pytest.approx(low, abs=0.01)
    assert readings.max() == pytest.approx(high, abs=0.01)
    if median is not None:
        assert float(np.median(readings)) == pytest.approx(median, abs=0.01)


def test_unknown_decoder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FrameError, match="unknown depth decoder 'kinect'"):
        read_depth(tmp_path / "x.png", "kinect")
    assert set(DEPTH_DECODERS) == {"scale", "tum", "sun", "nyu"}


@pytest.mark.shared_data
def test_redwood_sequence_fuses_into_one_consistent_scene() -> None:
    """The 5 Redwood frames with their trajectory: overlapping frames agree where they overlap."""
    import open3d as o3d

    base = shared_path("data", "rgbd", "open3d-testdata")
    source = Open3DSequenceSource(base / "RGBD", base / "camera_primesense.json",
                                  trajectory=base / "RGBD" / "trajectory.log")
    frames = list(source.frames())
    assert len(frames) == 5 and frames[0].intrinsics.fx == 525.0
    assert 0.85 < frames[0].valid_fraction < 0.9
    def cloud(frame, pose, stride):
        rows, cols = np.nonzero(frame.depth[::stride, ::stride])
        z = frame.depth[rows * stride, cols * stride].astype(np.float64)
        k = frame.intrinsics
        camera = np.stack([(cols * stride - k.cx) * z / k.fx, (rows * stride - k.cy) * z / k.fy, z], axis=1)
        return o3d.geometry.PointCloud(o3d.utility.Vector3dVector(camera @ pose[:3, :3].T + pose[:3, 3]))

    reference = cloud(frames[0], frames[0].extrinsic, 2)
    aligned = np.asarray(cloud(frames[-1], frames[-1].extrinsic, 16).compute_point_cloud_distance(reference))
    unmoved = np.asarray(cloud(frames[-1], frames[0].extrinsic, 16).compute_point_cloud_distance(reference))
    assert np.median(aligned) < 0.01
    assert np.median(aligned) < 0.5 * np.median(unmoved)  # the trajectory is what lines them up
