"""The presence gate on real photos and the real clip: people are tracked, empty rooms are not."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import shared_path
from tryon.ar import ArInputError, BodyTracker, TrackingState
from tryon.ar.landmarks import Side
from tryon.ar.sources import FrameSource

pytestmark = pytest.mark.shared_data


@pytest.mark.parametrize("name", ["yogait_standing_front.jpg", "yogait_t_pose.jpg", "yogait_standing_room.jpg",
                                  "mpsamples_woman_sitting.jpg", "max_od_girl_with_dog.jpg"])
def test_whole_body_photos_track_both_feet(observe, name):
    _, observation = observe(name)
    assert observation.state is TrackingState.TRACKING
    assert set(observation.feet) == {Side.LEFT, Side.RIGHT}


def test_feet_are_not_invented_when_out_of_frame(observe):
    # Pose reports the Apollo crew's "feet" (visibility up to 0.39) although none is in frame.
    _, observation = observe("max_pose_apollo11_crew.png")
    assert observation.feet == ()


def test_upper_body_photo_tracks_the_torso_without_feet(observe):
    _, observation = observe("mpsamples_business_woman_upper.png")
    assert observation.tracking and observation.torso
    assert observation.feet == ()


def test_empty_office_asks_to_step_into_view():
    image = cv2.imread(str(shared_path("data", "rgbd", "open3d-testdata", "RGBD", "other_formats", "TUM_color.png")))
    with BodyTracker(static_image_mode=True) as tracker:
        observation = tracker.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 0.0)
    assert observation.state is TrackingState.STEP_INTO_VIEW
    assert observation.pixels is None


@pytest.fixture(scope="module")
def clip_tracks(clip_path):
    """Per clip frame, the tracked observation."""
    with BodyTracker() as tracker:
        return [tracker.process(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB), frame.time_s)
                for frame in FrameSource(str(clip_path), size=(640, 480))]


@pytest.mark.slow
def test_clip_empty_room_frames_are_rejected_and_the_walker_is_tracked(clip_tracks):
    # Pose alone finds "people" in frames 7-12 and 21-28 of the empty room (see the acceptance README).
    states = [observation.state for observation in clip_tracks]
    feet = [len(observation.feet) for observation in clip_tracks]
    assert all(state is TrackingState.STEP_INTO_VIEW for state in states[:28])
    assert np.mean([n == 2 for n in feet[50:]]) > 0.8


def test_tracker_refuses_a_wrong_frame():
    with BodyTracker(static_image_mode=True) as tracker, pytest.raises(ArInputError, match="uint8 RGB"):
        tracker.process(np.zeros((10, 10), np.uint8), 0.0)
    with pytest.raises(ArInputError, match="segmenter"):
        BodyTracker(segmenter="magic")


def test_bad_gate_and_fit_settings_are_refused():
    from tryon.ar import GateConfig, ShoeFit

    with pytest.raises(ArInputError, match="min_visibility"):
        GateConfig(min_visibility=1.5)
    with pytest.raises(ArInputError, match="foot_to_shin_range"):
        GateConfig(foot_to_shin_range=(1.0, 0.5))
    with pytest.raises(ArInputError, match="scale_range"):
        ShoeFit(scale_range=(0.0, 2.0))
