"""The face check at the kiosk, written once: capture → quality gate → depth liveness → challenge → embedding.

The kiosk (in its work process), the demo and the benchmarks all call :class:`FacePipeline`;
the match is the server's (``IdentifyFace``), which gets only the embedding. The order
is cheapest refusal first: the quality gate (HOG detection, 68 landmarks, pose, blur,
exposure) refuses a bad picture before any liveness work; depth relief refuses prints
and screens before the challenge's Face Mesh runs; the embedding is computed only for a
live face. The head-turn is judged frame by frame and stops once the turn is seen.

:class:`SyntheticFaceCamera` stands in for the kiosk's depth camera where there is none:
a photo's face (or an attack on it, ``payments.face.attack_set``) rendered through the
camera model with its sensor noise.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from payments.errors import FaceError
from payments.face.capture import QualityConfig, capture_face, compute_embedding
from payments.face.liveness import (
    Challenge,
    ChallengeConfig,
    DepthLivenessConfig,
    LivenessReason,
    LivenessResult,
    check_challenge,
    check_depth_liveness,
    face_mesh_landmarks,
)

if TYPE_CHECKING:
    from payments.face.attack_set import PresentationKind, SourcePhoto
    from scanning.sources.frame import Intrinsics

KIOSK_CHALLENGE = Challenge.TURN_HEAD
CHALLENGE_PROMPTS = {Challenge.TURN_HEAD: "Turn your head slowly", Challenge.BLINK: "Blink once"}
Progress = Callable[[str, float], None]


@dataclasses.dataclass(frozen=True)
class FaceFrames:
    """One attempt from the face camera: a registered RGB-D still, and the colour frames of the challenge.

    colour (H, W, 3) uint8 RGB and depth_m (H, W) float32 metres share ``intrinsics``.
    ``challenge`` None: no active challenge (depth liveness only; the kiosk always sets one).
    ``challenge_frames`` may be a stream (an iterator the camera fills as it goes): the check
    takes frames only until the challenge is answered, and reads a stream once.
    """

    colour: NDArray[Any]
    depth_m: NDArray[Any]
    intrinsics: Intrinsics
    challenge: Challenge | None
    challenge_frames: Iterable[NDArray[Any]] = ()


@dataclasses.dataclass(frozen=True)
class FaceCheck:
    """The pipeline's verdict on a capture that passed the quality gate.

    ``liveness`` holds the depth figures; when not live, its reasons (depth or challenge).
    ``embedding`` (128,) is computed only for a live face. ``timings_ms`` per stage.
    """

    live: bool
    liveness: LivenessResult
    quality: dict[str, float]
    embedding: NDArray[Any] | None
    challenge_frames_used: int
    timings_ms: dict[str, float]

    def require_live(self) -> NDArray[Any]:
        """The embedding, or a :class:`FaceError` saying what the shopper should do."""
        if self.live and self.embedding is not None:
            return self.embedding
        reasons = self.liveness.reasons
        if LivenessReason.NO_TURN in reasons:
            raise FaceError("we did not see your head turn; please turn it slowly when asked",
                            reasons=[reason.value for reason in reasons])
        if LivenessReason.NO_BLINK in reasons:
            raise FaceError("we did not see you blink; please blink once when asked",
                            reasons=[reason.value for reason in reasons])
        raise FaceError("the camera did not see a real face (" + ", ".join(reason.value for reason in reasons)
                        + "); please look straight at the camera", reasons=[reason.value for reason in reasons])


def _ms(start: float) -> float:
    return round(1000.0 * (time.perf_counter() - start), 2)


class FacePipeline:
    """The kiosk's face check; one per process (the models it loads are shared)."""

    def __init__(
        self,
        quality: QualityConfig | None = None,
        depth: DepthLivenessConfig | None = None,
        challenge: ChallengeConfig | None = None,
    ) -> None:
        self.quality = quality or QualityConfig()
        self.depth = depth or DepthLivenessConfig()
        self.challenge = challenge or ChallengeConfig()

    @staticmethod
    def warm_up() -> None:
        """Load dlib's detector, landmark and embedding models and Face Mesh now, not on the first shopper."""
        from payments.face import dlib_models

        blank = np.full((120, 160, 3), 128, np.uint8)
        dlib_models.detect_rectangles(blank, upsample=0)
        dlib_models.landmark_predictor()
        dlib_models.descriptor_model()
        face_mesh_landmarks(blank)

    def check(self, frames: FaceFrames, progress: Progress | None = None) -> FaceCheck:
        """Judge one attempt. Raises FaceQualityError (with the reason) when the still is not usable."""
        timings: dict[str, float] = {}
        report = progress or (lambda _stage, _fraction: None)
        start = time.perf_counter()
        report("Checking the picture", 0.4)
        capture = capture_face(frames.colour, self.quality)
        timings["quality_ms"] = _ms(start)
        lap = time.perf_counter()
        depth = check_depth_liveness(frames.depth_m, frames.intrinsics, capture.keypoints, self.depth)
        timings["depth_ms"] = _ms(lap)
        used = 0
        if depth.live and frames.challenge is not None:
            report(CHALLENGE_PROMPTS[frames.challenge], 0.6)
            lap = time.perf_counter()
            answered, used = self.judge_challenge(frames.challenge_frames, frames.challenge)
            timings["challenge_ms"] = _ms(lap)
            liveness = dataclasses.replace(depth, live=answered.live, reasons=answered.reasons)
        else:
            liveness = depth
        embedding = None
        if liveness.live:
            report("Recognising", 0.9)
            lap = time.perf_counter()
            embedding = compute_embedding(capture)
            timings["embedding_ms"] = _ms(lap)
        timings["total_ms"] = _ms(start)
        return FaceCheck(liveness.live, liveness, capture.metrics, embedding, used, timings)

    def judge_challenge(self, frames: Iterable[NDArray[Any]], challenge: Challenge) -> tuple[LivenessResult, int]:
        """The challenge's verdict and how many frames it took. A head turn, once seen in the frames so
        far, stays seen (the yaw range only grows), so it stops there; a blink needs the whole sequence."""
        landmarks: list[NDArray[Any] | None] = []
        result = LivenessResult(False, reasons=(LivenessReason.NO_FACE_IN_FRAME,))
        for index, frame in enumerate(frames):
            landmarks.append(face_mesh_landmarks(frame))
            if challenge is Challenge.TURN_HEAD and index >= 2:
                result = check_challenge(landmarks, challenge, self.challenge)
                if result.live:
                    return result, index + 1
        return check_challenge(landmarks, challenge, self.challenge), len(landmarks)


