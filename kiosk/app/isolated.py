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


def start_child(progress_queue) -> None:
    """The pool's initializer: keep the queue progress reports go to."""
    global _progress_queue
    _progress_queue = progress_queue


def run_job(job: int, work: Callable[..., Any], reports_progress: bool) -> Any:
    """Run ``work(progress)`` (or ``work()``) in the child; ``work`` must be picklable (a module-level function or a partial)."""
    if not reports_progress:
        return work()

    def progress(stage: str, fraction: float) -> None:
        _progress_queue.put((job, stage, fraction))

    return work(progress)


def warm_up() -> None:
    """Load the scanning and face stacks so the shopper's first scan is as quick as the next."""
    import payments.face.capture  # noqa: F401
    import scanning.pipeline  # noqa: F401
    import tryon.fit  # noqa: F401
