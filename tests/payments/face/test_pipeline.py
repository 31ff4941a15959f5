"""The kiosk's face check (payments.face.pipeline) on rendered attempts: the order of its stages and what it returns."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from payments.errors import FaceError
from payments.face.attack_set import PresentationKind, SourcePhoto, prepare_photo, stream_challenge_frames
from payments.face.capture import load_image
from payments.face.liveness import Challenge
from payments.face.pipeline import FaceFrames, FacePipeline, SyntheticFaceCamera, render_frames
from tests.payments.face.conftest import face_file

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@functools.cache
def _photo(name: str) -> SourcePhoto:
    photo = prepare_photo(name, load_image(face_file(name)))
    assert photo is not None
    return photo


def test_a_live_face_is_judged_on_the_frames_the_turn_needs_and_embedded() -> None:
    photo = _photo("obama.jpg")
    still = render_frames(photo, PresentationKind.BONA_FIDE, Challenge.TURN_HEAD, seed=3)
    taken: list[int] = []

    def camera_stream():  # counts what the check takes from the camera
        for index, frame in enumerate(stream_challenge_frames(photo, PresentationKind.BONA_FIDE, Challenge.TURN_HEAD, 3)):
            taken.append(index)
            yield frame

    frames = FaceFrames(still.colour, still.depth_m, still.intrinsics, Challenge.TURN_HEAD, camera_stream())
    check = FacePipeline().check(frames)
    assert check.live and check.embedding is not None and check.embedding.shape == (128,)
    assert check.challenge_frames_used == len(taken) < 6  # stopped once the turn was seen
    np.testing.assert_array_equal(check.require_live(), check.embedding)
    assert {"quality_ms", "depth_ms", "challenge_ms", "embedding_ms", "total_ms"} == set(check.timings_ms)


def test_a_print_is_refused_by_depth_before_the_challenge_or_the_embedding() -> None:
    frames = render_frames(_photo("obama.jpg"), PresentationKind.FLAT_PRINT, Challenge.TURN_HEAD, seed=3)
    check = FacePipeline().check(frames)
    assert not check.live and check.embedding is None and check.challenge_frames_used == 0
    assert "challenge_ms" not in check.timings_ms and "embedding_ms" not in check.timings_ms
    with pytest.raises(FaceError, match="did not see a real face"):
        check.require_live()


def test_a_face_that_does_not_answer_the_challenge_is_told_so() -> None:
    photo = _photo("obama.jpg")
    live = render_frames(photo, PresentationKind.BONA_FIDE, Challenge.TURN_HEAD, seed=3)
    still_frames = [live.colour] * 6  # the shopper never turns
    check = FacePipeline().check(FaceFrames(live.colour, live.depth_m, live.intrinsics, Challenge.TURN_HEAD, still_frames))
    assert not check.live and check.embedding is None and check.challenge_frames_used == 6
    with pytest.raises(FaceError, match="head turn"):
        check.require_live()


def test_the_synthetic_camera_renders_the_kiosk_challenge_as_a_stream() -> None:
    frames = SyntheticFaceCamera(face_file("obama.jpg"), seed=3).capture()
    assert frames.colour.shape == (480, 640, 3) and frames.depth_m.shape == (480, 640)
    assert not isinstance(frames.challenge_frames, (list, tuple))  # rendered only when taken
    first = next(iter(frames.challenge_frames))
    assert first.shape == (480, 640, 3) and first.dtype == np.uint8