@functools.lru_cache(maxsize=1)
def shared_pipeline() -> FacePipeline:
    """This process's pipeline (the kiosk's work process keeps it warm between shoppers)."""
    return FacePipeline()


def warm_up() -> None:
    """For the kiosk's work process: load the face models before the shopper reaches the camera."""
    shared_pipeline().warm_up()


@dataclasses.dataclass(frozen=True)
class SyntheticFaceCamera:
    """The face in ``photo`` in front of the kiosk's depth camera: a live shopper (``kind`` bona fide)
    answering the challenge, or a presentation attack on them; the same renders the attack set uses."""

    photo: Path
    seed: int = 0
    challenge: Challenge = KIOSK_CHALLENGE

    def capture(self, kind: PresentationKind | None = None) -> FaceFrames:
        """The still, and the challenge frames as a stream rendered as the pipeline takes them."""
        from payments.face.attack_set import PresentationKind

        source = _prepared(str(self.photo))
        if source is None:
            raise FaceError(f"the face camera's subject {self.photo} shows no face")
        return render_frames(source, kind or PresentationKind.BONA_FIDE, self.challenge, self.seed, streamed=True)


@functools.lru_cache(maxsize=8)
def _prepared(path: str) -> SourcePhoto | None:
    """The camera's subject with its Face Mesh landmarks (once per photo: the subject is the scene, not the shot)."""
    from payments.face.attack_set import prepare_photo
    from payments.face.capture import load_image

    return prepare_photo(Path(path).name, load_image(Path(path)))


def render_frames(
    photo: SourcePhoto, kind: PresentationKind, challenge: Challenge, seed: int, *, streamed: bool = False
) -> FaceFrames:
    """The still and the challenge frames of one presentation of ``photo``, rendered by the kiosk camera
    model; ``streamed``: the challenge frames rendered only as they are taken (a camera's stream)."""
    from payments.face.attack_set import render_challenge_frames, render_presentation, stream_challenge_frames

    still = render_presentation(photo, kind, np.random.default_rng(seed))
    frames = (stream_challenge_frames(photo, kind, challenge, seed) if streamed
              else tuple(render_challenge_frames(photo, kind, challenge, seed)))
    return FaceFrames(still.colour, still.depth_m, still.intrinsics, challenge, frames)
