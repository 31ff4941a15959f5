"""The pipelined mirror: frames come back in order, worker errors reach the caller."""
from __future__ import annotations

import numpy as np
import pytest

from tests.tryon.ar.conftest import SHOE_GLB
from tryon.ar import ArInputError, BodyTracker, Mirror, TrackingState, build_tryon
from tryon.ar.scene import Notice
from tryon.ar.sources import Frame, FrameSource


@pytest.fixture(scope="module")
def trackers():
    pair = [BodyTracker(), BodyTracker()]
    yield pair
    for tracker in pair:
        tracker.close()


@pytest.mark.shared_data
@pytest.mark.slow
def test_two_workers_keep_frame_order_and_track_the_walker(clip_path, renderer, trackers):
    tryon = build_tryon(shoe=SHOE_GLB, renderer=renderer)
    frames = list(FrameSource(str(clip_path), size=(640, 480)))[20:80]
    results = []
    stats = Mirror(tryon, trackers).run(frames, results.append)
    assert [r.index for r in results] == [f.index for f in frames]
    assert stats.frames == 60 and stats.person_frames >= 30 and stats.overlay_frames >= 15, stats.summary()
    # Frames 20-27 show the empty room: no overlay, untouched pixels above the "step in" message.
    for result, frame in zip(results[:8], frames[:8]):
        assert result.state is TrackingState.STEP_INTO_VIEW and not result.overlay
        assert result.notices == (Notice.NO_PERSON,)
        np.testing.assert_array_equal(result.image[:360], frame.image[:360])
    summary = stats.summary(skip=5)
    assert summary["fps"] > 0 and set(summary["stages_ms"]) == {"landmarks", "render", "composite"}


def test_a_worker_error_reaches_the_caller(renderer, trackers):
    tryon = build_tryon(shoe=SHOE_GLB, renderer=renderer)
    frames = [Frame(i, i / 30, np.zeros((48, 64, 3), np.uint8)) for i in range(4)]
    frames.append(Frame(4, 4 / 30, np.zeros((48, 64, 4), np.uint8)))
    with pytest.raises(ArInputError, match="frame 4: expected an"):
        Mirror(tryon, trackers).run(frames)


def test_inline_mode_gives_every_frame(renderer):
    tryon = build_tryon(shoe=SHOE_GLB, renderer=renderer)
    frames = [Frame(i, i / 30, np.full((48, 64, 3), 90, np.uint8)) for i in range(3)]
    with BodyTracker() as tracker:
        stats = Mirror(tryon, tracker, pipelined=False).run(frames)
    assert stats.frames == 3 and stats.person_frames == 0


def test_landmark_skipping_reuses_the_last_landmarks(renderer):
    class Counting(BodyTracker):
        calls = 0

        def detect(self, rgb):
            Counting.calls += 1
            return super().detect(rgb)

    tryon = build_tryon(shoe=SHOE_GLB, renderer=renderer)
    frames = [Frame(i, i / 30, np.full((48, 64, 3), 90, np.uint8)) for i in range(6)]
    with Counting() as tracker:
        stats = Mirror(tryon, [tracker], pipelined=False, landmark_every=2).run(frames)
    assert Counting.calls == 3 and stats.skipped_frames == 3 and stats.frames == 6
    with pytest.raises(ArInputError, match="landmark_every"):
        Mirror(tryon, [tracker], landmark_every=0)


def test_adaptive_skipping_only_when_behind(renderer):
    tryon = build_tryon(shoe=SHOE_GLB, renderer=renderer)
    with BodyTracker() as tracker:
        mirror = Mirror(tryon, [tracker], landmark_every=None, target_fps=30.0)
        mirror._landmark_ms = 10.0  # keeping up with 33 ms frames
        assert not any(mirror._skip(i) for i in range(6))
        mirror._landmark_ms = 50.0  # behind: every other frame skips Pose
        assert [mirror._skip(i) for i in range(4)] == [False, True, False, True]
