"""The mirror loop: tracking on a worker thread, rendering and compositing on the
calling thread, so landmark inference of frame i+1 overlaps the drawing of frame i.

MediaPipe releases the GIL inside its graph, and the moderngl context must stay
on the thread that made it, hence this split. Per-frame timings feed
:class:`MirrorStats`, which the CLI and the benchmark print.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from tryon.ar.camera import CameraIntrinsics
from tryon.ar.composite import composite_patch
from tryon.ar.render import RenderedLayer
from tryon.ar.sources import Frame
from tryon.ar.tracking import BodyObservation, BodyTracker, TrackingState

_LOGGER = logging.getLogger(__name__)
_END = object()


class TryOn(Protocol):
    """Anything that turns an observation into a layer: shoes or a garment."""

    def render(self, observation: BodyObservation, camera: CameraIntrinsics) -> RenderedLayer | None: ...


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
    wall_s: float = 0.0
    frame_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=lambda: {"landmarks": [], "render": [], "composite": []})

    def add(self, result: FrameResult, interval_ms: float, latency_ms: float) -> None:
        self.frames += 1
        self.person_frames += result.state is TrackingState.TRACKING
        self.overlay_frames += result.overlay
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
            "fps": round(self.frames / self.wall_s, 2) if self.wall_s > 0 else 0.0,
            "frame_ms": _percentiles(self.frame_ms[cut:]),
            "latency_ms": _percentiles(self.latency_ms[cut:]),
            "stages_ms": {name: _percentiles(values[cut:]) for name, values in self.stages.items()},
        }


class Mirror:
    """Runs frames through tracking, a try-on and compositing.

    ``camera`` gives the intrinsics; when None they come from ``hfov_deg`` and each
    frame's size. ``pipelined`` runs tracking on a worker thread (one frame ahead).
    """

    def __init__(self, tryon: TryOn, tracker: BodyTracker, *, camera: CameraIntrinsics | None = None,
                 hfov_deg: float = 60.0, pipelined: bool = True) -> None:
        self.tryon, self.tracker = tryon, tracker
        self.camera, self.hfov_deg, self.pipelined = camera, hfov_deg, pipelined

    def _camera_for(self, image: np.ndarray) -> CameraIntrinsics:
        height, width = image.shape[:2]
        if self.camera is None or (self.camera.width, self.camera.height) != (width, height):
            self.camera = CameraIntrinsics.from_fov(width, height, self.hfov_deg)
        return self.camera

    def _track(self, frame: Frame) -> tuple[Frame, BodyObservation, float, float]:
        started = time.perf_counter()
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        observation = self.tracker.process(rgb, frame.time_s)
        return frame, observation, (time.perf_counter() - started) * 1000.0, started

    def _draw(self, tracked: tuple[Frame, BodyObservation, float, float]) -> FrameResult:
        frame, observation, landmarks_ms, _ = tracked
        started = time.perf_counter()
        layer = self.tryon.render(observation, self._camera_for(frame.image)) if observation.tracking else None
        rendered = time.perf_counter()
        image = frame.image
        if layer is not None:
            image = image.copy()
            composite_patch(image, layer.rgba, layer.x0, layer.y0)
        done = time.perf_counter()
        return FrameResult(frame.index, image, observation.state, layer is not None, landmarks_ms,
                           (rendered - started) * 1000.0, (done - rendered) * 1000.0)

    def _tracked(self, frames: Iterable[Frame]):
        if not self.pipelined:
            yield from (self._track(frame) for frame in frames)
            return
        handoff: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()

        def work() -> None:
            try:
                for frame in frames:
                    item = self._track(frame)
                    while not stop.is_set():
                        try:
                            handoff.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                handoff.put(_END)
            except BaseException as exc:  # handed to the caller's thread and raised there
                handoff.put(exc)

        worker = threading.Thread(target=work, name="mirror-tracking", daemon=True)
        worker.start()
        try:
            while (item := handoff.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join(timeout=5.0)

    def run(self, frames: Iterable[Frame], sink: Callable[[FrameResult], None] | None = None) -> MirrorStats:
        """Process every frame, hand each result to ``sink``, and return the figures."""
        stats = MirrorStats()
        started = last = time.perf_counter()
        for tracked in self._tracked(frames):
            result = self._draw(tracked)
            if sink is not None:
                sink(result)
            now = time.perf_counter()
            stats.add(result, (now - last) * 1000.0, (now - tracked[3]) * 1000.0)
            last = now
        stats.wall_s = time.perf_counter() - started
        return stats
