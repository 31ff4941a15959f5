"""The mirror loop: tracking on worker threads, smoothing, rendering and compositing on
the calling thread, so landmark inference of the next frames overlaps the drawing of
this one (and, with two workers, inference of two frames overlaps on two cores).

MediaPipe releases the GIL inside its graph, and the moderngl context must stay
on the thread that made it, hence this split. Per-frame timings feed
:class:`MirrorStats`, which the CLI and the benchmark print.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from scanning.sources.frame import Intrinsics
from tryon.ar.composite import composite_patch
from tryon.ar.errors import ArInputError
from tryon.ar.render import RenderedLayer
from tryon.ar.scene import Notice, assess, draw_notices
from tryon.ar.sources import Frame
from tryon.ar.tracking import BodyObservation, BodyTracker, Detection, TrackingState

_LOGGER = logging.getLogger(__name__)
_END = object()


class TryOn(Protocol):
    """Anything that turns an observation into a layer: shoes or a garment."""

    def render(self, observation: BodyObservation, camera: Intrinsics) -> RenderedLayer | None: ...


@dataclass(frozen=True)
class FrameResult:
    """One composited frame and what happened to it (milliseconds)."""

    index: int
    image: np.ndarray
    state: TrackingState
    overlay: bool
    landmarks_ms: float
    render_ms: float
    composite_ms: float
    notices: tuple[Notice, ...] = ()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2)}


@dataclass
class MirrorStats:
    """Running figures of one mirror run; ``frame_ms`` is the interval between delivered frames."""

    frames: int = 0
    person_frames: int = 0
    overlay_frames: int = 0
    skipped_frames: int = 0  # frames drawn with the previous frame's landmarks
    wall_s: float = 0.0
    cpu_s: float = 0.0  # CPU time of the whole process (every thread) over the run
    notices: dict[str, int] = field(default_factory=dict)  # frames on which each notice was said
    frame_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=lambda: {"landmarks": [], "render": [], "composite": []})

    def add(self, result: FrameResult, interval_ms: float, latency_ms: float) -> None:
        self.frames += 1
        self.person_frames += result.state is TrackingState.TRACKING
        self.overlay_frames += result.overlay
        for notice in result.notices:
            self.notices[notice.value] = self.notices.get(notice.value, 0) + 1
        self.frame_ms.append(interval_ms)
        self.latency_ms.append(latency_ms)
        self.stages["landmarks"].append(result.landmarks_ms)
        self.stages["render"].append(result.render_ms)
        self.stages["composite"].append(result.composite_ms)

    def summary(self, skip: int = 0) -> dict:
        """The JSON-ready figures, leaving out the first ``skip`` frames (warm-up) from the timings."""
        cut = min(skip, max(self.frames - 1, 0))
        return {
            "frames": self.frames,
            "person_frames": self.person_frames,
            "overlay_frames": self.overlay_frames,
            "skipped_frames": self.skipped_frames,
            "notices": dict(sorted(self.notices.items())),
            "fps": round(self.frames / self.wall_s, 2) if self.wall_s > 0 else 0.0,
            # All threads' CPU per frame: the work itself, apart from waiting for a core others hold.
            "cpu_ms_per_frame": round(1000.0 * self.cpu_s / self.frames, 2) if self.frames else 0.0,
            "frame_ms": _percentiles(self.frame_ms[cut:]),
            "latency_ms": _percentiles(self.latency_ms[cut:]),
            "stages_ms": {name: _percentiles(values[cut:]) for name, values in self.stages.items()},
        }


class _WorkerPool:
    """Detection on worker threads, one tracker each, handed back in frame order.

    Workers take the next frame from the shared source as soon as they are free,
    so with two workers landmark inference of two frames runs at once (MediaPipe
    releases the GIL). ``slots`` bounds the frames in flight.
    """

    def __init__(self, trackers: Sequence[BodyTracker], frames: Iterable[Frame], detect: Callable) -> None:
        self._frames = enumerate(frames)
        self._lock = threading.Lock()
        self._results: queue.Queue = queue.Queue()
        self._slots = threading.Semaphore(2 * len(trackers))
        self._stop = threading.Event()
        self._workers = [threading.Thread(target=self._work, args=(tracker, detect), name=f"mirror-tracking-{i}",
                                          daemon=True) for i, tracker in enumerate(trackers)]

    def _next_frame(self) -> tuple[int, Frame] | None:
        """(position in the stream, frame), or None at the end or on stop."""
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                return None
        with self._lock:
            return next(self._frames, None)

    def _work(self, tracker: BodyTracker, detect: Callable) -> None:
        try:
            while not self._stop.is_set() and (item := self._next_frame()) is not None:
                position, frame = item
                self._results.put((position, detect(tracker, frame, position)))
        except BaseException as exc:  # handed to the caller's thread and raised there
            self._results.put((-1, exc))
        finally:
            self._results.put((-1, _END))

    def __iter__(self):
        for worker in self._workers:
            worker.start()
        pending: dict[int, object] = {}
        expected, running = 0, len(self._workers)
        try:
            while running or expected in pending:
                if expected in pending:
                    self._slots.release()
                    yield pending.pop(expected)
                    expected += 1
                    continue
                index, item = self._results.get()
                if isinstance(item, BaseException):
                    raise item
                if item is _END:
                    running -= 1
                else:
                    pending[index] = item
        finally:
            self._stop.set()
            for worker in self._workers:
                worker.join(timeout=5.0)


class Mirror:
    """Runs frames through tracking, a try-on and compositing.

    ``trackers``: one per tracking worker thread (two overlap landmark inference
    of consecutive frames; with ``pipelined=False`` the first runs inline).
    ``camera`` gives the intrinsics; when None they come from ``hfov_deg`` and each
    frame's size. Smoothing runs in frame order on the calling thread.
    ``say_notices`` writes what stopped the try-on (no person, no feet, ...) on the
    frame; a caller with its own UI turns it off and reads ``FrameResult.notices``.
    ``landmark_every``: run Pose on every n-th frame and draw the others with the last
    landmarks (1: every frame); None decides per frame: when the trackers fall behind
    ``target_fps`` (their recent inference time over the workers exceeds the frame
    budget), every other frame skips Pose, so the mirror keeps its frame rate on a busy
    machine at the cost of landmarks one frame old on the skipped frames.
    """

    def __init__(self, tryon: TryOn, trackers: BodyTracker | Sequence[BodyTracker], *,
                 camera: Intrinsics | None = None, hfov_deg: float = 60.0, pipelined: bool = True,
                 say_notices: bool = True, landmark_every: int | None = 1, target_fps: float = 30.0) -> None:
        self.tryon = tryon
        self.trackers = [trackers] if isinstance(trackers, BodyTracker) else list(trackers)
        if not self.trackers:
            raise ArInputError("the mirror needs at least one tracker")
        self.smoother = self.trackers[0].smoother
        self.camera, self.hfov_deg, self.pipelined = camera, hfov_deg, pipelined
        self.say_notices = say_notices
        self.needs = getattr(tryon, "needs", "feet")
        if landmark_every is not None and landmark_every < 1:
            raise ArInputError(f"landmark_every must be >= 1 or None (adaptive); got {landmark_every}")
        self.landmark_every, self.target_fps = landmark_every, target_fps
        self._landmark_ms = 0.0  # recent Pose inference time (exponential mean), for the adaptive skip
        self._skipped = 0

    def _camera_for(self, image: np.ndarray) -> Intrinsics:
        height, width = image.shape[:2]
        if self.camera is None or (self.camera.width, self.camera.height) != (width, height):
            self.camera = Intrinsics.from_fov(width, height, self.hfov_deg)
        return self.camera

    def _skip(self, position: int) -> bool:
        """Whether the frame at ``position`` in the stream is drawn with the previous landmarks."""
        if self.landmark_every is not None:
            return position % self.landmark_every != 0
        budget_ms = 1000.0 * len(self.trackers) / self.target_fps
        return position % 2 == 1 and self._landmark_ms > budget_ms

    def _detect(self, tracker: BodyTracker, frame: Frame, position: int = 0) -> tuple[Frame, Detection | None, float, float]:
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ArInputError(f"frame {frame.index}: expected an (H, W, 3) uint8 BGR image; got {image.shape} {image.dtype}")
        started = time.perf_counter()
        if self._skip(position):
            return frame, None, 0.0, started
        detection = tracker.detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        elapsed = (time.perf_counter() - started) * 1000.0
        self._landmark_ms = elapsed if self._landmark_ms == 0.0 else 0.8 * self._landmark_ms + 0.2 * elapsed
        return frame, detection, elapsed, started

    def _draw(self, frame: Frame, observation: BodyObservation, landmarks_ms: float) -> FrameResult:
        started = time.perf_counter()
        image, layer = frame.image, None
        if observation.tracking:
            camera = self._camera_for(frame.image)
            render_on = getattr(self.tryon, "render_on", None)
            # A try-on that reads the frame (its light, the old shoes to take out) returns the
            # frame to draw on as well as its layer.
            if render_on is not None:
                image, layer = render_on(image, observation, camera, live=not self.trackers[0].static_image_mode)
            else:
                layer = self.tryon.render(observation, camera)
        rendered = time.perf_counter()
        if layer is not None:
            image = image.copy() if image is frame.image else image
            composite_patch(image, layer.rgba, layer.x0, layer.y0)
        notices = assess(observation, image.shape, self.needs)
        if self.say_notices and notices:
            image = image.copy() if image is frame.image else image
            draw_notices(image, notices)
        done = time.perf_counter()
        return FrameResult(frame.index, image, observation.state, layer is not None, landmarks_ms,
                           (rendered - started) * 1000.0, (done - rendered) * 1000.0, notices)

    def _detections(self, frames: Iterable[Frame]):
        if not self.pipelined:
            return (self._detect(self.trackers[0], frame, i) for i, frame in enumerate(frames))
        return iter(_WorkerPool(self.trackers, frames, self._detect))

    def run(self, frames: Iterable[Frame], sink: Callable[[FrameResult], None] | None = None) -> MirrorStats:
        """Process every frame, hand each result to ``sink``, and return the figures."""
        stats = MirrorStats()
        cpu_started = time.process_time()
        started = last = time.perf_counter()
        last_detection: Detection | None = None
        self._skipped = 0
        for frame, detection, landmarks_ms, detect_started in self._detections(frames):
            if detection is None:  # skipped: the last landmarks, at this frame's time
                self._skipped += 1
                detection = last_detection or Detection(np.zeros(frame.image.shape[:2], np.float32))
            last_detection = detection
            smooth_started = time.perf_counter()
            observation = self.smoother(detection, frame.time_s)
            landmarks_ms += (time.perf_counter() - smooth_started) * 1000.0
            result = self._draw(frame, observation, landmarks_ms)
            if sink is not None:
                sink(result)
            now = time.perf_counter()
            stats.add(result, (now - last) * 1000.0, (now - detect_started) * 1000.0)
            last = now
        stats.skipped_frames = self._skipped
        stats.wall_s = time.perf_counter() - started
        stats.cpu_s = time.process_time() - cpu_started
        return stats
