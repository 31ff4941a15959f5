"""The mirror says what it sees: nobody, several people, feet cut by the frame, no feet;
``omnifit tryon`` fails a still image on which nothing could be drawn."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from omnifit.cli import main
from tests.conftest import shared_path
from tryon.ar import landmarks as lm
from tryon.ar.scene import Notice, assess, draw_notices
from tryon.ar.tracking import BodyObservation, TrackingState, feet_cut_by_frame

PHOTOS = ("data", "people")


def _tryon(tmp_path, capsys, name: str, what: list[str]) -> tuple[int, dict, np.ndarray]:
    photo = shared_path(*PHOTOS, name)
    out = tmp_path / "out.png"
    code = main(["tryon", "--input", str(photo), *what, "--out", str(out), "--json"])
    lines = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(lines[-1]), cv2.imread(str(out))


def test_nobody_and_a_lone_face_are_told_apart():
    mask = np.zeros((100, 80), np.float32)
    assert assess(BodyObservation(TrackingState.STEP_INTO_VIEW, mask=mask, faces=0), mask.shape, "feet") == (Notice.NO_PERSON,)
    assert assess(BodyObservation(TrackingState.STEP_INTO_VIEW, mask=mask, faces=1), mask.shape, "feet") == (Notice.BODY_CUT,)
    assert Notice.SEVERAL_PEOPLE in assess(BodyObservation(TrackingState.STEP_INTO_VIEW, mask=mask, faces=3), mask.shape, "torso")


def test_a_mask_running_off_the_bottom_under_the_foot_is_a_cut_foot():
    pixels = np.zeros((lm.NUM_LANDMARKS, 2))
    pixels[[lm.RIGHT_ANKLE, lm.RIGHT_HEEL, lm.RIGHT_FOOT_INDEX]] = [(40, 80), (38, 90), (50, 92)]
    mask = np.zeros((100, 80), np.float32)
    mask[70:95, 30:60] = 1.0
    assert not feet_cut_by_frame(mask, pixels, lm.Side.RIGHT)
    mask[95:, 30:60] = 1.0
    assert feet_cut_by_frame(mask, pixels, lm.Side.RIGHT)
    mask[95:, 30:60], mask[95:, 0:5] = 0.0, 1.0  # someone else's mask at the far edge does not count
    assert not feet_cut_by_frame(mask, pixels, lm.Side.RIGHT)


def test_notices_are_written_on_the_frame():
    image = np.full((240, 320, 3), 200, np.uint8)
    draw_notices(image, (Notice.NO_FEET,))
    assert (image[:150] == 200).all() and (image[-20:] != 200).any()


@pytest.mark.shared_data
def test_three_people_is_said_and_fails_the_still(tmp_path, capsys):
    code, report, image = _tryon(tmp_path, capsys, "tfjs_three_people_upper.jpg", ["--sku", "ka-swift-m-BLK-42"])
    assert code == 3 and report["drawn"] is False and report["overlay_frames"] == 0
    assert "several_people" in report["notices"]
    assert image is not None  # the picture carries the message


@pytest.mark.shared_data
def test_shoes_cut_by_the_frame_are_not_drawn_and_said(tmp_path, capsys):
    code, report, _ = _tryon(tmp_path, capsys, "yogait_t4_shoes_cut_at_edge.jpg", ["--sku", "ka-swift-m-BLK-42"])
    assert code == 3 and report["person_frames"] == 1 and report["overlay_frames"] == 0
    assert report["notices"] == {"feet_cut_by_frame": 1}


@pytest.mark.shared_data
def test_a_whole_body_gets_its_shoes_and_no_notice(tmp_path, capsys):
    code, report, _ = _tryon(tmp_path, capsys, "yogait_tada1_standing_front.jpg", ["--sku", "ka-swift-m-BLK-42"])
    assert code == 0 and report["drawn"] is True and report["notices"] == {}
