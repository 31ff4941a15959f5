"""Kiosk UI responsiveness: frame gaps of the pygame loop while a foot scan runs, and while the AR mirror runs.

Starts ``omnifit serve`` on a fresh SQLite file, opens the kiosk headless
(``SDL_VIDEODRIVER=dummy``, 1280x800), and ``--scans`` times taps *Scan my feet* and
runs the loop as fast as a 30 fps kiosk would until the scan's result screen shows.
Then, with ``--mirror-seconds`` > 0 and a mirror video (``--mirror-video``, default the
squats clip in ``../shared/data/people``), it opens the AR mirror on a shoe from the size
screen and runs the loop for that long: the mirror works in the kiosk's work process and
the screen draws each new picture. Each frame's time is the loop's own work (events,
outcomes, drawing), ``gap_ms`` the time between frame starts (what a shopper sees as
stutter), and the mirror's ``fps`` the new mirror pictures per second that reached the
screen (after ``WARM_S`` of start-up). Prints ONE JSON object::

    {"scan": {"scans", "scan_s_median", "frame_ms": {...}, "gap_ms": {"p50", "p95", "max"}, "frames"},
     "mirror": {"seconds", "gap_ms": {"p50", "p95", "max"}, "fps", "pictures"} | null,
     "idle": {"seconds", "gap_ms": {...}},   # the same loop with nothing beside it: the machine's own noise
     "machine"}

    .venv/bin/python -m benchmarks.kiosk_frames --scans 3 --mirror-seconds 20
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

FRAME_S = 1 / 30
WARM_S = 5.0  # the mirror's start-up (models loading in the work process) is not what a shopper waits on per frame


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _scan_once(app) -> tuple[float, list[float], list[float]]:
    """One scan from the attract screen; (seconds, frame times ms, gaps between frame starts ms)."""
    frames: list[float] = []
    gaps: list[float] = []
    app.tap("Scan my feet")
    started = last = time.perf_counter()
    while app.screen.name == "scan" and app.screen.failed is None:
        begin = time.perf_counter()
        gaps.append((begin - last) * 1000)
        last = begin
        app.step([])
        frames.append((time.perf_counter() - begin) * 1000)
        time.sleep(max(0.0, FRAME_S - (time.perf_counter() - begin)))
        if begin - started > 300:
            raise TimeoutError("the scan did not finish within 300 s")
    if app.screen.name == "scan":
        raise RuntimeError(f"the scan failed: {app.screen.failed}")
    return time.perf_counter() - started, frames, gaps[1:]


def _figures(values: list[float]) -> dict[str, float]:
    return {"p50": _percentile(values, 0.5), "p95": _percentile(values, 0.95), "max": round(max(values), 2)}


def _run_loop(app, seconds: float) -> list[float]:
    """The UI loop at 30 fps for ``seconds``; the gaps between frame starts, ms."""
    gaps: list[float] = []
    started = last = time.perf_counter()
    while time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        gaps.append((begin - last) * 1000)
        last = begin
        app.step([])
        time.sleep(max(0.0, FRAME_S - (time.perf_counter() - begin)))
    return gaps[1:]


def _mirror(app, seconds: float) -> dict:
    """Open the mirror on the first shoe's first size and run the loop; the screen's figures."""
    app.tap("Browse shoes")
    app.wait_idle(30)
    app.tap(app.screen.page.products[0].name)
    app.wait_idle(60)
    app.tap(app.screen.variants()[4].size_label)
    app.tap("Try it on")
    screen = app.screen
    if screen.name != "mirror":
        raise RuntimeError(f"expected the mirror screen, got {screen.name}")
    app.wait_for(lambda: screen.frame is not None or screen.problem is not None, 120)
    if screen.problem is not None:
        raise RuntimeError(f"the mirror did not start: {screen.problem}")
    _run_loop(app, WARM_S)
    before = screen.received
    gaps = _run_loop(app, seconds)
    pictures = screen.received - before
    app.tap("Back")  # stops the mirror in the work process
    return {"seconds": seconds, "gap_ms": _figures(gaps), "fps": round(pictures / seconds, 2), "pictures": pictures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=3)
    parser.add_argument("--mirror-seconds", type=float, default=20.0)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--mirror-video", type=Path, default=None)
    args = parser.parse_args()
    from omnifit.shared import SHARED_DATA

    video = args.mirror_video or SHARED_DATA / "people" / "tfjs_woman_squats_10s.mp4"
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

    from cloud.admin import issue_device_token
    from cloud.testing import ServerProcess
    from kiosk.app.app import KioskApp
    from kiosk.app.config import KioskConfig

    with tempfile.TemporaryDirectory(prefix="omnifit-kiosk-bench-") as folder:
        db_url = f"sqlite:///{folder}/cloud.sqlite"
        server = ServerProcess(db_url).start()
        try:
            mirror_camera = f"video:{video}" if args.mirror_seconds > 0 and video.is_file() else ""
            config = KioskConfig(targets=(server.target,), store_id="sh-jingan", lang="en",
                                 device_token=issue_device_token(db_url, "sh-jingan"), data_dir=Path(folder) / "kiosk",
                                 mirror_camera=mirror_camera)
            app = KioskApp(config)
            try:
                app.wait_idle(30)
                idle = _run_loop(app, args.idle_seconds)  # the baseline: the loop with nothing running beside it
                seconds, frames, gaps = [], [], []
                for _ in range(args.scans):
                    scan_s, scan_frames, scan_gaps = _scan_once(app)
                    seconds.append(scan_s)
                    frames += scan_frames
                    gaps += scan_gaps
                    app.reset_session()
                mirror = _mirror(app, args.mirror_seconds) if mirror_camera else None
            finally:
                app.close()
        finally:
            server.stop()
    print(json.dumps({
        "scan": {"scans": args.scans, "scan_s_median": round(statistics.median(seconds), 3) if seconds else None,
                 "frame_ms": _figures(frames) if frames else None, "gap_ms": _figures(gaps) if gaps else None,
                 "frames": len(frames)},
        "mirror": mirror,
        "idle": {"seconds": args.idle_seconds, "gap_ms": _figures(idle)},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }))


if __name__ == "__main__":
    main()
