"""The kiosk's work process: scans, face captures and rig calibrations run here, not in the UI process.

They are heavy (reconstruction, rendering, dlib, MediaPipe) and much of that holds
Python's GIL, which would make the UI loop stutter; and a crash in native code
(a camera driver, Open3D) must not take the kiosk's screen down with it. Progress
reports travel back on a multiprocessing queue as ``(job, stage, fraction)``.
This module imports nothing heavy: the child loads what the work needs when it runs.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_progress_queue = None  # set in the child by ``start_child``
_frames_queue = None  # live pictures (the AR mirror) for the UI, newest wins
_streaming = None  # the id of the streaming job the UI wants running (0: none); any other stops


def start_child(progress_queue, frames_queue=None, streaming=None) -> None:
    """The pool's initializer: keep the queues reports and frames go to, and the streaming job's id."""
    global _progress_queue, _frames_queue, _streaming
    _progress_queue, _frames_queue, _streaming = progress_queue, frames_queue, streaming
    if frames_queue is not None:
        # Pictures nobody took are worthless: the child may exit without flushing them into the pipe
        # (otherwise it waits at exit for a reader that has stopped reading).
        frames_queue.cancel_join_thread()


def stop_requested(job: int) -> bool:
    """Whether the UI no longer wants streaming ``job`` (it left the mirror, or started another one)."""
    return _streaming is None or _streaming.value != job


def send_frame(job: int, payload: object) -> bool:
    """Hand a live picture to the UI without waiting: when the UI has not taken the last ones, this one is
    dropped (the mirror must never wait on the screen, and the screen shows only the newest)."""
    import queue

    if _frames_queue is None:
        return False
    try:
        _frames_queue.put_nowait((job, payload))
    except queue.Full:
        return False
    return True


def run_job(job: int, work: Callable[..., Any], reports_progress: bool) -> Any:
    """Run ``work(progress)`` (or ``work()``) in the child; ``work`` must be picklable (a module-level function or a partial)."""
    if not reports_progress:
        return work()

    def progress(stage: str, fraction: float) -> None:
        _progress_queue.put((job, stage, fraction))

    return work(progress)


def run_streaming_job(job: int, work: Callable[[int], Any]) -> Any:
    """Run ``work(job)``: a job that sends frames tagged with its id until ``stop_requested(job)``."""
    return work(job)


def warm_up() -> None:
    """Load the scanning and face stacks so the shopper's first scan is as quick as the next."""
    import payments.face.capture  # noqa: F401
    import scanning.pipeline  # noqa: F401
    import tryon.fit  # noqa: F401
