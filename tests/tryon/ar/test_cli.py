"""``omnifit tryon`` end to end: files written, JSON figures, and clear errors for bad input."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from omnifit.cli import main
from tests.conftest import shared_path
from tests.tryon.ar.conftest import PEOPLE, SHOE_GLB, TOP_PNG, changed_pixels

STAGES = {"landmarks", "render", "composite"}


def _json(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    return json.loads(out[0])


@pytest.mark.shared_data
def test_photo_with_a_sku_writes_the_composite_and_one_json_object(tmp_path, capsys):
    photo = shared_path(*PEOPLE, "yogait_t_pose.jpg")
    out = tmp_path / "tee.png"
    assert main(["tryon", "--input", str(photo), "--sku", "hp-crew-m-BLK-L", "--out", str(out), "--json"]) == 0
    report = _json(capsys)
    assert report["frames"] == 1 and report["person_frames"] == 1 and report["overlay_frames"] == 1
    assert set(report["stages_ms"]) == STAGES and set(report["frame_ms"]) == {"p50", "p95"}
    assert report["fps"] > 0
    assert len(changed_pixels(cv2.imread(str(photo)), cv2.imread(str(out)))) > 5000


@pytest.mark.shared_data
def test_empty_room_says_so_and_fails_the_still(tmp_path, capsys):
    room = shared_path("data", "rgbd", "open3d-testdata", "RGBD", "other_formats", "TUM_color.png")
    out = tmp_path / "room.png"
    assert main(["tryon", "--input", str(room), "--shoe", str(SHOE_GLB), "--out", str(out), "--json"]) == 3
    report = _json(capsys)
    assert report["person_frames"] == 0 and report["overlay_frames"] == 0 and report["drawn"] is False
    assert report["notices"] == {"no_person": 1}
    before, after = cv2.imread(str(room)), cv2.imread(str(out))
    # Only the message band at the bottom changed: no shoe was drawn into the room.
    np.testing.assert_array_equal(before[: before.shape[0] * 3 // 4], after[: after.shape[0] * 3 // 4])
    assert (before != after).any()


@pytest.mark.shared_data
@pytest.mark.slow
def test_clip_writes_a_video_with_shoes_only_once_someone_is_there(tmp_path, capsys, clip_path):
    out = tmp_path / "walk.mp4"
    assert main(["tryon", "--input", str(clip_path), "--shoe", str(SHOE_GLB), "--out", str(out), "--size", "320x240",
                 "--json", "--max-frames", "60"]) == 0
    report = _json(capsys)
    assert report["frames"] == 60 and 10 <= report["person_frames"] <= 35 and report["overlay_frames"] >= 5
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 60
    capture.release()


def test_corrupt_video_is_named_and_nothing_is_written(tmp_path, capsys):
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    out = tmp_path / "out.mp4"
    assert main(["tryon", "--input", str(video), "--shoe", str(SHOE_GLB), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "broken.mp4" in err and "corrupt" in err
    assert list(tmp_path.iterdir()) == [video]


@pytest.mark.parametrize(("args", "message"), [
    (["--input", "IMAGE", "--sku", "no-such-sku", "--out", "OUT.png"], "unknown SKU"),
    (["--input", "IMAGE", "--shoe", str(SHOE_GLB), "--out", "OUT.mp4"], "must end in"),
    (["--input", "missing.jpg", "--shoe", str(SHOE_GLB), "--out", "OUT.png"], "not found"),
    (["--input", "camera:x", "--shoe", str(SHOE_GLB), "--out", "OUT.mp4"], "camera:N"),
    (["--input", "IMAGE", "--garment", str(TOP_PNG), "--variant", "beach", "--out", "OUT.png"], "shoe model"),
    (["--input", "IMAGE", "--shoe", str(SHOE_GLB), "--variant", "beach", "--out", "OUT.png"], "no material variant"),
])
def test_bad_arguments_get_a_clear_error(tmp_path, capsys, args, message):
    image = tmp_path / "in.png"
    cv2.imwrite(str(image), np.zeros((48, 64, 3), np.uint8))
    args = [str(image) if a == "IMAGE" else str(tmp_path / f"out{a[3:]}") if a.startswith("OUT.") else a for a in args]
    assert main(["tryon", *args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_corrupt_image_is_named(tmp_path, capsys):
    image = tmp_path / "broken.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert main(["tryon", "--input", str(image), "--shoe", str(SHOE_GLB), "--out", str(tmp_path / "o.png")]) == 2
    assert "broken.jpg" in capsys.readouterr().err
